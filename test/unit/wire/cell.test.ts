// Link cells, relay bodies and relay messages: layouts, round trips (property-based) and refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  asCircuitId,
  CELL_BYTES,
  type CircuitId,
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  cellCircuitId,
  decodeCell,
  decodeRelayBody,
  decodeRelayMessage,
  decodeRelayPayload,
  encodeCell,
  encodeRelayBody,
  encodeRelayCell,
  encodeRelayMessage,
  encodeRelayPayload,
  isValidHost,
  LinkCommand,
  MAX_RELAY_DATA,
  MAX_RELAY_EARLY_CELLS,
  RELAY_BODY_BYTES,
  RelayCommand,
  relayCellPadding,
  relayCommandOf,
  SENDME_DIGEST_BYTES,
  SENDME_VERSION_DIGEST,
  setCellCircuitId,
} from '../../../src/wire/cell.ts';
import { WireError } from '../../../src/wire/errors.ts';
import { relayMessageArb, u8 } from './cell-fixtures.ts';

/** fast-check builds records without Object.prototype: compare plain copies. */
const plain = <T>(v: T): T => structuredClone(v);

const cid = (n: number) => n as CircuitId;
const isWire = (code: string) => (e: unknown) => e instanceof WireError && e.code === code;

describe('link cells', () => {
  it('has the documented sizes', () => {
    assert.equal(CELL_BYTES, 2048);
    assert.equal(RELAY_BODY_BYTES, 2043);
    assert.equal(MAX_RELAY_DATA, 2020);
    // EXTEND fits one cell: relay header + identity + CREATE.
    assert.ok(23 + 32 + CREATE_MESSAGE_BYTES <= RELAY_BODY_BYTES);
  });

  it('encodes the drawn layout and zero-pads the body', () => {
    const c = encodeCell({
      circuitId: cid(0x01020304),
      command: LinkCommand.DESTROY,
      body: Uint8Array.of(9),
    });
    assert.equal(c.length, CELL_BYTES);
    assert.deepEqual([...c.subarray(0, 6)], [1, 2, 3, 4, 4, 9]);
    assert.ok(c.subarray(6).every((b) => b === 0));
  });

  it('round-trips any id, command and body; decodes the first cell of a longer input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        u8,
        fc.uint8Array({ maxLength: RELAY_BODY_BYTES }),
        (id, command, body) => {
          const bytes = encodeCell({ circuitId: cid(id), command, body });
          const two = new Uint8Array(CELL_BYTES * 2 - 1);
          two.set(bytes);
          const d = decodeCell(two);
          assert.equal(d.kind, 'ok');
          if (d.kind !== 'ok') return;
          assert.equal(d.consumed, CELL_BYTES);
          assert.equal(d.value.circuitId, id);
          assert.equal(d.value.command, command);
          assert.equal(d.value.body.length, RELAY_BODY_BYTES);
          assert.deepEqual(d.value.body.subarray(0, body.length), body);
          assert.deepEqual(encodeCell(d.value), bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('needs CELL_BYTES bytes; refuses circuit id 0; encoder refuses bad values', () => {
    assert.deepEqual(decodeCell(new Uint8Array(CELL_BYTES - 1)), { kind: 'needMore' });
    const zero = decodeCell(new Uint8Array(CELL_BYTES));
    assert.equal(zero.kind === 'error' && zero.code, 'BAD_FIELD');
    assert.throws(
      () => encodeCell({ circuitId: cid(0), command: 0, body: new Uint8Array(0) }),
      isWire('BAD_FIELD'),
    );
    assert.throws(
      () => encodeCell({ circuitId: cid(1), command: 256, body: new Uint8Array(0) }),
      isWire('BAD_FIELD'),
    );
    assert.throws(
      () => encodeCell({ circuitId: cid(1), command: 3, body: new Uint8Array(RELAY_BODY_BYTES + 1) }),
      isWire('TOO_LARGE'),
    );
    assert.equal(asCircuitId(0), undefined);
    assert.equal(asCircuitId(2 ** 32), undefined);
    assert.equal(asCircuitId(7), 7);
  });

  it('the circuit id read and rewritten in place is the one decodeCell and encodeCell see', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 1, max: 0xffffffff }),
        (a, b) => {
          const cell = encodeCell({ circuitId: cid(a), command: LinkCommand.RELAY, body: new Uint8Array(0) });
          assert.equal(cellCircuitId(cell), a);
          setCellCircuitId(cell, cid(b));
          const d = decodeCell(cell);
          assert.ok(d.kind === 'ok' && d.value.circuitId === b && d.value.command === LinkCommand.RELAY);
        },
      ),
    );
    assert.equal(cellCircuitId(new Uint8Array(CELL_BYTES)), 0);
  });

  it('the decoded body is a view: removing layers in place changes the input', () => {
    const bytes = encodeCell({ circuitId: cid(5), command: LinkCommand.RELAY, body: new Uint8Array(0) });
    const d = decodeCell(bytes);
    assert.ok(d.kind === 'ok');
    d.value.body[0] = 0xaa;
    assert.equal(bytes[5], 0xaa);
  });
});

describe('relay bodies and messages', () => {
  it('round-trips every message kind through body and payload', () => {
    fc.assert(
      fc.property(relayMessageArb, fc.integer({ min: 1, max: 0xffff }), (m, sid) => {
        const command = relayCommandOf(m);
        const payload = encodeRelayPayload(m);
        const back = decodeRelayPayload(command, payload);
        assert.equal(back.kind, 'ok', back.kind === 'error' ? `${back.code} ${back.message}` : '');
        if (back.kind !== 'ok') return;
        assert.deepEqual(plain(back.value), plain(m));
        assert.deepEqual(encodeRelayPayload(back.value), payload);
        const circuitLevel = [
          'extend',
          'extended',
          'truncate',
          'truncated',
          'drop',
          'measure',
          'measured',
        ].includes(m.kind);
        const streamId = circuitLevel ? 0 : sid;
        const body = encodeRelayMessage(streamId, m);
        assert.equal(body.length, RELAY_BODY_BYTES);
        const full = decodeRelayMessage(body);
        assert.ok(full.kind === 'ok');
        assert.equal(full.value.streamId, streamId);
        assert.deepEqual(plain(full.value.message), plain(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('body layout: recognized, stream id, digest, length, command, data, zero padding', () => {
    const b = encodeRelayBody(0x0102, RelayCommand.DATA, Uint8Array.of(7, 8));
    assert.deepEqual([...b.subarray(0, 25)], [0, 0, 1, 2, ...new Array(16).fill(0), 0, 2, 3, 7, 8]);
    const d = decodeRelayBody(b);
    assert.ok(d.kind === 'ok');
    assert.deepEqual(d.value, { streamId: 0x0102, command: 3, data: Uint8Array.of(7, 8) });
  });

  it('body refusals: size, recognized, length, padding (except in DATA)', () => {
    const code = (b: Uint8Array) => {
      const d = decodeRelayBody(b);
      return d.kind === 'error' ? d.code : d.kind;
    };
    const good = encodeRelayBody(1, RelayCommand.DATA, Uint8Array.of(1));
    assert.equal(code(good.subarray(1)), 'BAD_LENGTH');
    const rec = good.slice();
    rec[1] = 1;
    assert.equal(code(rec), 'BAD_FIELD');
    const len = good.slice();
    len[20] = 0x07;
    len[21] = 0xe5; // 2021
    assert.equal(code(len), 'BAD_LENGTH');
    // DATA padding may be any bytes (the cell that makes a SENDME due carries random ones)...
    const pad = good.slice();
    pad[RELAY_BODY_BYTES - 1] = 1;
    assert.equal(code(pad), 'ok');
    // ...every other command's is zero.
    const end = encodeRelayBody(1, RelayCommand.END, Uint8Array.of(6));
    end[RELAY_BODY_BYTES - 1] = 1;
    assert.equal(code(end), 'BAD_PADDING');
    const padded = encodeRelayBody(1, RelayCommand.DATA, Uint8Array.of(1), Uint8Array.of(7, 7));
    assert.deepEqual([...padded.subarray(23, 27)], [1, 7, 7, 0]);
    assert.throws(
      () => encodeRelayBody(1, RelayCommand.END, Uint8Array.of(6), Uint8Array.of(1)),
      isWire('BAD_PADDING'),
    );
    assert.throws(
      () => encodeRelayBody(1, RelayCommand.DATA, new Uint8Array(MAX_RELAY_DATA), Uint8Array.of(1)),
      isWire('TOO_LARGE'),
    );
    const full = encodeRelayBody(1, RelayCommand.DATA, new Uint8Array(MAX_RELAY_DATA).fill(1));
    assert.equal(code(full), 'ok');
    assert.throws(() => encodeRelayBody(1, 3, new Uint8Array(MAX_RELAY_DATA + 1)), isWire('TOO_LARGE'));
    assert.throws(() => encodeRelayBody(65536, 3, new Uint8Array(0)), isWire('BAD_STREAM_ID'));
  });

  it('stream id rules', () => {
    assert.throws(() => encodeRelayMessage(0, { kind: 'fin' }), isWire('BAD_STREAM_ID'));
    assert.throws(() => encodeRelayMessage(1, { kind: 'truncate' }), isWire('BAD_STREAM_ID'));
    encodeRelayMessage(0, { kind: 'sendme' });
    encodeRelayMessage(9, { kind: 'sendme' });
    const d = decodeRelayMessage(encodeRelayBody(0, RelayCommand.DATA, Uint8Array.of(1)));
    assert.equal(d.kind === 'error' && d.code, 'BAD_STREAM_ID');
  });

  it('payload refusals with stable codes', () => {
    const code = (command: number, bytes: number[] | Uint8Array) => {
      const d = decodeRelayPayload(command, Uint8Array.from(bytes));
      return d.kind === 'error' ? d.code : d.kind;
    };
    const host = (h: string) => [...Buffer.from(h)];
    const begin = (h: number[], port: number) => [h.length, ...h, port >> 8, port & 0xff, 0];
    assert.equal(code(RelayCommand.BEGIN, begin(host('example.com'), 443)), 'ok');
    assert.equal(code(RelayCommand.BEGIN, begin(host('example.com'), 0)), 'BAD_PORT');
    assert.equal(code(RelayCommand.BEGIN, begin([0xc3, 0x28], 80)), 'BAD_UTF8');
    assert.equal(code(RelayCommand.BEGIN, begin(host('a b'), 80)), 'BAD_HOST');
    assert.equal(code(RelayCommand.BEGIN, begin(host('1.2.3.4::'), 80)), 'BAD_HOST');
    assert.equal(code(RelayCommand.BEGIN, [0, 0, 80, 0]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.BEGIN, [3, 97, 98]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.BEGIN, [...begin(host('a'), 1), 0]), 'TRAILING_BYTES');
    assert.equal(code(RelayCommand.DATA, []), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.END, []), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.END, [6, 0]), 'TRAILING_BYTES');
    const digest = new Array<number>(SENDME_DIGEST_BYTES).fill(0xab);
    assert.equal(code(RelayCommand.SENDME, []), 'ok');
    assert.equal(code(RelayCommand.SENDME, [1, 0, 16, ...digest]), 'ok');
    assert.equal(code(RelayCommand.SENDME, [1]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.SENDME, [0, 0, 0]), 'BAD_FIELD');
    assert.equal(code(RelayCommand.SENDME, [1, 0, 15, ...digest.slice(1)]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.SENDME, [1, 0, 16, ...digest, 0]), 'TRAILING_BYTES');
    assert.equal(code(RelayCommand.SENDME, [1, 0, 16, ...digest.slice(1)]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.SENDME, [9, 0, 2, 1, 2]), 'ok', 'a later version is kept');
    assert.equal(code(RelayCommand.EXTEND, new Uint8Array(32 + CREATE_MESSAGE_BYTES - 1)), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.EXTENDED, new Uint8Array(CREATED_MESSAGE_BYTES + 1)), 'TRAILING_BYTES');
    assert.equal(code(RelayCommand.CONNECTED, [5, 1, 2, 3, 4, 0, 0, 0, 0]), 'BAD_FIELD');
    assert.equal(code(RelayCommand.CONNECTED, [4, 1, 2, 3, 4, 0, 0, 0]), 'BAD_LENGTH');
    assert.equal(code(RelayCommand.RESOLVED, [0, 0]), 'BAD_FIELD');
    assert.equal(code(RelayCommand.RESOLVED, [1, 1, 4, 1, 2, 3, 4, 0, 0, 0, 0]), 'BAD_FIELD');
    assert.equal(code(RelayCommand.RESOLVED, [3, 0]), 'BAD_FIELD');
    assert.equal(code(RelayCommand.RESOLVED, [2, 0]), 'ok');
    assert.equal(code(99, [1, 2, 3]), 'ok');
    assert.throws(
      () => encodeRelayPayload({ kind: 'begin', host: 'x'.repeat(256), port: 1, flags: 0 }),
      isWire('BAD_LENGTH'),
    );
    assert.throws(
      () => encodeRelayPayload({ kind: 'begin', host: 'ok', port: 0, flags: 0 }),
      isWire('BAD_PORT'),
    );
    assert.throws(() => encodeRelayPayload({ kind: 'resolve', host: 'a/b' }), isWire('BAD_HOST'));
    assert.throws(() => encodeRelayPayload({ kind: 'data', data: new Uint8Array(0) }), isWire('BAD_LENGTH'));
  });

  it('SENDME: empty (version 0) or version | length | data; version 1 is a 16-byte digest', () => {
    const digest = new Uint8Array(SENDME_DIGEST_BYTES).fill(3);
    const v1 = encodeRelayPayload({ kind: 'sendme', auth: { version: SENDME_VERSION_DIGEST, data: digest } });
    assert.deepEqual([...v1], [1, 0, 16, ...digest]);
    const back = decodeRelayPayload(RelayCommand.SENDME, v1);
    assert.ok(back.kind === 'ok' && back.value.kind === 'sendme');
    assert.equal(back.value.auth?.version, 1);
    assert.deepEqual(back.value.auth?.data, digest);
    const empty = decodeRelayPayload(RelayCommand.SENDME, new Uint8Array(0));
    assert.ok(empty.kind === 'ok' && empty.value.kind === 'sendme' && empty.value.auth === undefined);
    assert.equal(encodeRelayPayload({ kind: 'sendme' }).length, 0);
    assert.deepEqual(
      [...encodeRelayPayload({ kind: 'sendme', auth: { version: 2, data: Uint8Array.of(5) } })],
      [2, 0, 1, 5],
    );
    assert.throws(
      () => encodeRelayPayload({ kind: 'sendme', auth: { version: 1, data: new Uint8Array(15) } }),
      isWire('BAD_LENGTH'),
    );
    assert.throws(
      () => encodeRelayPayload({ kind: 'sendme', auth: { version: 0, data: new Uint8Array(0) } }),
      isWire('BAD_FIELD'),
    );
  });

  it('hosts: names, IPv4 and IPv6 literals; not URLs, spaces, brackets or empty labels', () => {
    for (const h of [
      'example.com',
      'example.com.',
      'xn--bcher-kva.example',
      'bücher.example',
      '10.0.0.1',
      '::',
      '::1',
      'fe80::1:2',
      '1:2:3:4:5:6:7:8',
      '::ffff:10.0.0.1',
      'shop.anon',
    ])
      assert.ok(isValidHost(h), h);
    for (const h of [
      '',
      '.',
      'a..b',
      '.a',
      'a b',
      'a/b',
      'user@host',
      '[::1]',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      'fe80::1%eth0',
      '1.2.3.4::',
      ':1',
      'a\u0085b',
      'host:80',
    ])
      assert.ok(!isValidHost(h), h);
  });
});

describe('encodeRelayCell', () => {
  it('equals encodeCell of encodeRelayBody, in one allocation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.uint8Array({ maxLength: MAX_RELAY_DATA }),
        (circ, stream, command, data) => {
          const id = asCircuitId(circ)!;
          const expected = encodeCell({
            circuitId: id,
            command: LinkCommand.RELAY,
            body: encodeRelayBody(stream, command, data),
          });
          assert.deepEqual(encodeRelayCell(id, stream, command, data), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('RELAY_EARLY carries the same body; no other link command does', () => {
    assert.equal(LinkCommand.RELAY_EARLY, 5);
    assert.equal(MAX_RELAY_EARLY_CELLS, 8);
    const id = asCircuitId(9)!;
    const relay = encodeRelayCell(id, 0, RelayCommand.EXTEND, Uint8Array.of(1, 2));
    const early = encodeRelayCell(id, 0, RelayCommand.EXTEND, Uint8Array.of(1, 2), LinkCommand.RELAY_EARLY);
    assert.equal(early[4], LinkCommand.RELAY_EARLY);
    assert.deepEqual(early.subarray(5), relay.subarray(5));
    const d = decodeCell(early);
    assert.ok(d.kind === 'ok' && d.value.command === LinkCommand.RELAY_EARLY);
    assert.throws(
      () => encodeRelayCell(id, 0, RelayCommand.DATA, Uint8Array.of(1), LinkCommand.CREATE),
      isWire('BAD_FIELD'),
    );
  });

  it('relayCellPadding is the view after the data', () => {
    const cell = encodeRelayCell(asCircuitId(9)!, 1, RelayCommand.DATA, new Uint8Array(100).fill(1));
    const pad = relayCellPadding(cell);
    assert.equal(pad.length, MAX_RELAY_DATA - 100);
    pad.fill(0xee);
    assert.equal(cell[5 + 23 + 99], 1);
    assert.equal(cell[5 + 23 + 100], 0xee);
    assert.equal(cell[CELL_BYTES - 1], 0xee);
    const d = decodeRelayBody(cell.subarray(5));
    assert.ok(d.kind === 'ok' && d.value.data.length === 100);
  });
});
