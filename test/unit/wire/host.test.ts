// The one IP/host parser: literals both ways, the BEGIN host rules, IPv4-mapped addresses, prefixes,
// loopback and not-public classification. Properties against Node's own parsers (node:net, WHATWG URL).
import assert from 'node:assert/strict';
import { BlockList, isIP, isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatIPv4,
  formatIPv6,
  formatIp,
  isLoopback,
  isNotPublic,
  isV4Mapped,
  isValidHost,
  MAX_HOST_BYTES,
  maskPrefix,
  parseHost,
  parseIPv4,
  parseIPv6,
  parseIp,
  unmapIp,
} from '../../../src/wire/host.ts';

const RUNS = 500;

describe('IP literals', () => {
  it('IPv4: strict dotted quads only', () => {
    assert.deepEqual(parseIPv4('127.0.0.1'), Uint8Array.from([127, 0, 0, 1]));
    assert.equal(formatIPv4(Uint8Array.from([10, 1, 255, 0])), '10.1.255.0');
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-4', '', 'a.b.c.d', '1..2.3']) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });

  it('IPv6: RFC 5952 text, as the WHATWG URL parser writes it', () => {
    assert.equal(formatIPv6(new Uint8Array(16)), '::');
    assert.equal(formatIPv6(parseIPv6('::1')!), '::1');
    assert.equal(formatIPv6(parseIPv6('2001:DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
    assert.equal(formatIPv6(parseIPv6('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIPv6(parseIPv6('::ffff:1.2.3.4')!), '::ffff:102:304');
    for (const bad of [
      '',
      ':',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '::1::',
      '12345::',
      'g::',
      '[::1]',
      '::1%eth0',
    ]) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIPv6(b);
        assert.deepEqual(parseIPv6(text), b);
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        assert.equal(parseIPv6(text) !== undefined, isIPv6(text), text);
      }),
      { numRuns: 500 },
    );
  });

  it('every IPv4 address formats and parses back; Node agrees on what is a literal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
        assert.deepEqual(parseIPv4(formatIPv4(b)), b);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.string({ maxLength: 16 })), (text) => {
        assert.equal(parseIPv4(text) !== undefined, isIP(text) === 4, text);
      }),
      { numRuns: RUNS },
    );
  });

  it('agrees with node:net on every string of address characters (a fuzz target)', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFg:.%'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 46 }), (cs) => {
        const text = cs.join('');
        const ip = parseIp(text);
        assert.equal(ip === undefined ? 0 : ip.family, text.includes('%') ? 0 : isIP(text), text);
        if (!text.includes('%'))
          assert.equal(isValidHost(text) && text.includes(':'), ip?.family === 6, text);
      }),
      { numRuns: RUNS * 20 },
    );
  });

  it('parseIp: IPv4 or IPv6, a zone id only when allowed (and then dropped)', () => {
    assert.deepEqual(parseIp('10.0.0.1'), { family: 4, bytes: Uint8Array.from([10, 0, 0, 1]) });
    assert.equal(parseIp('fe80::1')?.family, 6);
    assert.equal(parseIp('fe80::1%eth0'), undefined);
    assert.deepEqual(parseIp('fe80::1%eth0', { zone: true }), parseIp('fe80::1'));
    for (const bad of ['fe80::1%', '%eth0', '10.0.0.1%eth0', 'example.com', ''])
      assert.equal(parseIp(bad, { zone: true }), undefined, bad);
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = parseIp(text);
        assert.ok(ip !== undefined, text);
        assert.equal(ip.family, isIP(text));
        assert.deepEqual(parseIp(formatIp(ip)), ip);
      }),
      { numRuns: RUNS },
    );
  });

  it('an IPv4-mapped IPv6 address unmaps to its IPv4; nothing else does', () => {
    const mapped = parseIp('::ffff:10.1.2.3')!;
    assert.ok(isV4Mapped(mapped.bytes));
    assert.deepEqual(unmapIp(mapped), parseIp('10.1.2.3'));
    assert.deepEqual(unmapIp(parseIp('::ffff:a01:203')!), parseIp('10.1.2.3'));
    for (const other of ['::10.1.2.3', '64:ff9b::10.1.2.3', '::1', '10.1.2.3']) {
      const ip = parseIp(other)!;
      assert.deepEqual(unmapIp(ip), ip, other);
    }
  });

  it('maskPrefix keeps the first bits and clears the rest', () => {
    assert.deepEqual(maskPrefix(Uint8Array.from([10, 1, 2, 3]), 16), Uint8Array.from([10, 1, 0, 0]));
    assert.deepEqual(maskPrefix(Uint8Array.from([203, 0, 113, 255]), 20), Uint8Array.from([203, 0, 112, 0]));
    assert.deepEqual(maskPrefix(parseIPv6('2001:db8:1:2:3:4:5:6')!, 64), parseIPv6('2001:db8:1:2::'));
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 128 }),
        (b, bits) => {
          const m = maskPrefix(b, bits);
          assert.deepEqual(maskPrefix(m, bits), m);
          assert.deepEqual(maskPrefix(b, 128), b);
          for (let bit = 0; bit < 128; bit++) {
            const want = bit < bits ? (b[bit >> 3]! >> (7 - (bit & 7))) & 1 : 0;
            assert.equal((m[bit >> 3]! >> (7 - (bit & 7))) & 1, want);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('hosts as BEGIN carries them', () => {
  it('classifies names and literals; international names are names', () => {
    assert.deepEqual(parseHost('example.com'), { kind: 'name', text: 'example.com' });
    assert.deepEqual(parseHost('bücher.example'), { kind: 'name', text: 'bücher.example' });
    assert.deepEqual(parseHost('1.2.3'), { kind: 'name', text: '1.2.3' });
    assert.deepEqual(parseHost('10.0.0.1'), {
      kind: 'ipv4',
      text: '10.0.0.1',
      bytes: Uint8Array.from([10, 0, 0, 1]),
    });
    assert.equal(parseHost('::FFFF:1.2.3.4')?.kind, 'ipv6');
    assert.equal(parseHost('é'.repeat(127))?.kind, 'name'); // 254 bytes
    for (const bad of [
      'é'.repeat(128),
      'x'.repeat(MAX_HOST_BYTES + 1),
      'a b',
      'fe80::1%eth0',
      '[::1]',
      '1.2.3.4::',
    ])
      assert.equal(parseHost(bad), undefined, bad);
  });

  it('a valid host is valid UTF-8 text whose characters the protocol lists', () => {
    const allowed = fc.oneof(
      fc.constantFrom(...'abcXYZ019-_'),
      fc
        .integer({ min: 0xa0, max: 0x10ffff })
        .filter((c) => c < 0xd800 || c > 0xdfff)
        .map((c) => String.fromCodePoint(c)),
    );
    const label = fc.array(allowed, { minLength: 1, maxLength: 20 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 5 }), fc.boolean(), (labels, dot) => {
        const host = labels.join('.') + (dot ? '.' : '');
        assert.ok(isValidHost(host), host);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const host = parseHost(text);
        if (host === undefined) return;
        assert.ok(isValidHost(text));
        assert.ok(Buffer.byteLength(text) <= MAX_HOST_BYTES);
        assert.equal(host.text, text);
        for (const ch of text)
          assert.ok(ch > ' ' && (ch < '\u007f' || ch >= '\u00a0') && !'/@[]%'.includes(ch), text);
        if (host.kind !== 'name') assert.deepEqual(parseIp(text)?.bytes, host.bytes);
        else assert.equal(parseIp(text), undefined);
      }),
      { numRuns: RUNS * 4 },
    );
  });
});

describe('loopback and not-public addresses', () => {
  // Node's own BlockList over the same networks: the table and the bit arithmetic agree with it.
  const reference = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    reference.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const)
    reference.addSubnet(net, bits, 'ipv6');

  it('classifies as Node\u2019s BlockList does, a mapped address as its IPv4', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const ip = unmapIp(parseIp(text)!);
        const family = ip.family === 4 ? 'ipv4' : 'ipv6';
        assert.equal(isNotPublic(ip), reference.check(formatIp(ip), family), text);
        const mapped = parseIp(`::ffff:${formatIp(ip)}`);
        if (ip.family === 4 && mapped !== undefined) assert.equal(isNotPublic(mapped), isNotPublic(ip));
      }),
      { numRuns: RUNS * 4 },
    );
    for (const ip of [
      '10.1.2.3',
      '127.0.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:192.168.1.1',
      '::ffff:a00:1',
    ])
      assert.ok(isNotPublic(parseIp(ip)!), ip);
    for (const ip of ['1.1.1.1', '203.0.113.7', '2001:db8::1', '::ffff:8.8.8.8'])
      assert.ok(!isNotPublic(parseIp(ip)!), ip);
  });

  it('loopback is 127/8 and ::1, mapped or not', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1'])
      assert.ok(isLoopback(parseIp(ip)!), ip);
    for (const ip of ['128.0.0.1', '::', '::2', '::127.0.0.1', '10.0.0.1'])
      assert.ok(!isLoopback(parseIp(ip)!), ip);
    assert.ok(isIPv6('::1'));
  });
});
