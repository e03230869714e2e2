import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CryptoError } from '../../../src/crypto/errors.ts';
import { leadingZeroBits, powHash, solvePow, verifyPow } from '../../../src/crypto/pow.ts';

const key = new Uint8Array(32).map((_, i) => i);

function slowLeadingZeroBits(hash: Uint8Array): number {
  const bits = [...hash].map((b) => b.toString(2).padStart(8, '0')).join('');
  const first = bits.indexOf('1');
  return first === -1 ? bits.length : first;
}

describe('proof-of-work', () => {
  it('leadingZeroBits agrees with a bit-string count', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), (bytes, zeros) => {
        const h = bytes.slice();
        h.fill(0, 0, Math.min(zeros, h.length));
        assert.equal(leadingZeroBits(h), slowLeadingZeroBits(h));
      }),
      { numRuns: 500 },
    );
    assert.equal(leadingZeroBits(new Uint8Array([0x80])), 0);
    assert.equal(leadingZeroBits(new Uint8Array([0, 1])), 15);
    assert.equal(leadingZeroBits(new Uint8Array(32)), 256);
  });

  it('hashes "anonnet-pow-v1" || key || u64 BE nonce with SHA-256', () => {
    const nonce = 0x0102030405060708n;
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('anonnet-pow-v1'), key, Buffer.from('0102030405060708', 'hex')]))
      .digest();
    assert.deepEqual(Buffer.from(powHash(key, nonce)), expected);
  });

  it('solves then verifies at difficulties 0..12', () => {
    for (let d = 0; d <= 12; d++) {
      const nonce = solvePow(key, d);
      assert.notEqual(nonce, undefined);
      assert.equal(verifyPow(key, nonce!, d), true, `difficulty ${d}`);
      assert.ok(leadingZeroBits(powHash(key, nonce!)) >= d);
    }
    assert.equal(solvePow(key, 0), 0n);
  });

  it('difficulty 0 always passes', () => {
    assert.equal(verifyPow(key, 12345n, 0), true);
  });

  it('a tampered nonce or key fails at high difficulty', () => {
    const nonce = solvePow(key, 12)!;
    const other = key.slice();
    other[0]! ^= 1;
    let failures = 0;
    for (let delta = 1n; delta <= 8n; delta++) if (!verifyPow(key, nonce + delta, 12)) failures++;
    // Each neighbour passes with probability 2^-12; all eight passing is effectively impossible.
    assert.ok(failures >= 7);
    assert.equal(verifyPow(other, nonce, 12) && verifyPow(other, nonce + 1n, 12), false);
  });

  it('resumes from startNonce and stops after maxIterations', () => {
    const first = solvePow(key, 10)!;
    assert.equal(solvePow(key, 10, { startNonce: 0n, maxIterations: Number(first) }), undefined);
    assert.equal(solvePow(key, 10, { startNonce: first }), first);
    assert.equal(solvePow(key, 10, { startNonce: first + 1n }) !== first, true);
    assert.equal(solvePow(key, 64, { startNonce: (1n << 64n) - 2n }), undefined);
  });

  it('refuses difficulties above 64 or not integers, and bad inputs to verify', () => {
    const isBad = (err: unknown) => err instanceof CryptoError && err.code === 'BAD_DIFFICULTY';
    assert.throws(() => verifyPow(key, 0n, 65), isBad);
    assert.throws(() => solvePow(key, 65), isBad);
    assert.throws(() => solvePow(key, -1), isBad);
    assert.throws(() => verifyPow(key, 0n, 1.5), isBad);
    assert.equal(verifyPow(key.subarray(1), 0n, 1), false);
    assert.equal(verifyPow(key, -1n, 1), false);
    assert.equal(verifyPow(key, 1n << 64n, 1), false);
  });
});
