// The faster Noise transport crypto must be byte for byte the default one: same ciphertexts, each
// side opening the other's messages, tampering refused, and a key changed in place never served from
// the key cache.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import { noiseCrypto } from '../../../src/p2p/noise-crypto.ts';

const SIZES = [0, 1, 100, 1199, 1200, 1201, 2048, 65519];

function nonceOf(n: number): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(4, n, true);
  return nonce;
}

const bytes = (x: Uint8Array | { subarray(): Uint8Array }) =>
  Buffer.from(x instanceof Uint8Array ? x : x.subarray());

describe('noise transport crypto', () => {
  it('encrypts exactly as the default implementation, and each opens the other', () => {
    const k = randomBytes(32);
    const ad = randomBytes(32);
    SIZES.forEach((size, i) => {
      const plaintext = randomBytes(size);
      const ours = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(i), ad, k));
      const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(i), ad, k));
      assert.deepEqual(ours, theirs, `size ${size}`);
      assert.deepEqual(
        bytes(defaultCrypto.chaCha20Poly1305Decrypt(Buffer.from(ours), nonceOf(i), ad, k)),
        plaintext,
      );
      assert.deepEqual(
        bytes(noiseCrypto.chaCha20Poly1305Decrypt(Buffer.from(theirs), nonceOf(i), ad, k)),
        plaintext,
      );
    });
  });

  it('takes lists of buffers as well as single buffers', async () => {
    const { Uint8ArrayList } = await import('uint8arraylist');
    const k = randomBytes(32);
    const plaintext = randomBytes(5000);
    const list = new Uint8ArrayList(
      plaintext.subarray(0, 12),
      plaintext.subarray(12, 3000),
      plaintext.subarray(3000),
    );
    const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(list, nonceOf(7), new Uint8Array(0), k));
    assert.deepEqual(
      sealed,
      bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(7), new Uint8Array(0), k)),
    );
    const sealedList = new Uint8ArrayList(sealed.subarray(0, 100), sealed.subarray(100));
    assert.deepEqual(
      bytes(noiseCrypto.chaCha20Poly1305Decrypt(sealedList, nonceOf(7), new Uint8Array(0), k)),
      plaintext,
    );
  });

  it('refuses a modified message, large or small', () => {
    const k = randomBytes(32);
    for (const size of [100, 4000]) {
      const sealed = Buffer.from(
        bytes(noiseCrypto.chaCha20Poly1305Encrypt(randomBytes(size), nonceOf(1), new Uint8Array(0), k)),
      );
      sealed[Math.floor(size / 2)]! ^= 1;
      assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonceOf(1), new Uint8Array(0), k));
    }
  });

  it('uses the new key when a key array is changed in place', () => {
    const k = new Uint8Array(randomBytes(32));
    const plaintext = randomBytes(4000);
    noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(1), new Uint8Array(0), k); // cached now
    k.set(randomBytes(32));
    assert.deepEqual(
      bytes(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(1), new Uint8Array(0), k)),
      bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonceOf(1), new Uint8Array(0), k)),
    );
  });
});
