// A bounded memo of Ed25519 verifications that succeeded. Gossip delivers the same vote from several
// peers, and a commit repeats the precommits already seen, so remembering (key, message, signature)
// triples that verified saves most of the work. Only successes are kept, under a key that covers all
// three inputs, so a forged signature is never accepted from the memo. Pure (no I/O).
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/identity.ts';

export const DEFAULT_SIG_CACHE_ENTRIES = 8192;
const MAX_KEY_OBJECTS = 2048;

export class VerifiedSignatures {
  readonly #max: number;
  readonly #ok = new Map<string, true>();
  readonly #keys = new Map<string, KeyObject>();

  constructor(maxEntries: number = DEFAULT_SIG_CACHE_ENTRIES) {
    this.#max = Math.max(1, maxEntries);
  }

  /** Ed25519 verification; never throws (bad lengths or an invalid key give false). */
  verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
      return false;
    const pk = Buffer.from(publicKey).toString('hex');
    const memo = `${pk}:${Buffer.from(signature).toString('hex')}:${createHash('sha256').update(msg).digest('hex')}`;
    if (this.#ok.has(memo)) return true;
    let ok = false;
    try {
      ok = verify(null, msg, this.#key(pk, publicKey), signature);
    } catch {
      return false;
    }
    if (ok) {
      if (this.#ok.size >= this.#max) this.#ok.delete(this.#ok.keys().next().value as string);
      this.#ok.set(memo, true);
    }
    return ok;
  }

  #key(hex: string, raw: Uint8Array): KeyObject {
    let k = this.#keys.get(hex);
    if (k === undefined) {
      k = createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'ed25519' });
      if (this.#keys.size >= MAX_KEY_OBJECTS) this.#keys.delete(this.#keys.keys().next().value as string);
      this.#keys.set(hex, k);
    }
    return k;
  }
}
