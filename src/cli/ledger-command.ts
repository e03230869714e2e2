// `anonnet ledger status|balance|transfer|claim|tx|relays` (and propose|vote|proposals:
// governance-command.ts): the credit ledger through the running
// daemon's control API. Transactions are built and signed here with the node's wallet from DATA_DIR, or
// with its node identity (--key identity: a relay operator's account); the key stays in this process,
// only the signed bytes go to the daemon. Exit codes: 0 ok, 1 refused, failed or no daemon, 2 bad usage
// (a bad amount, account or option).
import { create, toJson } from '@bufbuild/protobuf';
import { type Command, type CommanderError, InvalidArgumentError } from 'commander';
import {
  BalanceSchema,
  LedgerStatusSchema,
  ListLedgerRelaysResponseSchema,
  type RelaySettlement,
  TransactionStatusSchema,
} from '../api/gen/anonnet/v1/ledger_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson } from './api-command.ts';
import { addGovernanceCommands } from './governance-command.ts';
import { parseAccount, parseAmount, parseTxId } from './ledger-args.ts';
import { accountHex, accountState, getTx, loadSigner } from './ledger-flow.ts';
import {
  addKeyFlag,
  addSendFlags,
  EXIT_USAGE,
  type KeyFlags,
  runLedgerCommand,
  type SendFlags,
  send,
} from './ledger-send.ts';
import { bytes, duration, shortId, table } from './table.ts';

interface TransferFlags extends SendFlags {
  to: string;
  amount: bigint;
}

const keyBytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

function addStatus(ledger: Command): void {
  addApiFlags(ledger.command('status').description('height, latest block and validators')).action(
    (flags: ApiFlags) =>
      runLedgerCommand(async () => {
        const addr = locateDaemon(flags);
        const client = controlClient(addr);
        const s = await call(addr, (signal) => client.getLedgerStatus({}, { signal }));
        if (flags.json) return printJson(toJson(LedgerStatusSchema, s, { alwaysEmitImplicit: true }));
        const age = s.latestBlockTime > 0 ? Date.now() - s.latestBlockTime : undefined;
        const lines = [
          `Height      ${s.height}`,
          `Latest      ${s.latestBlockHash === '' ? '- (no block yet)' : shortId(s.latestBlockHash)}${
            age !== undefined
              ? `  ${new Date(s.latestBlockTime).toISOString()} (${duration(Math.max(0, age))} ago)`
              : ''
          }`,
          `Validators  ${s.validators.length}: ${s.validators.map(shortId).join(', ') || '-'}`,
        ];
        const e = s.economy;
        if (e !== undefined)
          lines.push(
            `Epoch       ${e.epoch} (heights ${e.epochStartHeight}..${e.epochStartHeight + BigInt(e.epochLength) - 1n}), ${e.openClaims} claims to settle`,
            `Credits     pool ${e.pool}  minted ${e.minted}  burned ${e.burned}  bonded ${e.totalBonds}`,
            `Economy     ${e.creditsPerGib} credits/GiB, bond ${e.relayBond}, pool cap ${e.poolCapPerEpoch}/epoch, unmeasured ${bytes(Number(e.unmeasuredBandwidth))}/s`,
          );
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
  );
}

function addBalance(ledger: Command): void {
  addKeyFlag(
    addApiFlags(
      ledger
        .command('balance')
        .description("an account's balance and nonce")
        .argument(
          '[account]',
          "64 hex digits (default: this node's wallet, or --key identity)",
          parseAccount,
        ),
    ),
  ).action((account: string | undefined, flags: KeyFlags) =>
    runLedgerCommand(async () => {
      const addr = locateDaemon(flags);
      const client = controlClient(addr);
      const who = account ?? accountHex(loadSigner(addr.dataDir, flags.key).key.publicKey);
      const a = await accountState(addr, client, who);
      if (flags.json) {
        const msg = create(BalanceSchema, { account: who, balance: a.balance.toString(), nonce: a.nonce });
        return printJson(toJson(BalanceSchema, msg, { alwaysEmitImplicit: true }));
      }
      const lines = [
        `Account  ${who}${account === undefined ? ` (this node's ${flags.key})` : ''}`,
        `Balance  ${a.balance} credits${a.exists ? '' : ' (not on the ledger yet)'}`,
        `Nonce    ${a.nonce}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
}

function addTransfer(ledger: Command): void {
  addSendFlags(
    ledger
      .command('transfer')
      .description("send credits from this node's wallet (or its identity's account: --key identity)")
      .requiredOption('--to <account>', "the recipient's account, 64 hex digits", parseAccount)
      .requiredOption('--amount <credits>', 'whole credits, at least 1', parseAmount),
  ).action((flags: TransferFlags) =>
    runLedgerCommand(() =>
      send(flags, ({ key }) => {
        const sender = key.publicKey;
        if (accountHex(sender) === flags.to)
          throw new InvalidArgumentError(
            `--to is the sending account itself (this node's ${flags.key}; a transfer to oneself is refused)`,
          );
        return { kind: 'TRANSFER', sender, to: keyBytes(flags.to), amount: flags.amount, nonce: 0n, fee: 0n };
      }),
    ),
  );
}

function addClaim(ledger: Command): void {
  addSendFlags(
    ledger
      .command('claim')
      .description(
        "claim the wallet's one-time starting credits (CLAIM_GENESIS, with a proof of work on the key)",
      ),
  ).action((flags: SendFlags) =>
    runLedgerCommand(() =>
      send(flags, async (signer, { addr, client }) => {
        // The difficulty is the ledger's now (a governed parameter): the stored work may fall short.
        const s = await call(addr, (signal) => client.getLedgerStatus({}, { signal }));
        const powNonce = await signer.pow(s.powDifficulty);
        return { kind: 'CLAIM_GENESIS', sender: signer.key.publicKey, powNonce, nonce: 0n, fee: 0n };
      }),
    ),
  );
}

function addTxStatus(ledger: Command): void {
  addApiFlags(
    ledger
      .command('tx')
      .description("a transaction's status: pending, committed, refused or unknown")
      .argument('<txid>', 'the transaction id, 64 hex digits', parseTxId),
  ).action((id: string, flags: ApiFlags) =>
    runLedgerCommand(async () => {
      const addr = locateDaemon(flags);
      const client = controlClient(addr);
      if (flags.json) {
        const t = await call(addr, (signal) => client.getTransaction({ txId: id }, { signal }));
        return printJson(toJson(TransactionStatusSchema, t, { alwaysEmitImplicit: true }));
      }
      const t = await getTx(addr, client, id);
      const detail =
        t.status === 'committed'
          ? ` at height ${t.height ?? 0n}`
          : t.status === 'refused'
            ? ` (${t.refusalCode ?? '?'})`
            : '';
      process.stdout.write(`Tx      ${t.txId}\nStatus  ${t.status}${detail}\n`);
    }),
  );
}

function addRelays(ledger: Command): void {
  addApiFlags(
    ledger
      .command('relays')
      .description('the relays registered on the ledger (the list clients choose from)'),
  ).action((flags: ApiFlags) =>
    runLedgerCommand(async () => {
      const addr = locateDaemon(flags);
      const client = controlClient(addr);
      const r = await call(addr, (signal) => client.listLedgerRelays({}, { signal }));
      if (flags.json)
        return printJson(toJson(ListLedgerRelaysResponseSchema, r, { alwaysEmitImplicit: true }));
      const rows = r.relays.map((x) => [
        shortId(x.account),
        x.roles.join(','),
        `${bytes(x.bandwidth)}/s`,
        x.measured ? `${bytes(Number(x.measuredBandwidth))}/s` : '-',
        x.reputation,
        x.bond,
        x.earned,
        settledText(x.lastSettlement),
        x.exitPolicySummary || '-',
        shortId(x.payout),
        String(x.height),
      ]);
      const headers = ['ACCOUNT', 'ROLES', 'CLAIMED', 'MEASURED', 'REP', 'BOND', 'EARNED', 'LAST SETTLED'];
      process.stdout.write(
        `${table([...headers, 'EXITS', 'PAYOUT', 'HEIGHT'], rows)}${r.relays.length} relays registered\n`,
      );
    }),
  );
}

/** "e12 paid 40/45" or "e12 penalised"; "-" when nothing was settled yet. */
export function settledText(s: RelaySettlement | undefined): string {
  if (s === undefined) return '-';
  return s.penalised ? `e${s.epoch} penalised` : `e${s.epoch} paid ${s.paid}/${s.due}`;
}

export function addLedgerCommand(program: Command): void {
  const ledger = program
    .command('ledger')
    .description(
      'the credit ledger: status, balances, transfers, transactions, registered relays, governance',
    )
    // Usage errors of the group and its subcommands (set before they are added: they inherit it) exit 2.
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  addStatus(ledger);
  addBalance(ledger);
  addTransfer(ledger);
  addClaim(ledger);
  addTxStatus(ledger);
  addRelays(ledger);
  addGovernanceCommands(ledger);
}
