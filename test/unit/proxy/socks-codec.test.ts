// SOCKS codec: vectors written out by hand from the RFCs, round trips, and every refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthMethod,
  Command,
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
  Socks4Rep,
  type Socks4Request,
  Socks5Rep,
  type Socks5Request,
  socks5RepForDecodeError,
} from '../../../src/proxy/socks-codec.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';

const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

function ok<T>(r: DecodeResult<T>): { value: T; consumed: number } {
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  if (r.kind !== 'ok') throw new Error('unreachable');
  return r;
}
function errCode<T>(r: DecodeResult<T>): string {
  assert.equal(r.kind, 'error', JSON.stringify(r));
  return r.kind === 'error' ? r.code : '';
}
/** Every strict prefix of a valid message asks for more bytes. */
function prefixesNeedMore<T>(decode: (b: Uint8Array) => DecodeResult<T>, bytes: Uint8Array): void {
  for (let n = 0; n < bytes.length; n++)
    assert.equal(decode(bytes.subarray(0, n)).kind, 'needMore', `prefix ${n}`);
}

describe('SOCKS5 greeting and method selection', () => {
  it('decodes RFC 1928 greetings and re-encodes them', () => {
    const bytes = u8(5, 2, 0, 2);
    const r = ok(decodeSocks5Greeting(bytes));
    assert.deepEqual(r.value.methods, [0, 2]);
    assert.equal(r.consumed, 4);
    assert.deepEqual(encodeSocks5Greeting(r.value), bytes);
    prefixesNeedMore(decodeSocks5Greeting, bytes);
    const all = u8(5, 255, ...new Array<number>(255).fill(1));
    assert.equal(ok(decodeSocks5Greeting(all)).consumed, 257);
    assert.equal(ok(decodeSocks5Greeting(u8(5, 1, 0, 9, 9))).consumed, 3, 'stops at its own end');
  });
  it('refuses a wrong version and zero methods', () => {
    assert.equal(errCode(decodeSocks5Greeting(u8(4, 1, 0))), 'BAD_VERSION');
    assert.equal(errCode(decodeSocks5Greeting(u8(5, 0))), 'BAD_LENGTH');
    assert.throws(() => encodeSocks5Greeting({ methods: [] }), { code: 'BAD_LENGTH' });
    assert.throws(() => encodeSocks5Greeting({ methods: [256] }), { code: 'BAD_FIELD' });
  });
  it('method selection', () => {
    assert.deepEqual(encodeMethodSelection(AuthMethod.NO_ACCEPTABLE), u8(5, 0xff));
    assert.equal(ok(decodeMethodSelection(u8(5, 2))).value, 2);
    assert.equal(errCode(decodeMethodSelection(u8(1, 2))), 'BAD_VERSION');
    prefixesNeedMore(decodeMethodSelection, u8(5, 0));
  });
});

describe('RFC 1929 username/password', () => {
  it('round trips, with empty and 255-byte fields', () => {
    for (const [user, pass] of [
      ['alice', 's3cret'],
      ['', ''],
      ['u'.repeat(255), 'p'.repeat(255)],
    ] as const) {
      const msg = { username: Buffer.from(user), password: Buffer.from(pass) };
      const bytes = encodeUserPassRequest(msg);
      assert.deepEqual(bytes, u8(1, user.length, ...ascii(user), pass.length, ...ascii(pass)));
      const r = ok(decodeUserPassRequest(bytes));
      assert.deepEqual(Buffer.from(r.value.username).toString(), user);
      assert.deepEqual(Buffer.from(r.value.password).toString(), pass);
      assert.equal(r.consumed, bytes.length);
      prefixesNeedMore(decodeUserPassRequest, bytes);
    }
  });
  it('refuses a wrong subnegotiation version and over-long fields', () => {
    assert.equal(errCode(decodeUserPassRequest(u8(5, 1, 97, 1, 98))), 'BAD_VERSION');
    assert.throws(() =>
      encodeUserPassRequest({ username: new Uint8Array(256), password: new Uint8Array(0) }),
    );
  });
  it('status', () => {
    assert.deepEqual(encodeUserPassStatus(0), u8(1, 0));
    assert.equal(ok(decodeUserPassStatus(u8(1, 1))).value, 1);
    assert.equal(errCode(decodeUserPassStatus(u8(5, 0))), 'BAD_VERSION');
  });
});

describe('SOCKS5 request and reply', () => {
  const vectors: [Socks5Request, Uint8Array][] = [
    [{ command: 1, type: 'ipv4', host: '127.0.0.1', port: 80 }, u8(5, 1, 0, 1, 127, 0, 0, 1, 0, 80)],
    [
      { command: 1, type: 'domain', host: 'example.com', port: 443 },
      u8(5, 1, 0, 3, 11, ...ascii('example.com'), 1, 0xbb),
    ],
    [
      { command: 1, type: 'ipv6', host: '2001:db8::1', port: 8080 },
      u8(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0x1f, 0x90),
    ],
    [{ command: 3, type: 'ipv4', host: '0.0.0.1', port: 53 }, u8(5, 3, 0, 1, 0, 0, 0, 1, 0, 53)],
    [
      { command: 0xf0, type: 'domain', host: 'x.anon', port: 1 },
      u8(5, 0xf0, 0, 3, 6, ...ascii('x.anon'), 0, 1),
    ],
    [{ command: 1, type: 'domain', host: '::1', port: 22 }, u8(5, 1, 0, 3, 3, ...ascii('::1'), 0, 22)],
    // An international name, in UTF-8 as BEGIN carries it (docs/protocol.md, Hosts).
    [
      { command: 1, type: 'domain', host: 'é.fr', port: 80 },
      u8(5, 1, 0, 3, 5, 0xc3, 0xa9, ...ascii('.fr'), 0, 80),
    ],
  ];
  it('decodes the vectors, re-encodes them byte for byte; every prefix needs more', () => {
    for (const [value, bytes] of vectors) {
      const r = ok(decodeSocks5Request(bytes));
      assert.deepEqual(r.value, value);
      assert.equal(r.consumed, bytes.length);
      assert.deepEqual(encodeSocks5Request(value), bytes);
      prefixesNeedMore(decodeSocks5Request, bytes);
    }
  });
  it('a 255-byte domain is fine; unknown commands decode (the server answers 07)', () => {
    const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    assert.equal(name.length, 255);
    const bytes = encodeSocks5Request({ command: Command.BIND, type: 'domain', host: name, port: 1 });
    assert.equal(ok(decodeSocks5Request(bytes)).value.host, name);
  });
  it('refuses: version, reserved byte, address type, empty or bad domain, port 0', () => {
    const cases: [Uint8Array, string, number][] = [
      [u8(4, 1, 0, 1, 1, 2, 3, 4, 0, 80), 'BAD_VERSION', 1],
      [u8(5, 1, 1, 1, 1, 2, 3, 4, 0, 80), 'BAD_FIELD', 1],
      [u8(5, 1, 0, 2, 1, 2, 3, 4, 0, 80), 'BAD_ADDRESS_TYPE', 8],
      [u8(5, 1, 0, 0), 'BAD_ADDRESS_TYPE', 8],
      [u8(5, 1, 0, 3, 0, 0, 80), 'BAD_LENGTH', 1],
      [u8(5, 1, 0, 3, 3, ...ascii('a b'), 0, 80), 'BAD_HOST', 4],
      [u8(5, 1, 0, 3, 3, 0x61, 0), 'BAD_HOST', 4], // a NUL is refused before the rest arrives
      [u8(5, 1, 0, 3, 2, 0xc3, 0x28, 0, 80), 'BAD_HOST', 4], // not UTF-8
      [u8(5, 1, 0, 3, 2, 0xc2, 0x85, 0, 80), 'BAD_HOST', 4], // U+0085, a C1 control
      [u8(5, 1, 0, 3, 3, 0x61, 0xff), 'BAD_HOST', 4], // a byte UTF-8 never uses, before the rest
      [u8(5, 1, 0, 3, 3, 0x61, 0x7f), 'BAD_HOST', 4], // DEL
      [u8(5, 1, 0, 3, 5, ...ascii('[::1]'), 0, 80), 'BAD_HOST', 4],
      [u8(5, 1, 0, 3, 3, ...ascii('a..'), 0, 80), 'BAD_HOST', 4],
      [u8(5, 1, 0, 1, 1, 2, 3, 4, 0, 0), 'BAD_PORT', 1],
    ];
    for (const [bytes, code, rep] of cases) {
      const c = errCode(decodeSocks5Request(bytes));
      assert.equal(c, code, Buffer.from(bytes).toString('hex'));
      assert.equal(socks5RepForDecodeError(c), rep);
    }
  });
  it('replies: default bound address 0.0.0.0:0, round trips for every address type', () => {
    assert.deepEqual(encodeSocks5Reply(Socks5Rep.SUCCEEDED), u8(5, 0, 0, 1, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(encodeSocks5Reply(Socks5Rep.COMMAND_NOT_SUPPORTED).subarray(0, 2), u8(5, 7));
    for (const bound of [
      { type: 'ipv4', host: '10.0.0.1', port: 0 },
      { type: 'ipv6', host: '::1', port: 65535 },
      { type: 'domain', host: 'relay.example', port: 9 },
    ] as const) {
      const bytes = encodeSocks5Reply(Socks5Rep.HOST_UNREACHABLE, bound);
      const r = ok(decodeSocks5Reply(bytes));
      assert.deepEqual(r.value, { reply: 4, ...bound });
      prefixesNeedMore(decodeSocks5Reply, bytes);
    }
    assert.equal(errCode(decodeSocks5Reply(u8(4, 0, 0, 1, 0, 0, 0, 0, 0, 0))), 'BAD_VERSION');
  });
  it('encoders refuse values with no encoding', () => {
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'ipv4', host: 'example.com', port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'ipv6', host: '1.2.3.4', port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'domain', host: '', port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'domain', host: 'x'.repeat(256), port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'domain', host: 'é'.repeat(128), port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'domain', host: 'a\ud800', port: 1 }));
    assert.throws(() => encodeSocks5Request({ command: 1, type: 'ipv4', host: '1.2.3.4', port: 70000 }));
    assert.throws(() => encodeSocks5Request({ command: 300, type: 'ipv4', host: '1.2.3.4', port: 1 }));
  });
});

describe('SOCKS4 and SOCKS4a', () => {
  const vectors: [Socks4Request, Uint8Array][] = [
    [
      { command: 1, port: 80, ip: '127.0.0.1', userid: Buffer.from('bob') },
      u8(4, 1, 0, 80, 127, 0, 0, 1, ...ascii('bob'), 0),
    ],
    [{ command: 1, port: 80, ip: '10.1.2.3', userid: new Uint8Array(0) }, u8(4, 1, 0, 80, 10, 1, 2, 3, 0)],
    [
      { command: 1, port: 443, ip: '0.0.0.1', userid: new Uint8Array(0), hostname: 'example.com' },
      u8(4, 1, 1, 0xbb, 0, 0, 0, 1, 0, ...ascii('example.com'), 0),
    ],
    [
      { command: 2, port: 1, ip: '0.0.0.255', userid: Buffer.from('u'), hostname: 'a.anon' },
      u8(4, 2, 0, 1, 0, 0, 0, 255, 0x75, 0, ...ascii('a.anon'), 0),
    ],
  ];
  it('decodes the vectors, re-encodes them byte for byte; every prefix needs more', () => {
    for (const [value, bytes] of vectors) {
      const r = ok(decodeSocks4Request(bytes));
      assert.deepEqual(
        { ...r.value, userid: Buffer.from(r.value.userid) },
        { ...value, userid: Buffer.from(value.userid) },
      );
      assert.equal(r.consumed, bytes.length);
      assert.deepEqual(encodeSocks4Request(value), bytes);
      prefixesNeedMore(decodeSocks4Request, bytes);
    }
  });
  it('limits: userid and hostname up to 255 bytes, refused at the 256th', () => {
    const max = u8(
      4,
      1,
      0,
      80,
      0,
      0,
      0,
      1,
      ...new Array<number>(255).fill(0x75),
      0,
      ...ascii('h'.repeat(255)),
      0,
    );
    assert.equal(ok(decodeSocks4Request(max)).consumed, max.length);
    assert.equal(
      errCode(decodeSocks4Request(u8(4, 1, 0, 80, 1, 2, 3, 4, ...new Array<number>(256).fill(0x75)))),
      'TOO_LARGE',
    );
    const longHost = u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...ascii('h'.repeat(256)));
    assert.equal(errCode(decodeSocks4Request(longHost)), 'TOO_LARGE');
    assert.equal(decodeSocks4Request(longHost.subarray(0, longHost.length - 1)).kind, 'needMore');
  });
  it('refuses: version, port 0, 0.0.0.0, empty or bad 4a hostname', () => {
    const cases: [Uint8Array, string][] = [
      [u8(5, 1, 0, 80, 1, 2, 3, 4, 0), 'BAD_VERSION'],
      [u8(4, 1, 0, 0, 1, 2, 3, 4, 0), 'BAD_PORT'],
      [u8(4, 1, 0, 80, 0, 0, 0, 0, 0), 'BAD_FIELD'],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, 0), 'BAD_LENGTH'],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...ascii('a b'), 0), 'BAD_HOST'],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, 0xff), 'BAD_HOST'],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...ascii('..'), 0), 'BAD_HOST'],
      [u8(4, 1, 0, 80, 0, 0, 0, 1, 0, 0xe4, 0xbe, 0), 'BAD_HOST'], // cut UTF-8
    ];
    // SOCKS4a hostnames are UTF-8 too.
    const idn = u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...Buffer.from('例え.jp'), 0);
    assert.equal(ok(decodeSocks4Request(idn)).value.hostname, '例え.jp');
    for (const [bytes, code] of cases) assert.equal(errCode(decodeSocks4Request(bytes)), code);
  });
  it('replies', () => {
    assert.deepEqual(encodeSocks4Reply(Socks4Rep.GRANTED), u8(0, 0x5a, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(ok(decodeSocks4Reply(encodeSocks4Reply(0x5b, 8080, '1.2.3.4'))).value, {
      status: 0x5b,
      port: 8080,
      ip: '1.2.3.4',
    });
    assert.equal(errCode(decodeSocks4Reply(u8(4, 0x5a, 0, 0, 0, 0, 0, 0))), 'BAD_VERSION');
    prefixesNeedMore(decodeSocks4Reply, encodeSocks4Reply(0x5a));
    assert.throws(() => encodeSocks4Request({ command: 1, port: 1, ip: '1.2.3.4', userid: u8(1, 0, 2) }));
  });
});
