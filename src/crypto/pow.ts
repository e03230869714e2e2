// Proof-of-work on an identity key, so that identities (and the credits each one starts with) cost
// something to mint:
//
//   hash = SHA-256( ASCII "anonnet-pow-v1" || publicKey (32) || nonce (u64 big-endian) )
//
// A nonce is valid at difficulty d when the hash starts with at least d zero bits (most significant bit
// of byte 0 first). Difficulty 0 always passes; 64 is the maximum. Pure: solvePow is a bounded loop, so a
// caller that must not block chunks it through `startNonce` / `maxIterations`.
import { hash } from 'node:crypto';
import { CryptoError } from './errors.ts';

export const POW_DOMAIN = 'anonnet-pow-v1';
export const MAX_POW_DIFFICULTY = 64;
/**
 * The network's default difficulty: 2^24 hashes expected, ~24 s of CPU on one core of the development
 * machines with this solver (`node bench/pow.ts`), so the 1000 identities behind 1M start-grant credits
 * cost ~6.7 core-hours with the stock client. A local test network passes a cheap one (`anonnet
 * testnet --pow-difficulty`, default 8). What this does not stop: docs/security.md section 11.
 */
export const DEFAULT_POW_DIFFICULTY = 24;
const PUBLIC_KEY_BYTES = 32;
const U64_MAX = (1n << 64n) - 1n;
const DOMAIN_BYTES = new TextEncoder().encode(POW_DOMAIN);

export interface SolvePowOptions {
  /** First nonce tried (default 0). */
  readonly startNonce?: bigint;
  /** Give up (return undefined) after this many nonces (default: until the u64 range ends). */
  readonly maxIterations?: number;
}

/** Number of leading zero bits of `hash`, most significant bit of byte 0 first. */
export function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The proof-of-work hash of one nonce. Throws CryptoError 'BAD_KEY' on a key that is not 32 bytes. */
export function powHash(publicKey: Uint8Array, nonce: bigint): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES)
    throw new CryptoError('BAD_KEY', 'a proof-of-work key is 32 bytes');
  const input = powInput(publicKey);
  input.view.setBigUint64(input.nonceOffset, nonce);
  return new Uint8Array(hash('sha256', input.bytes, 'buffer'));
}

/** True when `nonce` meets `difficulty` for `publicKey`; false for a bad key length or nonce range. */
export function verifyPow(publicKey: Uint8Array, nonce: bigint, difficulty: number): boolean {
  checkDifficulty(difficulty);
  if (difficulty === 0) return true;
  if (publicKey.length !== PUBLIC_KEY_BYTES || typeof nonce !== 'bigint' || nonce < 0n || nonce > U64_MAX) {
    return false;
  }
  return leadingZeroBits(powHash(publicKey, nonce)) >= difficulty;
}

/**
 * Searches nonces from `startNonce` upwards; returns the first that meets `difficulty`, or undefined when
 * `maxIterations` nonces (or the u64 range) ran out. Expected work: 2^difficulty hashes.
 */
export function solvePow(
  publicKey: Uint8Array,
  difficulty: number,
  opts: SolvePowOptions = {},
): bigint | undefined {
  checkDifficulty(difficulty);
  if (publicKey.length !== PUBLIC_KEY_BYTES)
    throw new CryptoError('BAD_KEY', 'a proof-of-work key is 32 bytes');
  const start = opts.startNonce ?? 0n;
  if (start < 0n || start > U64_MAX) throw new CryptoError('BAD_ARGUMENT', 'startNonce must be a u64');
  const maxIterations = opts.maxIterations ?? Number.POSITIVE_INFINITY;
  if (!(maxIterations >= 0)) throw new CryptoError('BAD_ARGUMENT', 'maxIterations must be >= 0');
  const input = powInput(publicKey);
  let nonce = start;
  for (let i = 0; i < maxIterations && nonce <= U64_MAX; i++, nonce++) {
    input.view.setBigUint64(input.nonceOffset, nonce);
    // The one-shot hash costs ~40% less per nonce than a createHash object.
    if (leadingZeroBits(hash('sha256', input.bytes, 'buffer')) >= difficulty) return nonce;
  }
  return undefined;
}

function checkDifficulty(difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_POW_DIFFICULTY) {
    throw new CryptoError(
      'BAD_DIFFICULTY',
      `proof-of-work difficulty must be an integer from 0 to ${MAX_POW_DIFFICULTY}, got ${difficulty}`,
    );
  }
}

function powInput(publicKey: Uint8Array): { bytes: Uint8Array; view: DataView; nonceOffset: number } {
  const bytes = new Uint8Array(DOMAIN_BYTES.length + PUBLIC_KEY_BYTES + 8);
  bytes.set(DOMAIN_BYTES, 0);
  bytes.set(publicKey, DOMAIN_BYTES.length);
  return { bytes, view: new DataView(bytes.buffer), nonceOffset: DOMAIN_BYTES.length + PUBLIC_KEY_BYTES };
}
