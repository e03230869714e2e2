// Fuzz target for the ledger transaction parser: random bytes and random mutations of valid
// transactions. Properties: never throw, never INTERNAL, answer quickly, and anything that decodes
// re-encodes to exactly the bytes it came from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeTx, encodeTx, MAX_TX_BYTES } from '../../../src/wire/ledger-tx.ts';
import { alice, sampleBodies, tx } from '../ledger/fixtures.ts';
import { arbMutation, mutate } from './byte-mutations.ts';

const RUNS = 2000;
const MAX_CALL_MS = 250;

const seeds: Uint8Array[] = sampleBodies.map((b, i) => tx(alice, BigInt(i + 1), b).bytes);

function check(bytes: Uint8Array): void {
  const t = performance.now();
  const decoded = decodeTx(bytes);
  assert.ok(performance.now() - t < MAX_CALL_MS, 'decode took too long');
  if (decoded.kind === 'ok') {
    assert.ok(bytes.length <= MAX_TX_BYTES);
    assert.equal(decoded.consumed, bytes.length);
    assert.deepEqual(decoded.value.bytes, bytes);
    assert.deepEqual(encodeTx(decoded.value.tx), decoded.value.body);
  } else if (decoded.kind === 'error') {
    assert.equal(typeof decoded.code, 'string');
    assert.notEqual(decoded.code, 'INTERNAL', decoded.message);
  }
}

/** Byte values this format finds interesting (lengths, tags, boundaries). */
const arbMut = arbMutation([0, 1, 2, 7, 8, 0x3f, 0x40, 0x7f, 0x80, 0xff]);

describe('ledger transaction fuzz', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => check(bytes)),
      { numRuns: RUNS },
    );
  });

  it('random bytes behind a valid magic, version and kind never throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 600 }), (kind, tail) =>
        check(new Uint8Array([0x41, 0x4e, 0x54, 0x58, 1, kind, ...tail])),
      ),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid transactions never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(arbMut, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => check(mutations.reduce(mutate, seed)),
      ),
      { numRuns: RUNS },
    );
  });

  it('huge inputs are refused without parsing', () => {
    const r = decodeTx(new Uint8Array(1 << 20));
    assert.equal(r.kind === 'error' && r.code, 'TOO_LARGE');
  });
});
