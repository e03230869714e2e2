import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addCredits,
  compareCredits,
  credits,
  isCredits,
  MAX_CREDITS,
  subCredits,
  ZERO_CREDITS,
} from '../../../src/ledger/credits.ts';

const arbCredits = fc.bigInt({ min: 0n, max: MAX_CREDITS }).map(credits);

describe('credits', () => {
  it('accepts whole amounts in 0..2^64-1 and nothing else', () => {
    assert.equal(credits(0), ZERO_CREDITS);
    assert.equal(credits(1000), 1000n);
    assert.equal(credits(MAX_CREDITS), MAX_CREDITS);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => credits(bad), RangeError);
    }
    assert.throws(() => credits(-1n), RangeError);
    assert.throws(() => credits(MAX_CREDITS + 1n), RangeError);
    assert.equal(isCredits(1), false);
    assert.equal(isCredits(-1n), false);
  });

  it('add refuses overflow, sub refuses negatives (property)', () => {
    fc.assert(
      fc.property(arbCredits, arbCredits, (a, b) => {
        const sum = addCredits(a, b);
        if (a + b > MAX_CREDITS) assert.equal(sum, undefined);
        else assert.equal(sum, a + b);
        const diff = subCredits(a, b);
        if (b > a) assert.equal(diff, undefined);
        else assert.equal(diff, a - b);
        assert.equal(compareCredits(a, b), a < b ? -1 : a > b ? 1 : 0);
        assert.equal(compareCredits(a, b), -compareCredits(b, a) || 0);
      }),
      { numRuns: 500 },
    );
    assert.equal(addCredits(credits(MAX_CREDITS), credits(1)), undefined);
    assert.equal(subCredits(ZERO_CREDITS, credits(1)), undefined);
  });
});
