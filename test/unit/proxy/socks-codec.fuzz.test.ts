// Fuzz targets for every SOCKS parser: random bytes and mutations of valid messages. Properties: never
// throw; an 'ok' consumed no more than it had, re-encodes to exactly those bytes (one encoding per
// value), and every strict prefix of it asks for more bytes; decoding is prefix-stable (appending bytes
// never turns an answer for a complete message into something else).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeMethodSelection,
  decodeSocks4Reply,
  decodeSocks4Request,
  decodeSocks5Greeting,
  decodeSocks5Reply,
  decodeSocks5Request,
  decodeUserPassRequest,
  decodeUserPassStatus,
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks4Request,
  encodeSocks5Greeting,
  encodeSocks5Reply,
  encodeSocks5Request,
  encodeUserPassRequest,
  encodeUserPassStatus,
  MAX_CLIENT_MESSAGE_BYTES,
} from '../../../src/proxy/socks-codec.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';

const RUNS = 2000;
const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

interface Target {
  readonly name: string;
  readonly decode: (b: Uint8Array) => DecodeResult<unknown>;
  readonly reencode: (v: never) => Uint8Array;
  readonly seeds: readonly Uint8Array[];
  /** Largest message: an answer must come by then. */
  readonly max: number;
}

const targets: Target[] = [
  {
    name: 'SOCKS5 greeting',
    decode: decodeSocks5Greeting,
    reencode: encodeSocks5Greeting as (v: never) => Uint8Array,
    seeds: [u8(5, 1, 0), u8(5, 2, 0, 2), u8(5, 3, 0, 1, 2)],
    max: 257,
  },
  {
    name: 'method selection',
    decode: decodeMethodSelection,
    reencode: encodeMethodSelection as (v: never) => Uint8Array,
    seeds: [u8(5, 0), u8(5, 0xff)],
    max: 2,
  },
  {
    name: 'username/password',
    decode: decodeUserPassRequest,
    reencode: encodeUserPassRequest as (v: never) => Uint8Array,
    seeds: [u8(1, 5, ...ascii('alice'), 3, ...ascii('pw1')), u8(1, 0, 0)],
    max: 513,
  },
  {
    name: 'username/password status',
    decode: decodeUserPassStatus,
    reencode: encodeUserPassStatus as (v: never) => Uint8Array,
    seeds: [u8(1, 0)],
    max: 2,
  },
  {
    name: 'SOCKS5 request',
    decode: decodeSocks5Request,
    reencode: encodeSocks5Request as (v: never) => Uint8Array,
    seeds: [
      u8(5, 1, 0, 1, 127, 0, 0, 1, 0, 80),
      u8(5, 1, 0, 3, 11, ...ascii('example.com'), 1, 0xbb),
      u8(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0x1f, 0x90),
      u8(5, 1, 0, 3, 7, ...ascii('1.2.3.4'), 0, 80),
    ],
    max: 262,
  },
  {
    name: 'SOCKS5 reply',
    decode: decodeSocks5Reply,
    reencode: ((v: { reply: number; type: 'ipv4'; host: string; port: number }) =>
      encodeSocks5Reply(v.reply, v)) as (v: never) => Uint8Array,
    seeds: [u8(5, 0, 0, 1, 0, 0, 0, 0, 0, 0), u8(5, 4, 0, 3, 1, 0x61, 0, 0)],
    max: 262,
  },
  {
    name: 'SOCKS4 request',
    decode: decodeSocks4Request,
    reencode: encodeSocks4Request as (v: never) => Uint8Array,
    seeds: [
      u8(4, 1, 0, 80, 127, 0, 0, 1, ...ascii('bob'), 0),
      u8(4, 1, 1, 0xbb, 0, 0, 0, 1, 0, ...ascii('example.com'), 0),
      u8(4, 1, 0, 80, 0, 0, 0, 9, 0x75, 0, ...ascii('x.anon'), 0),
    ],
    max: MAX_CLIENT_MESSAGE_BYTES,
  },
  {
    name: 'SOCKS4 reply',
    decode: decodeSocks4Reply,
    reencode: ((v: { status: number; port: number; ip: string }) =>
      encodeSocks4Reply(v.status, v.port, v.ip)) as (v: never) => Uint8Array,
    seeds: [u8(0, 0x5a, 0, 0, 0, 0, 0, 0)],
    max: 8,
  },
];

function check(t: Target, bytes: Uint8Array): void {
  const r = t.decode(bytes);
  if (r.kind === 'ok') {
    assert.ok(r.consumed > 0 && r.consumed <= bytes.length);
    const msg = bytes.subarray(0, r.consumed);
    assert.deepEqual(t.reencode(r.value as never), msg, 'one encoding per value');
    for (let n = 0; n < msg.length; n++) assert.equal(t.decode(msg.subarray(0, n)).kind, 'needMore');
    const more = t.decode(Uint8Array.from([...bytes, 0, 1, 2]));
    assert.equal(more.kind, 'ok');
    assert.equal(more.kind === 'ok' ? more.consumed : -1, r.consumed);
  } else if (r.kind === 'needMore') {
    assert.ok(bytes.length < t.max, `needMore at ${bytes.length} bytes (max ${t.max})`);
  } else {
    assert.equal(typeof r.code, 'string');
    assert.equal(t.decode(Uint8Array.from([...bytes, 7])).kind, 'error', 'errors are prefix-stable');
  }
}

/** A valid message with a few bytes changed, inserted, deleted, or truncated. */
function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), v: fc.constant(0) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat(), v: fc.constant(0) }),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([seed, edits]) => {
      const b = [...seed];
      for (const e of edits) {
        const at = b.length === 0 ? 0 : e.at % (b.length + (e.op === 'insert' ? 1 : 0));
        if (e.op === 'set' && b.length > 0) b[at] = e.v;
        else if (e.op === 'insert') b.splice(at, 0, e.v);
        else if (e.op === 'delete') b.splice(at, 1);
        else b.length = at;
      }
      return Uint8Array.from(b);
    });
}

describe('SOCKS parsers under fuzzing', () => {
  for (const t of targets) {
    it(`${t.name}: random bytes`, () => {
      const first = t.seeds[0]?.[0] ?? 0;
      const random = fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        // Mostly the right version byte, so the parser gets past it.
        fc.uint8Array({ maxLength: 600 }).map((b) => Uint8Array.from([first, ...b])),
      );
      fc.assert(
        fc.property(random, (b) => check(t, b)),
        { numRuns: RUNS },
      );
    });
    it(`${t.name}: mutated valid messages`, () => {
      for (const s of t.seeds) check(t, s);
      fc.assert(
        fc.property(mutated(t.seeds), (b) => check(t, b)),
        { numRuns: RUNS },
      );
    });
  }
});
