// The wallet: the Ed25519 key of this user's ledger account, apart from the node identity so that
// nothing public joins the account to the node (DESIGN.md decision 8, docs/economy.md "Roles and keys").
// Created on first start, stored mode 0600 in DATA_DIR/wallet.key, never logged. Its proof of work (what
// CLAIM_GENESIS asks of the sender key) is kept beside it with the difficulty it was solved for; it may be
// missing (a node without a ledger made the wallet) and is then solved when wanted (solveWalletPow).
import { readFileSync } from 'node:fs';
import { generateIdentity, type Identity, identityFromSeed } from '../crypto/identity.ts';
import { verifyPow } from '../crypto/pow.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { DaemonError } from './errors.ts';
import { solvePowAsync } from './identity-file.ts';

export interface WalletPow {
  readonly nonce: bigint;
  /** The difficulty the nonce was solved for (it meets every lower one too). */
  readonly difficulty: number;
}

export interface Wallet {
  readonly key: Identity;
  /** Absent until solved for some difficulty. */
  readonly pow: WalletPow | undefined;
}

interface WalletFileV1 {
  version: 1;
  seed: string;
  powNonce?: string;
  powDifficulty?: number;
}

function damaged(path: string, why: string): DaemonError {
  return new DaemonError(
    'WALLET_FILE',
    `wallet file ${path} is damaged (${why}); restore it from a backup (moving it away makes a new, empty account)`,
  );
}

function parse(text: string, path: string): Wallet {
  let v: Partial<WalletFileV1>;
  try {
    v = JSON.parse(text) as Partial<WalletFileV1>;
  } catch {
    throw damaged(path, 'not JSON');
  }
  if (v.version !== 1 || typeof v.seed !== 'string' || !/^[0-9a-f]{64}$/.test(v.seed))
    throw damaged(path, 'bad fields');
  const key = identityFromSeed(Buffer.from(v.seed, 'hex'));
  if (v.powNonce === undefined && v.powDifficulty === undefined) return { key, pow: undefined };
  if (
    typeof v.powNonce !== 'string' ||
    !/^\d{1,20}$/.test(v.powNonce) ||
    typeof v.powDifficulty !== 'number' ||
    !Number.isInteger(v.powDifficulty) ||
    v.powDifficulty < 0 ||
    v.powDifficulty > 64
  )
    throw damaged(path, 'bad proof of work');
  const pow = { nonce: BigInt(v.powNonce), difficulty: v.powDifficulty };
  // A nonce that does not verify is worth nothing: forget it rather than send a claim bound to fail.
  return { key, pow: verifyPow(key.publicKey, pow.nonce, pow.difficulty) ? pow : undefined };
}

function save(path: string, wallet: Wallet): void {
  const file: WalletFileV1 = {
    version: 1,
    seed: Buffer.from(wallet.key.seed).toString('hex'),
    ...(wallet.pow === undefined
      ? {}
      : { powNonce: wallet.pow.nonce.toString(), powDifficulty: wallet.pow.difficulty }),
  };
  writeFileAtomic(path, `${JSON.stringify(file)}\n`, 0o600);
}

/** Reads an existing wallet, never creating one: for tools beside the daemon (the CLI). */
export function readWalletFile(path: string): Wallet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DaemonError('WALLET_FILE', `cannot read wallet file ${path}: ${(err as Error).message}`);
  }
  return parse(text, path);
}

/** The wallet at `path`, made (with no proof of work yet) when there is none. */
export function loadOrCreateWallet(path: string): Wallet & { readonly created: boolean } {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DaemonError('WALLET_FILE', `cannot read wallet file ${path}: ${(err as Error).message}`);
  }
  if (text !== undefined) return { ...parse(text, path), created: false };
  const wallet: Wallet = { key: generateIdentity(), pow: undefined };
  save(path, wallet);
  return { ...wallet, created: true };
}

/**
 * The wallet with a proof of work meeting `difficulty`: the stored one when it does, else solved in
 * slices (the event loop and an abort are never held up long) and saved to `path`.
 */
export async function solveWalletPow(
  path: string,
  wallet: Wallet,
  difficulty: number,
  signal?: AbortSignal,
): Promise<Wallet> {
  if (wallet.pow !== undefined && wallet.pow.difficulty >= difficulty) return wallet;
  const nonce = await solvePowAsync(wallet.key.publicKey, difficulty, signal);
  const solved: Wallet = { key: wallet.key, pow: { nonce, difficulty } };
  save(path, solved);
  return solved;
}
