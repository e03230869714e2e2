import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CryptoError } from '../../../src/crypto/errors.ts';
import { generateIdentity, identityFromSeed, verifySignature } from '../../../src/crypto/identity.ts';

describe('identity', () => {
  const id = generateIdentity();
  const data = new TextEncoder().encode('hello anonnet');

  it('has 32-byte keys and signs with 64-byte signatures that verify', () => {
    assert.equal(id.publicKey.length, 32);
    assert.equal(id.seed.length, 32);
    const sig = id.sign(data);
    assert.equal(sig.length, 64);
    assert.equal(verifySignature(id.publicKey, data, sig), true);
  });

  it('refuses a wrong key, wrong data or a changed signature', () => {
    const sig = id.sign(data);
    assert.equal(verifySignature(generateIdentity().publicKey, data, sig), false);
    assert.equal(verifySignature(id.publicKey, new TextEncoder().encode('hello anonnet!'), sig), false);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 * 8 - 1 }), (bit) => {
        const bad = sig.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        return !verifySignature(id.publicKey, data, bad);
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips through its seed, and signing is deterministic (RFC 8032)', () => {
    const again = identityFromSeed(id.seed);
    assert.deepEqual(again.publicKey, id.publicKey);
    assert.deepEqual(again.sign(data), id.sign(data));
  });

  it('matches the RFC 8032 test 1 vector', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const ident = identityFromSeed(new Uint8Array(seed));
    assert.equal(
      Buffer.from(ident.publicKey).toString('hex'),
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    assert.equal(
      Buffer.from(ident.sign(new Uint8Array(0))).toString('hex'),
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('refuses seeds of the wrong length with BAD_KEY', () => {
    for (const n of [0, 31, 33, 64]) {
      assert.throws(
        () => identityFromSeed(new Uint8Array(n)),
        (err: unknown) => err instanceof CryptoError && err.code === 'BAD_KEY',
      );
    }
  });

  it('verifySignature never throws on bad lengths or invalid keys', () => {
    const sig = id.sign(data);
    assert.equal(verifySignature(new Uint8Array(31), data, sig), false);
    assert.equal(verifySignature(id.publicKey, data, sig.subarray(0, 63)), false);
    assert.equal(verifySignature(new Uint8Array(32).fill(0xff), data, sig), false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 70 }), (pk, s) => {
        assert.equal(verifySignature(pk, data, s), false);
      }),
      { numRuns: 200 },
    );
  });
});
