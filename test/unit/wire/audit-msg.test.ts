import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_MERKLE_DEPTH } from '../../../src/crypto/merkle-sum.ts';
import {
  AUDIT_STEP_BYTES,
  type AuditLeaf,
  decodeAuditRequest,
  decodeAuditResponse,
  encodeAuditRequest,
  encodeAuditResponse,
  MAX_AUDIT_POSITIONS,
  MAX_AUDIT_REQUEST_BYTES,
  MAX_AUDIT_RESPONSE_BYTES,
} from '../../../src/wire/audit-msg.ts';
import { concatBytes } from '../../../src/wire/bytes.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';
import { WireError } from '../../../src/wire/errors.ts';
import { arbRequest, arbResponse } from '../economy/receipt-fixtures.ts';

function ok<T>(r: DecodeResult<T>): T {
  assert.equal(r.kind, 'ok', r.kind === 'error' ? `${r.code}: ${r.message}` : r.kind);
  return r.kind === 'ok' ? r.value : assert.fail('unreachable');
}

function code<T>(r: DecodeResult<T>): string {
  return r.kind === 'error' ? r.code : r.kind;
}

const leaf = (steps: number): AuditLeaf => ({
  receipt: new Uint8Array(153).fill(3),
  start: 10n,
  steps: Array.from({ length: steps }, (_, i) => ({
    hash: new Uint8Array(32).fill(i),
    sum: BigInt(i),
    min: new Uint8Array(40).fill(0x40 + i),
    max: new Uint8Array(40).fill(0x80 + i),
    side: i % 2 === 0 ? ('left' as const) : ('right' as const),
  })),
});

describe('audit messages codec', () => {
  it('request: epoch u32 | count u8 | positions u64', () => {
    const b = encodeAuditRequest({ epoch: 0x01020304, positions: [5n, 0x0102030405060708n] });
    assert.deepEqual([...b], [1, 2, 3, 4, 2, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('response: receipt | start | steps | (hash | sum | min | max | side)… | hasNeighbour', () => {
    const b = encodeAuditResponse({ entries: [{ leaf: leaf(1), neighbour: null }] });
    assert.equal(AUDIT_STEP_BYTES, 32 + 8 + 40 + 40 + 1);
    assert.equal(b.length, 1 + 153 + 8 + 1 + AUDIT_STEP_BYTES + 1);
    assert.equal(b[0], 1);
    assert.deepEqual([...b.subarray(154, 162)], [0, 0, 0, 0, 0, 0, 0, 10]);
    assert.equal(b[162], 1);
    assert.deepEqual(b.subarray(163, 163 + 32), new Uint8Array(32).fill(0));
    assert.deepEqual(b.subarray(163 + 40, 163 + 80), new Uint8Array(40).fill(0x40), 'min');
    assert.deepEqual(b.subarray(163 + 80, 163 + 120), new Uint8Array(40).fill(0x80), 'max');
    assert.equal(b[163 + 120], 0, 'side 0: sibling on the left');
    assert.equal(b[b.length - 1], 0, 'no neighbour');
  });

  it('request encode → decode round-trips (property)', () => {
    fc.assert(
      fc.property(arbRequest, (req) => {
        const b = encodeAuditRequest(req);
        assert.deepStrictEqual(ok(decodeAuditRequest(b)), req);
      }),
      { numRuns: 300 },
    );
  });

  it('response encode → decode round-trips, byte for byte (property)', () => {
    fc.assert(
      fc.property(arbResponse, (res) => {
        const b = encodeAuditResponse(res);
        const d = ok(decodeAuditResponse(b));
        assert.deepStrictEqual(d, res);
        assert.deepStrictEqual(encodeAuditResponse(d), b);
      }),
      { numRuns: 300 },
    );
  });

  it('bounds every count: positions and entries 1..255, path steps 0..32', () => {
    assert.throws(() => encodeAuditRequest({ epoch: 1, positions: [] }), WireError);
    const many = Array.from({ length: MAX_AUDIT_POSITIONS + 1 }, () => 1n);
    assert.throws(() => encodeAuditRequest({ epoch: 1, positions: many }), { code: 'TOO_MANY' });
    assert.equal(code(decodeAuditRequest(new Uint8Array([0, 0, 0, 1, 0]))), 'BAD_FIELD');
    assert.equal(code(decodeAuditResponse(new Uint8Array([0]))), 'BAD_FIELD');
    assert.throws(() => encodeAuditResponse({ entries: [] }), WireError);
    const deepest = encodeAuditResponse({ entries: [{ leaf: leaf(MAX_MERKLE_DEPTH), neighbour: null }] });
    assert.equal(ok(decodeAuditResponse(deepest)).entries[0]?.leaf.steps.length, MAX_MERKLE_DEPTH);
    assert.throws(
      () => encodeAuditResponse({ entries: [{ leaf: leaf(MAX_MERKLE_DEPTH + 1), neighbour: null }] }),
      {
        code: 'TOO_MANY',
      },
    );
    const tooDeep = deepest.slice();
    tooDeep[1 + 153 + 8] = MAX_MERKLE_DEPTH + 1;
    assert.equal(code(decodeAuditResponse(tooDeep)), 'TOO_MANY');
  });

  it('the largest messages fit their stated maxima; longer inputs are refused unread', () => {
    const positions = Array.from({ length: MAX_AUDIT_POSITIONS }, () => 0xffffffffffffffffn);
    assert.equal(encodeAuditRequest({ epoch: 1, positions }).length, MAX_AUDIT_REQUEST_BYTES);
    const full = leaf(MAX_MERKLE_DEPTH);
    const entries = Array.from({ length: MAX_AUDIT_POSITIONS }, () => ({ leaf: full, neighbour: full }));
    assert.equal(encodeAuditResponse({ entries }).length, MAX_AUDIT_RESPONSE_BYTES);
    assert.equal(MAX_AUDIT_RESPONSE_BYTES, 2_057_596);
    assert.equal(code(decodeAuditRequest(new Uint8Array(MAX_AUDIT_REQUEST_BYTES + 1))), 'TOO_LARGE');
    assert.equal(code(decodeAuditResponse(new Uint8Array(MAX_AUDIT_RESPONSE_BYTES + 1))), 'TOO_LARGE');
  });

  it('refuses a side or hasNeighbour other than 0 and 1, trailing bytes, and answers needMore for prefixes', () => {
    const b = encodeAuditResponse({ entries: [{ leaf: leaf(1), neighbour: leaf(0) }] });
    const side = b.slice();
    side[1 + 153 + 8 + 1 + AUDIT_STEP_BYTES - 1] = 2;
    assert.equal(code(decodeAuditResponse(side)), 'BAD_FIELD');
    const flag = b.slice();
    flag[1 + 153 + 8 + 1 + AUDIT_STEP_BYTES] = 2;
    assert.equal(code(decodeAuditResponse(flag)), 'BAD_FIELD');
    assert.equal(code(decodeAuditResponse(concatBytes(b, new Uint8Array(1)))), 'TRAILING_BYTES');
    for (let n = 1; n < b.length; n += 7)
      assert.equal(code(decodeAuditResponse(b.subarray(0, n))), 'needMore');
    const req = encodeAuditRequest({ epoch: 3, positions: [1n, 2n] });
    assert.equal(code(decodeAuditRequest(concatBytes(req, new Uint8Array(1)))), 'TRAILING_BYTES');
    for (let n = 0; n < req.length; n++)
      assert.equal(code(decodeAuditRequest(req.subarray(0, n))), 'needMore');
  });

  it('encoding refuses a receipt that is not 153 bytes, a sibling hash that is not 32 and a key that is not 40', () => {
    assert.throws(
      () =>
        encodeAuditResponse({
          entries: [{ leaf: { ...leaf(0), receipt: new Uint8Array(152) }, neighbour: null }],
        }),
      {
        code: 'BAD_LENGTH',
      },
    );
    const l = leaf(1);
    const badStep = { ...l, steps: [{ ...l.steps[0]!, hash: new Uint8Array(31) }] };
    assert.throws(() => encodeAuditResponse({ entries: [{ leaf: badStep, neighbour: null }] }), {
      code: 'BAD_LENGTH',
    });
    for (const k of ['min', 'max'] as const) {
      const badKey = { ...l, steps: [{ ...l.steps[0]!, [k]: new Uint8Array(39) }] };
      assert.throws(() => encodeAuditResponse({ entries: [{ leaf: badKey, neighbour: null }] }), {
        code: 'BAD_LENGTH',
      });
    }
  });
});
