// A node's long-term identity: an Ed25519 key pair. The 32-byte raw public key is the identity that
// descriptors, proof-of-work and the libp2p PeerId are bound to. Pure: no I/O, keys stay in memory.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { CryptoError } from './errors.ts';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export interface Identity {
  /** 32-byte raw Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** 32-byte raw Ed25519 private seed (RFC 8032). Never log it. */
  readonly seed: Uint8Array;
  /** Ed25519 signature (64 bytes) over `data`. */
  sign(data: Uint8Array): Uint8Array;
}

export function generateIdentity(): Identity {
  const { privateKey } = generateKeyPairSync('ed25519');
  return fromPrivateKey(privateKey);
}

/** Rebuilds an identity from its 32-byte seed; throws CryptoError 'BAD_KEY' on a wrong length. */
export function identityFromSeed(seed: Uint8Array): Identity {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_BYTES) {
    throw new CryptoError('BAD_KEY', `an Ed25519 seed is ${ED25519_SEED_BYTES} bytes`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: Buffer.from(seed),
      format: 'raw-private',
      asymmetricKeyType: 'ed25519',
    });
  } catch (err) {
    throw new CryptoError('BAD_KEY', `invalid Ed25519 seed: ${(err as Error).message}`);
  }
  return fromPrivateKey(privateKey);
}

function fromPrivateKey(privateKey: KeyObject): Identity {
  const seed = new Uint8Array(privateKey.export({ format: 'raw-private' }));
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ format: 'raw-public' }));
  return {
    publicKey,
    seed,
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}

/** Ed25519 verification. Never throws: bad lengths, an invalid key or a bad signature give false. */
export function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
      return false;
    const key = createPublicKey({
      key: Buffer.from(publicKey),
      format: 'raw-public',
      asymmetricKeyType: 'ed25519',
    });
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
