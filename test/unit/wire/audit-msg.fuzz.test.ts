// Fuzz target for the audit message parsers: random bytes and mutations of valid messages. Properties:
// never throw, never INTERNAL, and anything that decodes re-encodes to exactly the bytes it came from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeAuditRequest,
  decodeAuditResponse,
  encodeAuditRequest,
  encodeAuditResponse,
} from '../../../src/wire/audit-msg.ts';
import { arbRequest, arbResponse } from '../economy/receipt-fixtures.ts';
import { arbMutation, mutate } from './byte-mutations.ts';

const RUNS = 1500;
const arbMut = arbMutation([0, 1, 2, 0x20, 0x21, 0x7f, 0x80, 0xff]);

function checkRequest(bytes: Uint8Array): void {
  const d = decodeAuditRequest(bytes);
  if (d.kind === 'ok') assert.deepEqual(encodeAuditRequest(d.value), bytes);
  else if (d.kind === 'error') assert.notEqual(d.code, 'INTERNAL', d.message);
}

function checkResponse(bytes: Uint8Array): void {
  const d = decodeAuditResponse(bytes);
  if (d.kind === 'ok') assert.deepEqual(encodeAuditResponse(d.value), bytes);
  else if (d.kind === 'error') assert.notEqual(d.code, 'INTERNAL', d.message);
}

describe('audit messages fuzz', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2500 }), (bytes) => {
        checkRequest(bytes);
        checkResponse(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid requests never throw', () => {
    fc.assert(
      fc.property(arbRequest, fc.array(arbMut, { minLength: 1, maxLength: 4 }), (req, ms) =>
        checkRequest(ms.reduce(mutate, encodeAuditRequest(req))),
      ),
      { numRuns: RUNS },
    );
  });

  it('mutations of valid responses never throw', () => {
    fc.assert(
      fc.property(arbResponse, fc.array(arbMut, { minLength: 1, maxLength: 4 }), (res, ms) =>
        checkResponse(ms.reduce(mutate, encodeAuditResponse(res))),
      ),
      { numRuns: RUNS },
    );
  });
});
