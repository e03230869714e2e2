// The steps of `anonnet ledger transfer|claim`: the signing key from the data directory (the wallet, or
// the node identity with --key identity), the account's next nonce, submit, and an optional wait until
// the transaction is committed or refused. A refusal is an answer here, not an exception: the command
// prints it (text or --json) and exits 1.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectError } from '@connectrpc/connect';
import type { Identity } from '../crypto/identity.ts';
import { verifyPow } from '../crypto/pow.ts';
import { files } from '../daemon/data-dir.ts';
import { DaemonError } from '../daemon/errors.ts';
import { readIdentityFile, solvePowAsync } from '../daemon/identity-file.ts';
import { readWalletFile, solveWalletPow } from '../daemon/wallet-file.ts';
import { CodedError } from '../wire/coded-error.ts';
import { type SignedTx, signTx, type Tx, txId } from '../wire/ledger-tx.ts';
import type { ControlClient, DaemonAddress } from './api-client.ts';
import { call } from './api-client.ts';

export class LedgerCliError extends CodedError<'NO_IDENTITY' | 'NO_WALLET' | 'BAD_ANSWER'> {
  override readonly name = 'LedgerCliError';
}

/** How often --wait asks for the transaction's status. */
export const POLL_INTERVAL_MS = 500;

export interface TxOutcome {
  readonly txId: string;
  /** pending | unknown | committed | refused, or timeout when --wait gave up. */
  readonly status: string;
  readonly height?: bigint;
  readonly refusalCode?: string;
  readonly message?: string;
}

export function loadNodeIdentity(dataDir: string): { identity: Identity; powNonce: bigint } {
  try {
    return readIdentityFile(join(dataDir, files.identity));
  } catch (err) {
    if (err instanceof DaemonError)
      throw new LedgerCliError(
        'NO_IDENTITY',
        `no usable identity in ${dataDir} (${err.message}); the daemon creates it on its first start`,
      );
    throw err;
  }
}

/** Which key signs: the wallet (the user's account) or the node identity (a relay's own account). */
export type KeyChoice = 'wallet' | 'identity';

export interface Signer {
  readonly key: Identity;
  readonly choice: KeyChoice;
  /** A proof-of-work nonce for the key at `difficulty` (the start-grant claim), solved if need be. */
  pow(difficulty: number, signal?: AbortSignal): Promise<bigint>;
}

/**
 * The signing key from DATA_DIR. The wallet's proof of work is solved now when it has none good enough
 * (a daemon without a ledger made the wallet, or the difficulty rose) and saved to the wallet file; the
 * identity's is solved in memory only (its file is the daemon's).
 */
export function loadSigner(dataDir: string, choice: KeyChoice): Signer {
  if (choice === 'identity') {
    const { identity, powNonce } = loadNodeIdentity(dataDir);
    return {
      key: identity,
      choice,
      pow: async (d, signal) =>
        verifyPow(identity.publicKey, powNonce, d) ? powNonce : solvePowAsync(identity.publicKey, d, signal),
    };
  }
  const path = join(dataDir, files.wallet);
  let wallet: ReturnType<typeof readWalletFile>;
  try {
    wallet = readWalletFile(path);
  } catch (err) {
    if (err instanceof DaemonError)
      throw new LedgerCliError(
        'NO_WALLET',
        `no usable wallet in ${dataDir} (${err.message}); the daemon creates it on its first start`,
      );
    throw err;
  }
  return {
    key: wallet.key,
    choice,
    pow: async (d, signal) => {
      const solved = await solveWalletPow(path, wallet, d, signal);
      if (solved.pow === undefined) throw new LedgerCliError('NO_WALLET', 'no proof of work was solved');
      return solved.pow.nonce;
    },
  };
}

export const accountHex = (key: Uint8Array): string => Buffer.from(key).toString('hex');

/** The anonnet-error-code of a failed call, or undefined for a transport failure. */
function apiCode(err: unknown): string | undefined {
  return ConnectError.from(err).metadata.get('anonnet-error-code') ?? undefined;
}

/** The account's balance and nonce; an account the ledger has never seen holds 0 at nonce 0. */
export async function accountState(
  addr: DaemonAddress,
  client: ControlClient,
  account: string,
): Promise<{ balance: bigint; nonce: bigint; exists: boolean }> {
  return call(addr, async (signal) => {
    try {
      const b = await client.getBalance({ account }, { signal });
      if (!/^\d+$/.test(b.balance))
        throw new LedgerCliError(
          'BAD_ANSWER',
          `the daemon sent a balance that is not a number: ${b.balance}`,
        );
      return { balance: BigInt(b.balance), nonce: b.nonce, exists: true };
    } catch (err) {
      if (apiCode(err) === 'NOT_FOUND') return { balance: 0n, nonce: 0n, exists: false };
      throw err;
    }
  });
}

/** Encodes and signs with the node's key (the key never leaves this process). */
export function buildTx(identity: Identity, tx: Tx): SignedTx {
  return signTx(tx, (msg) => identity.sign(msg));
}

/** Submits; a TX_REFUSED answer becomes a refused outcome, whose code is the message's leading CODE. */
export async function submit(
  addr: DaemonAddress,
  client: ControlClient,
  signed: SignedTx,
): Promise<TxOutcome> {
  const localId = accountHex(txId(signed.bytes));
  return call(addr, async (signal) => {
    try {
      const res = await client.submitTransaction({ tx: accountHex(signed.bytes) }, { signal });
      if (res.txId.toLowerCase() !== localId)
        throw new LedgerCliError('BAD_ANSWER', `the daemon answered tx id ${res.txId}, expected ${localId}`);
      return { txId: localId, status: 'pending' };
    } catch (err) {
      if (apiCode(err) !== 'TX_REFUSED') throw err;
      const message = ConnectError.from(err).rawMessage;
      const code = /^([A-Z][A-Z0-9_]+)\b/.exec(message)?.[1] ?? 'TX_REFUSED';
      return { txId: localId, status: 'refused', refusalCode: code, message };
    }
  });
}

export async function getTx(addr: DaemonAddress, client: ControlClient, id: string): Promise<TxOutcome> {
  const t = await call(addr, (signal) => client.getTransaction({ txId: id }, { signal }));
  return {
    txId: t.txId,
    status: t.status,
    ...(t.status === 'committed' ? { height: t.height } : {}),
    ...(t.status === 'refused' ? { refusalCode: t.refusalCode } : {}),
  };
}

/** Polls until committed or refused; `timeout` when the deadline passes first. */
export async function waitForTx(
  addr: DaemonAddress,
  client: ControlClient,
  id: string,
  timeoutMs: number,
  pollMs = POLL_INTERVAL_MS,
): Promise<TxOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await getTx(addr, client, id);
    if (t.status === 'committed' || t.status === 'refused') return t;
    const left = deadline - Date.now();
    if (left <= 0) return { txId: id, status: 'timeout', message: `still ${t.status} after ${timeoutMs} ms` };
    await sleep(Math.min(pollMs, left));
  }
}
