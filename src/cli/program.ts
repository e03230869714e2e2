// The `anonnet` commands (entry point: main.ts).
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { addCircuitsCommand } from './circuits-command.ts';
import { addDashboardCommand } from './dashboard-command.ts';
import { addLedgerCommand } from './ledger-command.ts';
import { addNodeOptions, type NodeFlags, runNode } from './node-command.ts';
import { addPeersCommand } from './peers-command.ts';
import { addRelayCommand } from './relay-command.ts';
import { addRelaysCommand } from './relays-command.ts';
import { addStatusCommand } from './status-command.ts';
import { addTestnetOptions, runTestnet, type TestnetFlags } from './testnet-command.ts';
import { addWalletCommand } from './wallet-command.ts';

const program = new Command('anonnet')
  .description('AnonNet: a peer-to-peer anonymity network')
  .version(VERSION)
  .showHelpAfterError();

addNodeOptions(program.command('node').description('run the AnonNet daemon in the foreground')).action(
  (flags: NodeFlags) => runNode(flags),
);

addTestnetOptions(
  program.command('testnet').description('run a local AnonNet network of N daemons on 127.0.0.1'),
).action((flags: TestnetFlags) => runTestnet(flags));

// Commands that talk to a running daemon through its control API.
addStatusCommand(program);
addCircuitsCommand(program);
addPeersCommand(program);
addRelaysCommand(program);
addDashboardCommand(program);
addLedgerCommand(program);
addRelayCommand(program);
addWalletCommand(program);

await program.parseAsync(process.argv);
