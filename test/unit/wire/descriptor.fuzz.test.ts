// Fuzz target for the descriptor parser and verifier: random bytes and random mutations of valid
// descriptors. Properties: never throw, answer quickly, and anything that decodes re-encodes to exactly
// the bytes it came from (one encoding per value).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import {
  decodeDescriptor,
  encodeDescriptorBody,
  MAX_DESCRIPTOR_BYTES,
} from '../../../src/wire/descriptor.ts';
import { arbMutation, mutate } from './byte-mutations.ts';
import { HOUR, NOW, onionKey, signedBase, verifyOpts } from './descriptor-fixtures.ts';

const RUNS = 2000;
const MAX_CALL_MS = 250; // generous: a call takes well under a millisecond; this only catches blow-ups

const seeds: Uint8Array[] = [
  signedBase().bytes,
  signedBase({
    onionKeys: [
      onionKey(0, NOW - HOUR, NOW + HOUR),
      onionKey(1, NOW, NOW + 2 * HOUR),
      onionKey(2, NOW + HOUR, NOW + 3 * HOUR),
    ],
    addresses: [
      new Uint8Array([1]),
      new Uint8Array(40).fill(7),
      new Uint8Array([4, 127, 0, 0, 1, 6, 0x13, 0x56]),
    ],
    exitPolicy: [
      {
        action: 'accept',
        family: 6,
        address: new Uint8Array(16),
        prefixLength: 0,
        portLow: 80,
        portHigh: 443,
      },
      {
        action: 'reject',
        family: 0,
        address: new Uint8Array(0),
        prefixLength: 0,
        portLow: 0,
        portHigh: 65535,
      },
    ],
    extensions: [
      { type: 1, value: new Uint8Array(0) },
      { type: 300, value: new Uint8Array(20).fill(9) },
    ],
  }).bytes,
  signedBase({ onionKeys: [], addresses: [], exitPolicy: [], extensions: [] }).bytes,
];

function checkBoth(bytes: Uint8Array): void {
  let t = performance.now();
  const decoded = decodeDescriptor(bytes);
  assert.ok(performance.now() - t < MAX_CALL_MS, 'decode took too long');
  if (decoded.kind === 'ok') {
    assert.ok(decoded.consumed <= bytes.length && bytes.length <= MAX_DESCRIPTOR_BYTES);
    assert.deepEqual(decoded.value.bytes, bytes);
    assert.deepEqual(encodeDescriptorBody(decoded.value.descriptor), decoded.value.body);
  } else if (decoded.kind === 'error') {
    assert.equal(typeof decoded.code, 'string');
    assert.notEqual(decoded.code, 'INTERNAL', decoded.message);
  }
  t = performance.now();
  const verified = verifyDescriptor(bytes, verifyOpts);
  assert.ok(performance.now() - t < MAX_CALL_MS, 'verify took too long');
  if (verified.ok) assert.equal(decoded.kind, 'ok');
  else assert.notEqual(verified.code, 'INTERNAL', verified.reason);
}

/** Byte values this format finds interesting (lengths, tags, boundaries). */
const arbMut = arbMutation([0, 1, 2, 4, 6, 0x7f, 0x80, 0xff]);

describe('descriptor fuzz', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => checkBoth(bytes)),
      { numRuns: RUNS },
    );
  });

  it('random bytes behind a valid magic and version never throw', () => {
    const header = seeds[0]!.subarray(0, 5);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (tail) =>
        checkBoth(new Uint8Array([...header, ...tail])),
      ),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid descriptors never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(arbMut, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => checkBoth(mutations.reduce(mutate, seed)),
      ),
      { numRuns: RUNS },
    );
  });

  it('huge inputs are refused without parsing', () => {
    checkBoth(new Uint8Array(1 << 20));
    assert.equal(verifyDescriptor(new Uint8Array(1 << 20), verifyOpts).ok, false);
  });
});
