// Fuzz target for the receipt parser: random bytes and random mutations of valid receipts. Properties:
// never throw, never INTERNAL, and anything that decodes is exactly 153 bytes and re-encodes to them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeReceipt, encodeReceipt, RECEIPT_BYTES } from '../../../src/wire/receipt.ts';
import { signed, signers } from '../economy/receipt-fixtures.ts';
import { arbMutation, mutate } from './byte-mutations.ts';

const RUNS = 2000;

const seeds: Uint8Array[] = signers.map((s, i) => signed(s, BigInt(i * 1000), BigInt(i)).bytes);

function check(bytes: Uint8Array): void {
  const decoded = decodeReceipt(bytes);
  if (decoded.kind === 'ok') {
    assert.equal(bytes.length, RECEIPT_BYTES);
    assert.equal(decoded.consumed, RECEIPT_BYTES);
    assert.deepEqual(decoded.value.bytes, bytes);
    assert.deepEqual(encodeReceipt(decoded.value.receipt), decoded.value.body);
  } else if (decoded.kind === 'error') {
    assert.notEqual(decoded.code, 'INTERNAL', decoded.message);
  } else {
    assert.ok(bytes.length < RECEIPT_BYTES);
  }
}

const arbMut = arbMutation([0, 1, 2, 0x41, 0x4e, 0x52, 0x43, 0x7f, 0x80, 0xff]);

describe('receipt fuzz', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => check(bytes)),
      { numRuns: RUNS },
    );
  });

  it('random bytes behind a valid magic and version never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) =>
        check(new Uint8Array([0x41, 0x4e, 0x52, 0x43, 1, ...tail])),
      ),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid receipts never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(arbMut, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => check(mutations.reduce(mutate, seed)),
      ),
      { numRuns: RUNS },
    );
  });
});
