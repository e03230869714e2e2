// What the `anonnet ledger` commands that send a transaction share: the key and fee flags, signing with the
// chosen key of DATA_DIR, submitting, the optional wait, the printed outcome, and the exit codes (0 ok,
// 1 refused, failed or no daemon, 2 bad usage).
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Tx } from '../wire/ledger-tx.ts';
import {
  type ApiFlags,
  CliError,
  type ControlClient,
  controlClient,
  type DaemonAddress,
  locateDaemon,
} from './api-client.ts';
import { addApiFlags, printJson } from './api-command.ts';
import { parseFee, parseNonce, parseTimeoutMs } from './ledger-args.ts';
import {
  accountHex,
  accountState,
  buildTx,
  type KeyChoice,
  LedgerCliError,
  loadSigner,
  type Signer,
  submit,
  type TxOutcome,
  waitForTx,
} from './ledger-flow.ts';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const DEFAULT_FEE = 1n;
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface KeyFlags extends ApiFlags {
  key: KeyChoice;
}
export interface SendFlags extends KeyFlags {
  fee?: bigint;
  nonce?: bigint;
  wait?: boolean;
  timeout?: number;
}

/** Like runApiCommand, plus usage errors found after parsing (exit 2) and ledger failures (exit 1). */
export async function runLedgerCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`anonnet: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (err instanceof CliError || err instanceof LedgerCliError) {
      process.stderr.write(`anonnet: ${err.message}\n`);
      process.exitCode = EXIT_FAILED;
      return;
    }
    throw err;
  }
}

/** --key wallet|identity: which key of DATA_DIR signs (or, for balance, whose account). */
export function addKeyFlag(cmd: Command, defaultKey: KeyChoice = 'wallet'): Command {
  return cmd.addOption(
    new Option('--key <key>', "sign with the node's wallet, or its node identity (a relay's account)")
      .choices(['wallet', 'identity'])
      .default(defaultKey),
  );
}

export function addSendFlags(cmd: Command, defaultKey: KeyChoice = 'wallet'): Command {
  return addKeyFlag(addApiFlags(cmd), defaultKey)
    .option('--fee <credits>', `the fee, burned (default ${DEFAULT_FEE})`, parseFee)
    .option('--nonce <n>', "the transaction's nonce (default: the account's nonce + 1)", parseNonce)
    .option('--wait', 'wait until the transaction is committed or refused')
    .option('--timeout <ms>', `how long --wait waits (default ${DEFAULT_TIMEOUT_MS})`, parseTimeoutMs);
}

export type TxBuilder = (
  signer: Signer,
  ctx: { addr: DaemonAddress; client: ControlClient },
) => Tx | Promise<Tx>;

/** Signs with the chosen key, submits, optionally waits, and prints the outcome. */
export async function send(flags: SendFlags, body: TxBuilder): Promise<void> {
  const { outcome } = await signAndSend(flags, body);
  printOutcome(outcome, flags.json === true);
}

/** Signs with the chosen key, submits and optionally waits; prints the tx id (not with --json). */
export async function signAndSend(
  flags: SendFlags,
  body: TxBuilder,
): Promise<{ outcome: TxOutcome; addr: DaemonAddress; client: ControlClient }> {
  const addr = locateDaemon(flags);
  const client = controlClient(addr);
  const signer = loadSigner(addr.dataDir, flags.key);
  const sender = signer.key.publicKey;
  const nonce = flags.nonce ?? (await accountState(addr, client, accountHex(sender))).nonce + 1n;
  const tx: Tx = { ...(await body(signer, { addr, client })), nonce, fee: flags.fee ?? DEFAULT_FEE };
  const signed = buildTx(signer.key, tx);
  let outcome = await submit(addr, client, signed);
  if (!flags.json) process.stdout.write(`tx ${outcome.txId} (nonce ${nonce}, fee ${tx.fee})\n`);
  if (outcome.status === 'pending' && flags.wait) {
    outcome = await waitForTx(addr, client, outcome.txId, flags.timeout ?? DEFAULT_TIMEOUT_MS);
  }
  return { outcome, addr, client };
}

/** The outcome as text (exit 1 when refused or timed out), or as JSON with `extra` fields. */
export function printOutcome(
  o: TxOutcome,
  json: boolean,
  extra: Record<string, string | boolean> = {},
): void {
  const failed = o.status === 'refused' || o.status === 'timeout';
  if (failed) process.exitCode = EXIT_FAILED;
  if (json) {
    return printJson({
      txId: o.txId,
      status: o.status,
      ...(o.height !== undefined ? { height: o.height.toString() } : {}),
      ...(o.refusalCode !== undefined ? { refusalCode: o.refusalCode } : {}),
      ...(o.message !== undefined ? { message: o.message } : {}),
      ...extra,
    });
  }
  if (o.status === 'committed') process.stdout.write(`committed at height ${o.height ?? 0n}\n`);
  else if (o.status === 'refused')
    process.stderr.write(
      `anonnet: transaction refused: ${o.message ?? o.refusalCode ?? 'no reason given'}\n`,
    );
  else if (o.status === 'timeout') process.stderr.write(`anonnet: transaction ${o.txId} ${o.message}\n`);
  else process.stdout.write(`${o.status} (anonnet ledger tx ${o.txId}, or --wait)\n`);
}
