// `anonnet wallet [account]`: this node's wallet account (or any account) through the running daemon's
// control API: its balance and nonce, and what relays paying to it earned: each relay whose payout is this
// account, its lifetime earnings and its last settlement. Exit 1 when no daemon or no ledger answers.
import { type JsonValue, toJson } from '@bufbuild/protobuf';
import type { Command, CommanderError } from 'commander';
import { type LedgerRelay, RelaySettlementSchema } from '../api/gen/anonnet/v1/ledger_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson } from './api-command.ts';
import { parseAccount } from './ledger-args.ts';
import { accountState } from './ledger-flow.ts';
import { EXIT_USAGE, runLedgerCommand } from './ledger-send.ts';
import { isDecimal } from './relay-command.ts';
import { shortId, table } from './table.ts';

export interface WalletView {
  readonly account: string;
  /** Whether it is this node's own wallet (no account argument). */
  readonly own: boolean;
  readonly balance: bigint;
  readonly nonce: bigint;
  readonly exists: boolean;
  /** Relays whose payout account it is. */
  readonly relays: readonly LedgerRelay[];
}

/** Σ earned of the relays paying to the account. */
export function walletEarned(v: WalletView): bigint {
  return v.relays.reduce((sum, r) => sum + (isDecimal(r.earned) ? BigInt(r.earned) : 0n), 0n);
}

export function walletJson(v: WalletView): JsonValue {
  return {
    account: v.account,
    balance: v.balance.toString(),
    nonce: v.nonce.toString(),
    exists: v.exists,
    earned: walletEarned(v).toString(),
    relays: v.relays.map((r) => ({
      account: r.account,
      earned: r.earned,
      bond: r.bond,
      lastSettlement:
        r.lastSettlement === undefined
          ? null
          : toJson(RelaySettlementSchema, r.lastSettlement, { alwaysEmitImplicit: true }),
    })),
  };
}

export function walletText(v: WalletView): string {
  const lines = [
    `Wallet    ${v.account}${v.own ? " (this node's wallet)" : ''}`,
    `Balance   ${v.balance} credits${v.exists ? '' : ' (not on the ledger yet)'}    nonce ${v.nonce}`,
  ];
  if (v.relays.length === 0) {
    lines.push('Earnings  none: no relay names this account as its payout');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `Earnings  ${walletEarned(v)} credits from ${v.relays.length} relay${v.relays.length === 1 ? '' : 's'} paying to this account`,
  );
  const rows = v.relays.map((r) => {
    const s = r.lastSettlement;
    return [
      shortId(r.account),
      r.earned,
      s === undefined ? '-' : String(s.epoch),
      s === undefined ? '-' : String(s.claimedCells),
      s === undefined ? '-' : String(s.paidCells),
      s === undefined ? '-' : `${s.qualityPermille}‰`,
      s === undefined ? '-' : s.due,
      s === undefined ? '-' : s.penalised ? 'penalised' : s.paid,
    ];
  });
  const headers = ['RELAY', 'EARNED', 'LAST EPOCH', 'CLAIMED', 'PAID CELLS', 'QUALITY', 'DUE', 'PAID'];
  return `${lines.join('\n')}\n${table(headers, rows)}`;
}

export function addWalletCommand(program: Command): void {
  addApiFlags(
    program
      .command('wallet')
      .description("this node's wallet: balance, and the earnings of relays that pay to it")
      .argument('[account]', "another account, 64 hex digits (default: this node's wallet)", parseAccount)
      // A usage error (a bad account) exits 2, as the ledger commands do.
      .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE)),
  ).action((account: string | undefined, flags: ApiFlags) =>
    runLedgerCommand(async () => {
      const addr = locateDaemon(flags);
      const client = controlClient(addr);
      const who = account ?? (await call(addr, (signal) => client.getStatus({}, { signal }))).wallet;
      const a = await accountState(addr, client, who);
      const listed = await call(addr, (signal) => client.listLedgerRelays({}, { signal }));
      const view: WalletView = {
        account: who,
        own: account === undefined,
        ...a,
        relays: listed.relays.filter((r) => r.payout === who),
      };
      if (flags.json) return printJson(walletJson(view));
      process.stdout.write(walletText(view));
    }),
  );
}
