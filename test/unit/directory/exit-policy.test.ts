import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExitPolicyError, parseExitPolicy, parseExitRule } from '../../../src/directory/exit-policy.ts';
import { isExitAllowed, verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import { encodeDescriptorBody } from '../../../src/wire/descriptor.ts';
import type { ExitRule } from '../../../src/wire/descriptor-types.ts';
import { parseIPv6 } from '../../../src/wire/host.ts';
import { baseDescriptor, signedBase, verifyOpts } from '../wire/descriptor-fixtures.ts';

const bytes = (...b: number[]) => new Uint8Array(b);
const v6 = (s: string) => parseIPv6(s)!;

function expectRule(line: string, expected: ExitRule): void {
  assert.deepEqual(parseExitRule(line), expected, line);
}

function expectRefused(line: string, pattern: RegExp): void {
  assert.throws(
    () => parseExitRule(line),
    (err: unknown) =>
      err instanceof ExitPolicyError &&
      err.code === 'BAD_EXIT_POLICY' &&
      err.name === 'ExitPolicyError' &&
      pattern.test(err.message) &&
      err.message.includes(line),
    line,
  );
}

describe('parseExitRule', () => {
  it('parses accept/reject with * address and * ports (1-65535)', () => {
    expectRule('accept *:*', {
      action: 'accept',
      family: 0,
      address: new Uint8Array(0),
      prefixLength: 0,
      portLow: 1,
      portHigh: 65535,
    });
    expectRule('reject *:25', {
      action: 'reject',
      family: 0,
      address: new Uint8Array(0),
      prefixLength: 0,
      portLow: 25,
      portHigh: 25,
    });
  });

  it('tolerates surrounding whitespace and several spaces or tabs between the parts', () => {
    assert.deepEqual(parseExitRule('  accept \t *:80-81  '), parseExitRule('accept *:80-81'));
  });

  it('parses port ranges, including the edges and leading zeros', () => {
    const r = parseExitRule('accept *:80-81');
    assert.equal(r.portLow, 80);
    assert.equal(r.portHigh, 81);
    assert.deepEqual(
      [parseExitRule('accept *:1').portLow, parseExitRule('accept *:65535').portHigh],
      [1, 65535],
    );
    const same = parseExitRule('accept *:443-443');
    assert.deepEqual([same.portLow, same.portHigh], [443, 443]);
    assert.equal(parseExitRule('accept *:00080').portLow, 80);
  });

  it('parses IPv4 with and without a prefix, clearing host bits', () => {
    expectRule('reject 10.1.2.3/8:*', {
      action: 'reject',
      family: 4,
      address: bytes(10, 0, 0, 0),
      prefixLength: 8,
      portLow: 1,
      portHigh: 65535,
    });
    expectRule('accept 192.168.255.7:22', {
      action: 'accept',
      family: 4,
      address: bytes(192, 168, 255, 7),
      prefixLength: 32,
      portLow: 22,
      portHigh: 22,
    });
    assert.deepEqual(parseExitRule('reject 192.168.255.7/17:*').address, bytes(192, 168, 128, 0));
    assert.deepEqual(parseExitRule('reject 255.255.255.255/0:*').address, bytes(0, 0, 0, 0));
    assert.deepEqual(parseExitRule('reject 1.2.3.4/32:*').address, bytes(1, 2, 3, 4));
  });

  it('parses bracketed IPv6 with and without a prefix, clearing host bits', () => {
    const r = parseExitRule('accept [2001:db8::1]/32:80-81');
    assert.equal(r.family, 6);
    assert.equal(r.prefixLength, 32);
    assert.deepEqual(r.address, bytes(0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(12)));
    assert.deepEqual([r.portLow, r.portHigh], [80, 81]);

    const host = parseExitRule('reject [::1]:*');
    assert.equal(host.prefixLength, 128);
    assert.deepEqual(host.address, bytes(...new Uint8Array(15), 1));

    const any6 = parseExitRule('accept [::]/0:443');
    assert.deepEqual(any6.address, new Uint8Array(16));
    assert.equal(any6.prefixLength, 0);

    assert.deepEqual(
      parseExitRule('reject [FE80::ABCD]/10:*').address,
      bytes(0xfe, 0x80, ...new Uint8Array(14)),
    );
    assert.deepEqual(
      parseExitRule('reject [2001:db8:ffff::]/36:*').address,
      bytes(0x20, 0x01, 0x0d, 0xb8, 0xf0, ...new Uint8Array(11)),
    );
  });

  it('reads IPv6 in full, compressed and IPv4-embedded forms', () => {
    assert.deepEqual(v6('1:2:3:4:5:6:7:8'), bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
    assert.deepEqual(v6('1::'), bytes(0, 1, ...new Uint8Array(14)));
    assert.deepEqual(v6('::'), new Uint8Array(16));
    assert.deepEqual(v6('1::8'), bytes(0, 1, ...new Uint8Array(12), 0, 8));
    assert.deepEqual(v6('::ffff:1.2.3.4'), bytes(...new Uint8Array(10), 0xff, 0xff, 1, 2, 3, 4));
    assert.deepEqual(v6('::1.2.3.4'), bytes(...new Uint8Array(12), 1, 2, 3, 4));
    assert.deepEqual(v6('0:0:0:0:0:ffff:10.0.0.1'), bytes(...new Uint8Array(10), 0xff, 0xff, 10, 0, 0, 1));
    assert.deepEqual(parseExitRule('reject [::ffff:10.1.2.3]/104:*').address, v6('::ffff:10.0.0.0'));
  });

  it('agrees with a reference IPv6 parser on every address it emits (property)', () => {
    const arbV6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const fullForm = (b: Uint8Array) =>
      Array.from({ length: 8 }, (_, i) => (((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)).toString(16)).join(
        ':',
      );
    fc.assert(
      fc.property(arbV6, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }), (b, from, len) => {
        // Also a compressed form: zero a run of groups, then write it with "::".
        const z = b.slice();
        const end = Math.min(8, from + len);
        for (let i = from * 2; i < end * 2; i++) z[i] = 0;
        const groups = fullForm(z).split(':');
        const compressed =
          end > from ? `${groups.slice(0, from).join(':')}::${groups.slice(end).join(':')}` : fullForm(z);
        assert.deepEqual(v6(fullForm(b)), b);
        assert.deepEqual(v6(compressed), z, compressed);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses lines that are not "accept|reject ADDRESS:PORTS"', () => {
    for (const line of [
      '',
      'accept',
      'allow *:*',
      'ACCEPT *:*',
      'accept *:* extra',
      'accept*:*',
      'reject  ',
      'accept *:8 0',
    ]) {
      expectRefused(line, /is not "accept\|reject ADDRESS:PORTS"/);
    }
  });

  it('refuses a missing :PORTS', () => {
    expectRefused('accept *', /has no :PORTS/);
    expectRefused('accept 1.2.3.4', /has no :PORTS/);
    expectRefused('accept 1.2.3.4/8', /has no :PORTS/);
  });

  it('refuses bad ports', () => {
    for (const line of [
      'accept *:',
      'accept *:0',
      'accept *:65536',
      'accept *:99999',
      'accept *:123456',
      'accept *:80-79',
      'accept *:0-80',
      'accept *:80-',
      'accept *:-80',
      'accept *:80-90-100',
      'accept *:http',
      'accept *:1.5',
      'accept *:**',
    ]) {
      expectRefused(line, /bad port range/);
    }
  });

  it('refuses bad IPv4 addresses and prefixes', () => {
    for (const line of [
      'accept 1.2.3:80',
      'accept 256.1.1.1:80',
      'accept 1.2.3.4.5:80',
      'accept 01.2.3.4:80',
    ]) {
      expectRefused(line, /bad address/);
    }
    expectRefused('accept 1.2.3.4/33:80', /bad IPv4 prefix/);
    expectRefused('accept 1.2.3.4/999:80', /bad IPv4 prefix/);
    for (const line of [
      'accept 1.2.3.4/:80',
      'accept 1.2.3.4/1000:80',
      'accept 1.2.3.4/-1:80',
      'accept 1.2.3.4/a:80',
    ]) {
      expectRefused(line, /bad address/);
    }
  });

  it('refuses bad IPv6 addresses and prefixes', () => {
    for (const line of [
      'accept ::1:80',
      'accept [::1:80',
      'accept ::1]:80',
      'accept [1::2::3]:80',
      'accept [12345::]:80',
      'accept [g::1]:80',
      'accept [1:2:3:4:5:6:7:8:9]:80',
      'accept [fe80::1%eth0]:80',
      'accept []:80',
      'accept [1.2.3.4]:80',
    ]) {
      expectRefused(line, /bad address/);
    }
    expectRefused('accept [::]/129:80', /bad IPv6 prefix/);
  });

  it('refuses host names, wildcard prefixes and brackets around IPv4', () => {
    for (const line of ['accept example.org:80', 'accept */8:80', 'accept localhost:*']) {
      expectRefused(line, /bad address/);
    }
  });
});

describe('parseExitPolicy', () => {
  it('parses lines in order and stops at the first bad one', () => {
    const rules = parseExitPolicy(['reject *:25', 'accept *:*']);
    assert.deepEqual(
      rules.map((r) => r.action),
      ['reject', 'accept'],
    );
    assert.deepEqual(parseExitPolicy([]), []);
    assert.throws(() => parseExitPolicy(['accept *:*', 'nonsense']), ExitPolicyError);
  });

  it('works with isExitAllowed: the default policy', () => {
    const policy = parseExitPolicy(['reject *:25', 'accept *:*']);
    assert.equal(isExitAllowed(policy, bytes(8, 8, 8, 8), 25), false);
    assert.equal(isExitAllowed(policy, bytes(8, 8, 8, 8), 443), true);
    assert.equal(isExitAllowed(policy, v6('2001:db8::1'), 443), true);
    assert.equal(isExitAllowed(policy, null, 80), true);
    assert.equal(isExitAllowed(policy, bytes(8, 8, 8, 8), 0), false, '* ports start at 1');
  });

  it('works with isExitAllowed: private ranges rejected, then web only', () => {
    const policy = parseExitPolicy([
      'reject 10.9.9.9/8:*',
      'reject 192.168.0.0/16:*',
      'reject [fc00::]/7:*',
      'reject [::ffff:127.0.0.0]/104:*',
      'accept *:80',
      'accept *:443',
    ]);
    assert.equal(isExitAllowed(policy, bytes(10, 200, 1, 1), 443), false, 'host bits were cleared');
    assert.equal(isExitAllowed(policy, bytes(11, 0, 0, 1), 443), true);
    assert.equal(isExitAllowed(policy, bytes(192, 168, 3, 4), 80), false);
    assert.equal(isExitAllowed(policy, bytes(192, 169, 3, 4), 80), true);
    assert.equal(isExitAllowed(policy, bytes(11, 0, 0, 1), 22), false, 'no match rejects');
    assert.equal(isExitAllowed(policy, v6('fd12::1'), 80), false);
    assert.equal(isExitAllowed(policy, v6('2001:db8::1'), 80), true);
    assert.equal(isExitAllowed(policy, null, 443), true);
    assert.equal(isExitAllowed(policy, null, 22), false);
  });

  it('works with isExitAllowed: an IPv4-mapped IPv6 address is matched by IPv4 rules', () => {
    const policy = parseExitPolicy(['reject 127.0.0.0/8:*', 'accept *:*']);
    assert.equal(isExitAllowed(policy, v6('::ffff:127.0.0.1'), 80), false);
    assert.equal(isExitAllowed(policy, v6('::ffff:128.0.0.1'), 80), true);
  });

  it('works with isExitAllowed: single host and a port range', () => {
    const policy = parseExitPolicy(['accept 203.0.113.5:6660-6669', 'reject *:*']);
    assert.equal(isExitAllowed(policy, bytes(203, 0, 113, 5), 6665), true);
    assert.equal(isExitAllowed(policy, bytes(203, 0, 113, 5), 6670), false);
    assert.equal(isExitAllowed(policy, bytes(203, 0, 113, 6), 6665), false);
  });
});

// --- property: whatever parses, the descriptor can carry -------------------------------------------

const octet = fc.integer({ min: 0, max: 255 });
const arbV4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const arbV6Text = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .chain((b) =>
    fc.constantFrom(
      Array.from({ length: 8 }, (_, i) => (((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)).toString(16)).join(
        ':',
      ),
      `::${((b[0] ?? 0) << 8).toString(16)}`,
      `${(b[1] ?? 0).toString(16)}::`,
      `::ffff:${Array.from(b.subarray(0, 4)).join('.')}`,
    ),
  );
const arbPorts = fc.oneof(
  fc.constant('*'),
  fc.integer({ min: 1, max: 65535 }).map(String),
  fc
    .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
    .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
);
const arbAddress = fc.oneof(
  fc.constant('*'),
  arbV4,
  fc.tuple(arbV4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  arbV6Text.map((a) => `[${a}]`),
  fc.tuple(arbV6Text, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `[${a}]/${p}`),
);
const arbLine = fc
  .tuple(fc.constantFrom('accept', 'reject'), arbAddress, arbPorts)
  .map(([action, address, ports]) => `${action} ${address}:${ports}`);

describe('exit policy property', () => {
  it('every parsed rule encodes in a descriptor, and a signed one verifies and decodes to the same rules', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 64 }), (lines) => {
        const exitPolicy = parseExitPolicy(lines);
        assert.doesNotThrow(() => encodeDescriptorBody(baseDescriptor({ exitPolicy })));
      }),
      { numRuns: 300 },
    );
    // Signing and verifying is slower: a few runs end to end.
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 16 }), (lines) => {
        const exitPolicy = parseExitPolicy(lines);
        const r = verifyDescriptor(signedBase({ exitPolicy }).bytes, verifyOpts);
        assert.ok(r.ok, r.ok ? '' : r.reason);
        assert.deepEqual(r.signed.descriptor.exitPolicy, exitPolicy);
      }),
      { numRuns: 20 },
    );
  });

  it('never throws anything but ExitPolicyError on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          arbLine.chain((l) => fc.nat({ max: l.length }).map((cut) => l.slice(0, cut))),
          fc.tuple(arbLine, fc.string({ maxLength: 3 })).map(([l, s]) => l + s),
        ),
        (line) => {
          try {
            parseExitRule(line);
          } catch (err) {
            assert.ok(err instanceof ExitPolicyError, String(err));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
