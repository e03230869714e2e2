import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isExitAllowed } from '../../../src/directory/verify-descriptor.ts';
import type { ExitRule } from '../../../src/wire/descriptor-types.ts';
import { arbExitRule } from '../wire/descriptor-fixtures.ts';

const v4 = (a: number, b: number, c: number, d: number) => new Uint8Array([a, b, c, d]);
const rule = (r: Partial<ExitRule> & Pick<ExitRule, 'action'>): ExitRule => ({
  family: 0,
  address: new Uint8Array(0),
  prefixLength: 0,
  portLow: 0,
  portHigh: 65535,
  ...r,
});

describe('isExitAllowed', () => {
  const policy: ExitRule[] = [
    rule({ action: 'reject', family: 4, address: v4(10, 0, 0, 0), prefixLength: 8 }),
    rule({ action: 'reject', family: 4, address: v4(192, 168, 0, 0), prefixLength: 17 }),
    rule({
      action: 'accept',
      family: 6,
      address: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(12)]),
      prefixLength: 32,
      portLow: 80,
      portHigh: 81,
    }),
    rule({ action: 'reject', portLow: 25, portHigh: 25 }),
    rule({ action: 'accept', portLow: 1, portHigh: 65535 }),
  ];

  it('first match wins; no match rejects', () => {
    assert.equal(isExitAllowed(policy, v4(10, 1, 2, 3), 443), false);
    assert.equal(isExitAllowed(policy, v4(11, 1, 2, 3), 443), true);
    assert.equal(isExitAllowed(policy, v4(11, 1, 2, 3), 25), false);
    assert.equal(isExitAllowed(policy, v4(11, 1, 2, 3), 0), false, 'port 0 matches no rule');
    assert.equal(isExitAllowed([], v4(1, 1, 1, 1), 80), false);
  });

  it('matches partial-byte prefixes', () => {
    assert.equal(isExitAllowed(policy, v4(192, 168, 127, 1), 443), false);
    assert.equal(isExitAllowed(policy, v4(192, 168, 128, 1), 443), true);
  });

  it('matches IPv6 rules, and IPv4-mapped IPv6 addresses as IPv4', () => {
    const doc = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(11), 1]);
    assert.equal(isExitAllowed(policy, doc, 80), true);
    assert.equal(isExitAllowed(policy, doc, 25), false);
    const mapped = new Uint8Array([...new Uint8Array(10), 0xff, 0xff, 10, 0, 0, 1]);
    assert.equal(isExitAllowed(policy, mapped, 443), false);
  });

  it('null ip (unresolved hostname) skips address-specific rules', () => {
    assert.equal(isExitAllowed(policy, null, 443), true);
    assert.equal(isExitAllowed(policy, null, 25), false);
    assert.equal(
      isExitAllowed(
        [rule({ action: 'accept', family: 4, address: v4(1, 2, 3, 4), prefixLength: 32 })],
        null,
        80,
      ),
      false,
    );
  });

  it('rejects bad ports and address lengths', () => {
    assert.equal(isExitAllowed(policy, v4(11, 1, 1, 1), 65536), false);
    assert.equal(isExitAllowed(policy, v4(11, 1, 1, 1), 1.5), false);
    assert.equal(isExitAllowed(policy, new Uint8Array(5), 443), false);
  });

  it('agrees with a bit-by-bit reference matcher (property)', () => {
    const bit = (a: Uint8Array, i: number) => ((a[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    const reference = (rules: readonly ExitRule[], ip: Uint8Array, port: number) => {
      for (const r of rules) {
        if (port < r.portLow || port > r.portHigh) continue;
        if (r.family !== 0) {
          if (ip.length !== (r.family === 4 ? 4 : 16)) continue;
          let same = true;
          for (let i = 0; i < r.prefixLength; i++) if (bit(r.address, i) !== bit(ip, i)) same = false;
          if (!same) continue;
        }
        return r.action === 'accept';
      }
      return false;
    };
    const arbIp = fc.oneof(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => {
        a[10] = 0; // keep clear of the IPv4-mapped range, which the reference does not model
        return a;
      }),
    );
    fc.assert(
      fc.property(
        fc.array(arbExitRule, { maxLength: 8 }),
        arbIp,
        fc.integer({ min: 0, max: 65535 }),
        (rules, ip, port) => {
          assert.equal(isExitAllowed(rules, ip, port), reference(rules, ip, port));
        },
      ),
      { numRuns: 500 },
    );
  });
});
