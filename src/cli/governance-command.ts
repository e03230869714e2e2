// `anonnet ledger propose|vote|proposals`: the ledger's governed parameters (docs/economy.md). Only the
// validators of the current epoch propose and vote, with their node identity, so `--key identity` is the
// default here. A parameter is named as in PARAM_ID (relayBond, creditsPerGiB, ...) and its value checked
// against its range before anything is signed (exit 2); the ledger's refusal (NOT_A_VALIDATOR,
// ALREADY_VOTED, UNKNOWN_PROPOSAL) exits 1 with its code. A proposal's id is its transaction's id.
import { toJson } from '@bufbuild/protobuf';
import { type Command, InvalidArgumentError } from 'commander';
import { ListProposalsResponseSchema } from '../api/gen/anonnet/v1/ledger_pb.js';
import { checkParam, PARAM_NAMES } from '../api/governance.ts';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson } from './api-command.ts';
import { parseHex32 } from './ledger-args.ts';
import { addSendFlags, printOutcome, runLedgerCommand, type SendFlags, signAndSend } from './ledger-send.ts';
import { shortId, table } from './table.ts';

function parseVote(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'yes') return true;
  if (t === 'no') return false;
  throw new InvalidArgumentError(`a vote is "yes" or "no", got "${text}"`);
}

const parseProposalId = (text: string): string => parseHex32(text, 'a proposal id');

function addPropose(ledger: Command): void {
  addSendFlags(
    ledger
      .command('propose')
      .description('propose a new value for a governed parameter (validators, with the node identity)')
      .argument('<param>', `the parameter: ${PARAM_NAMES.join(', ')}`)
      .argument('<value>', 'a whole number within the parameter’s range'),
    'identity',
  ).action((param: string, value: string, flags: SendFlags) =>
    runLedgerCommand(async () => {
      const p = checkParam(param, value);
      if (!p.ok) throw new InvalidArgumentError(p.message);
      const { outcome } = await signAndSend(flags, ({ key }) => ({
        kind: 'PARAM_PROPOSAL',
        sender: key.publicKey,
        paramId: p.paramId,
        value: p.value,
        nonce: 0n,
        fee: 0n,
      }));
      const json = flags.json === true;
      if (!json && outcome.status !== 'refused')
        process.stdout.write(
          `proposal ${outcome.txId}: ${p.name} = ${p.value} (validators: anonnet ledger vote ${outcome.txId} yes|no)\n`,
        );
      printOutcome(outcome, json, { proposalId: outcome.txId });
    }),
  );
}

function addVote(ledger: Command): void {
  addSendFlags(
    ledger
      .command('vote')
      .description('vote on a parameter proposal (validators, with the node identity)')
      .argument('<proposal>', 'the proposal id, 64 hex digits (anonnet ledger proposals)', parseProposalId)
      .argument('<vote>', 'yes or no', parseVote),
    'identity',
  ).action((proposal: string, yes: boolean, flags: SendFlags) =>
    runLedgerCommand(async () => {
      const { outcome, addr, client } = await signAndSend(flags, ({ key }) => ({
        kind: 'PARAM_VOTE',
        sender: key.publicKey,
        proposalId: new Uint8Array(Buffer.from(proposal, 'hex')),
        yes,
        nonce: 0n,
        fee: 0n,
      }));
      // Once committed, a proposal that is no longer open was passed by this vote.
      let extra: Record<string, boolean> = {};
      if (outcome.status === 'committed') {
        const open = await call(addr, (signal) => client.listProposals({}, { signal }));
        extra = { passed: !open.proposals.some((x) => x.id === proposal) };
      }
      printOutcome(outcome, flags.json === true, extra);
      if (extra['passed'] === true && flags.json !== true)
        process.stdout.write('the proposal passed: the parameter has its new value\n');
    }),
  );
}

function addProposals(ledger: Command): void {
  addApiFlags(ledger.command('proposals').description('the open parameter proposals and their votes')).action(
    (flags: ApiFlags) =>
      runLedgerCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const r = await call(addr, (signal) => client.listProposals({}, { signal }));
        if (flags.json)
          return printJson(toJson(ListProposalsResponseSchema, r, { alwaysEmitImplicit: true }));
        if (r.proposals.length === 0) return void process.stdout.write('no open proposals\n');
        const rows = r.proposals.map((p) => [
          p.id,
          p.param,
          p.current || '-',
          p.value,
          `${p.yes}/${p.needed}`,
          String(p.no),
          shortId(p.proposer),
          String(p.height),
        ]);
        process.stdout.write(
          table(['ID', 'PARAM', 'NOW', 'PROPOSED', 'YES', 'NO', 'PROPOSER', 'HEIGHT'], rows),
        );
      }),
  );
}

export function addGovernanceCommands(ledger: Command): void {
  addPropose(ledger);
  addVote(ledger);
  addProposals(ledger);
}
