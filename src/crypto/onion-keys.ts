// Onion keys: the rotating, medium-term keys a relay publishes in its descriptor and that circuit
// handshakes run against. One onion key is a pair of an X25519 key and an ML-KEM-768 key (hybrid,
// post-quantum), valid over [validFrom, validUntil). Rotation rules: docs/protocol.md, "Onion keys".
//
// Private storage format (encodeOnionKeyPair), 117 bytes, big-endian:
//
//   +--------+---------+------------------+---------------+---------------+---------------+
//   | "ANOK" | version | x25519 private   | ML-KEM seed   | validFrom u64 | validUntil u64|
//   |   4    |  u8 = 1 | 32 (raw)         | 64 (raw-seed) |  8 (ms)       |  8 (ms)       |
//   +--------+---------+------------------+---------------+---------------+---------------+
//
// Public keys are not stored: they are derived again from the private halves on load.
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { copyBytes } from '../wire/bytes.ts';
import type { UnixMillis } from '../wire/descriptor-types.ts';
import { CryptoError } from './errors.ts';

export const X25519_KEY_BYTES = 32;
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_SEED_BYTES = 64;

const FILE_MAGIC = [0x41, 0x4e, 0x4f, 0x4b]; // "ANOK"
const FILE_VERSION = 1;
const FILE_BYTES = 4 + 1 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES + 8 + 8;

export interface OnionKeyPair {
  readonly x25519Public: Uint8Array;
  /** 32-byte raw X25519 private key. Never log it. */
  readonly x25519Private: Uint8Array;
  /** 1184-byte raw ML-KEM-768 encapsulation key. */
  readonly mlkemPublic: Uint8Array;
  /** 64-byte ML-KEM-768 seed (d || z, FIPS 203), the private half. Never log it. */
  readonly mlkemSeed: Uint8Array;
  readonly validFrom: UnixMillis;
  readonly validUntil: UnixMillis;
}

/** A fresh onion key pair valid over [validFrom, validUntil); throws 'BAD_VALIDITY' on an empty window. */
export function generateOnionKeyPair(validFrom: UnixMillis, validUntil: UnixMillis): OnionKeyPair {
  checkValidity(validFrom, validUntil);
  const x = generateKeyPairSync('x25519');
  const m = generateKeyPairSync('ml-kem-768');
  return {
    x25519Public: raw(x.publicKey, 'raw-public'),
    x25519Private: raw(x.privateKey, 'raw-private'),
    mlkemPublic: raw(m.publicKey, 'raw-public'),
    mlkemSeed: raw(m.privateKey, 'raw-seed'),
    validFrom,
    validUntil,
  };
}

/**
 * Rebuilds a pair from its private halves (used on load and for deterministic test vectors).
 * Throws CryptoError 'BAD_KEY' on wrong lengths or keys node:crypto refuses.
 */
export function onionKeyPairFromSecrets(
  x25519Private: Uint8Array,
  mlkemSeed: Uint8Array,
  validFrom: UnixMillis,
  validUntil: UnixMillis,
): OnionKeyPair {
  checkValidity(validFrom, validUntil);
  if (x25519Private.length !== X25519_KEY_BYTES)
    throw new CryptoError('BAD_KEY', 'an X25519 private key is 32 bytes');
  if (mlkemSeed.length !== MLKEM768_SEED_BYTES)
    throw new CryptoError('BAD_KEY', 'an ML-KEM-768 seed is 64 bytes');
  try {
    const x = createPrivateKey({
      key: Buffer.from(x25519Private),
      format: 'raw-private',
      asymmetricKeyType: 'x25519',
    });
    const m = createPrivateKey({
      key: Buffer.from(mlkemSeed),
      format: 'raw-seed',
      asymmetricKeyType: 'ml-kem-768',
    });
    return {
      x25519Public: raw(createPublicKey(x), 'raw-public'),
      x25519Private: new Uint8Array(x25519Private),
      mlkemPublic: raw(createPublicKey(m), 'raw-public'),
      mlkemSeed: new Uint8Array(mlkemSeed),
      validFrom,
      validUntil,
    };
  } catch (err) {
    throw new CryptoError('BAD_KEY', `invalid onion key material: ${(err as Error).message}`);
  }
}

// A fixed scalar (RFC 7748 section 6.1, Alice's private key) used only to test public keys: OpenSSL
// refuses a derivation whose result is all zeros, which is exactly the small-order points.
const PROBE_X25519 = createPrivateKey({
  key: Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'),
  format: 'raw-private',
  asymmetricKeyType: 'x25519',
});

/** 32 bytes, importable, and not a small-order point (shared secret would be all zeros). Never throws. */
export function isValidX25519Public(bytes: Uint8Array): boolean {
  try {
    if (bytes.length !== X25519_KEY_BYTES) return false;
    const publicKey = createPublicKey({
      key: Buffer.from(bytes),
      format: 'raw-public',
      asymmetricKeyType: 'x25519',
    });
    diffieHellman({ privateKey: PROBE_X25519, publicKey });
    return true;
  } catch {
    return false;
  }
}

/** 1184 bytes and accepted by node:crypto (FIPS 203 modulus check). Never throws. */
export function isValidMlKem768Public(bytes: Uint8Array): boolean {
  try {
    if (bytes.length !== MLKEM768_PUBLIC_KEY_BYTES) return false;
    createPublicKey({ key: Buffer.from(bytes), format: 'raw-public', asymmetricKeyType: 'ml-kem-768' });
    return true;
  } catch {
    return false;
  }
}

/** The private storage format drawn at the top of this file. */
export function encodeOnionKeyPair(pair: OnionKeyPair): Uint8Array {
  const out = new Uint8Array(FILE_BYTES);
  const view = new DataView(out.buffer);
  out.set(FILE_MAGIC, 0);
  out[4] = FILE_VERSION;
  out.set(pair.x25519Private, 5);
  out.set(pair.mlkemSeed, 5 + X25519_KEY_BYTES);
  view.setBigUint64(5 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES, BigInt(pair.validFrom));
  view.setBigUint64(5 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES + 8, BigInt(pair.validUntil));
  return out;
}

/** Reads the storage format; throws CryptoError 'BAD_KEY_FILE' on anything but a well-formed file. */
export function decodeOnionKeyPair(bytes: Uint8Array): OnionKeyPair {
  if (bytes.length !== FILE_BYTES)
    throw new CryptoError('BAD_KEY_FILE', `an onion key file is ${FILE_BYTES} bytes`);
  if (FILE_MAGIC.some((b, i) => bytes[i] !== b))
    throw new CryptoError('BAD_KEY_FILE', 'not an onion key file');
  if (bytes[4] !== FILE_VERSION)
    throw new CryptoError('BAD_KEY_FILE', `unsupported onion key file version ${bytes[4]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const validFrom = readMillis(view, 5 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES);
  const validUntil = readMillis(view, 5 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES + 8);
  try {
    return onionKeyPairFromSecrets(
      copyBytes(bytes, 5, 5 + X25519_KEY_BYTES),
      copyBytes(bytes, 5 + X25519_KEY_BYTES, 5 + X25519_KEY_BYTES + MLKEM768_SEED_BYTES),
      validFrom,
      validUntil,
    );
  } catch (err) {
    throw new CryptoError('BAD_KEY_FILE', (err as Error).message);
  }
}

function readMillis(view: DataView, offset: number): UnixMillis {
  const value = view.getBigUint64(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CryptoError('BAD_KEY_FILE', 'timestamp out of range');
  return Number(value) as UnixMillis;
}

function checkValidity(validFrom: number, validUntil: number): void {
  if (
    !Number.isSafeInteger(validFrom) ||
    !Number.isSafeInteger(validUntil) ||
    validFrom < 0 ||
    validUntil <= validFrom
  ) {
    throw new CryptoError(
      'BAD_VALIDITY',
      'an onion key needs 0 <= validFrom < validUntil (integer milliseconds)',
    );
  }
}

function raw(key: KeyObject, format: 'raw-public' | 'raw-private' | 'raw-seed'): Uint8Array {
  return new Uint8Array(key.export({ format }));
}
