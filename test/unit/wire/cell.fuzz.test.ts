// Fuzz targets for the cell parsers: random bytes and mutated valid encodings. Properties: never
// throw, and whatever decodes re-encodes to exactly the bytes it came from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CELL_BYTES,
  decodeCell,
  decodeRelayBody,
  decodeRelayMessage,
  decodeRelayPayload,
  encodeCell,
  encodeRelayBody,
  encodeRelayMessage,
  encodeRelayPayload,
  RELAY_BODY_BYTES,
  RELAY_HEADER_BYTES,
  RelayCommand,
  relayCommandOf,
} from '../../../src/wire/cell.ts';
import { relayMessageArb } from './cell-fixtures.ts';

const RUNS = 2000;

describe('cell fuzz', () => {
  it('decodeCell: random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: CELL_BYTES + 8 }), (bytes) => {
        const d = decodeCell(bytes);
        if (d.kind === 'ok') assert.deepEqual(encodeCell(d.value), bytes.subarray(0, CELL_BYTES));
        else if (d.kind === 'needMore') assert.ok(bytes.length < CELL_BYTES);
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeRelayPayload: random command and bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 2100 }), (command, data) => {
        const d = decodeRelayPayload(command, data);
        assert.notEqual(d.kind, 'needMore');
        if (d.kind === 'ok') {
          assert.equal(relayCommandOf(d.value), command);
          assert.deepEqual(encodeRelayPayload(d.value), data);
        } else {
          assert.ok(d.kind === 'error' && d.code !== 'INTERNAL', d.kind === 'error' ? d.message : d.kind);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeRelayPayload: short structured payloads (every command, every byte early on)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 14 }), fc.uint8Array({ maxLength: 40 }), (command, data) => {
        const d = decodeRelayPayload(command, data);
        if (d.kind === 'ok') assert.deepEqual(encodeRelayPayload(d.value), data);
        else assert.ok(d.kind === 'error' && d.code !== 'INTERNAL');
      }),
      { numRuns: RUNS },
    );
  });

  it('SENDME payloads: mutated authenticators decode to what re-encodes, or a stable error', () => {
    const v1 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((d) => Uint8Array.of(1, 0, 16, ...d));
    const arb = fc.oneof(
      v1,
      fc
        .tuple(v1, fc.array(fc.tuple(fc.nat(18), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }))
        .map(([b, edits]) => {
          for (const [at, v] of edits) b[at]! ^= v;
          return b;
        }),
      v1.chain((b) => fc.nat(b.length).map((n) => b.subarray(0, n))),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(arb, (data) => {
        const d = decodeRelayPayload(RelayCommand.SENDME, data);
        assert.notEqual(d.kind, 'needMore');
        if (d.kind === 'ok') assert.deepEqual(encodeRelayPayload(d.value), data);
        else assert.ok(d.kind === 'error' && d.code !== 'INTERNAL', d.kind === 'error' ? d.message : '');
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeRelayBody and decodeRelayMessage: random and mutated bodies', () => {
    const arb = fc.oneof(
      fc.uint8Array({ minLength: RELAY_BODY_BYTES, maxLength: RELAY_BODY_BYTES }),
      fc.uint8Array({ maxLength: RELAY_BODY_BYTES + 4 }),
      fc
        .tuple(
          relayMessageArb,
          fc.array(fc.tuple(fc.nat(RELAY_BODY_BYTES - 1), fc.integer({ min: 1, max: 255 })), {
            maxLength: 4,
          }),
        )
        .map(([m, edits]) => {
          const b = encodeRelayBody(1, relayCommandOf(m), encodeRelayPayload(m));
          for (const [at, v] of edits) if (at < 4 || at >= 20) b[at]! ^= v;
          return b;
        }),
    );
    fc.assert(
      fc.property(arb, (body) => {
        const b = decodeRelayBody(body);
        if (b.kind === 'ok') {
          // DATA keeps whatever padding it carries; every other command's is zero.
          const padding = body.subarray(RELAY_HEADER_BYTES + b.value.data.length);
          const again = encodeRelayBody(
            b.value.streamId,
            b.value.command,
            b.value.data,
            b.value.command === RelayCommand.DATA ? padding : undefined,
          );
          again.set(body.subarray(4, 20), 4); // the digest field is relay-crypto's
          assert.deepEqual(again, body);
        }
        const m = decodeRelayMessage(body);
        if (m.kind === 'ok') {
          const again = encodeRelayMessage(m.value.streamId, m.value.message);
          again.set(body.subarray(4, 20), 4);
          if (m.value.message.kind === 'data') {
            const end = RELAY_HEADER_BYTES + m.value.message.data.length;
            again.set(body.subarray(end), end);
          }
          assert.deepEqual(again, body);
        } else {
          assert.ok(m.kind === 'error' && m.code !== 'INTERNAL');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
