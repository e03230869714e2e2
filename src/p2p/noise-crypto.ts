// Noise's transport crypto with the per-message key set-up taken out. The default implementation
// hands the raw 32-byte key to createCipheriv for every message, and Node turns it into a fresh key
// object each time (~20 µs, more than encrypting a 2 KiB message). Here each Noise cipher state's key
// becomes one KeyObject, cached per key array (Noise keeps one array per direction for the life of a
// connection). Messages under 1200 bytes keep the default's WebAssembly path. Wire format unchanged:
// test/unit/p2p/noise-crypto.test.ts checks it byte for byte against the default implementation.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';

const CHACHA = 'chacha20-poly1305';
const TAG_BYTES = 16;
/** Below this the default's WebAssembly ChaCha20-Poly1305 is cheaper than a node:crypto context. */
const SMALL_MESSAGE_BYTES = 1200;

interface CachedKey {
  readonly bytes: Buffer;
  readonly key: KeyObject;
}

const keys = new WeakMap<Uint8Array, CachedKey>();

function keyObject(k: Uint8Array): KeyObject {
  const hit = keys.get(k);
  // The bytes are compared too, so a key array changed in place (a rekey) can never use a stale key.
  if (hit?.bytes.equals(k)) return hit.key;
  const entry = { bytes: Buffer.from(k), key: createSecretKey(k) };
  keys.set(k, entry);
  return entry.key;
}

type Encrypt = ICryptoInterface['chaCha20Poly1305Encrypt'];
type Decrypt = ICryptoInterface['chaCha20Poly1305Decrypt'];

const encrypt: Encrypt = (plaintext, nonce, ad, k) => {
  if (plaintext.byteLength < SMALL_MESSAGE_BYTES)
    return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
  const cipher = createCipheriv(CHACHA, keyObject(k), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
  const parts: Buffer[] = [];
  if (plaintext instanceof Uint8Array) parts.push(cipher.update(plaintext));
  else for (const buf of plaintext) parts.push(cipher.update(buf));
  parts.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(parts);
};

const decrypt: Decrypt = (ciphertext, nonce, ad, k, dst) => {
  if (ciphertext.byteLength < SMALL_MESSAGE_BYTES)
    return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst);
  const textBytes = ciphertext.byteLength - TAG_BYTES;
  const decipher = createDecipheriv(CHACHA, keyObject(k), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(ad, { plaintextLength: textBytes });
  decipher.setAuthTag(ciphertext.subarray(textBytes));
  if (ciphertext instanceof Uint8Array) {
    const out = decipher.update(ciphertext.subarray(0, textBytes));
    decipher.final(); // throws on a bad tag; chacha20-poly1305 has no trailing output
    return out;
  }
  const parts: Buffer[] = [];
  for (const buf of ciphertext.sublist(0, textBytes)) parts.push(decipher.update(buf));
  decipher.final();
  return Buffer.concat(parts);
};

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt: encrypt,
  chaCha20Poly1305Decrypt: decrypt,
};
