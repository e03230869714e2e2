// The exit-policy summary of REGISTER_RELAY: what it says for known policies, agreement with the exit
// policy check for hostnames (isExitAllowed with no address) on random policies, one encoding per port
// set, the 256-byte bound, and the decoder under random and mutated bytes (it reads ledger bytes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { isExitAllowed } from '../../../src/directory/verify-descriptor.ts';
import type { ExitRule } from '../../../src/wire/descriptor-types.ts';
import {
  acceptedPorts,
  decodeExitSummary,
  encodeExitSummary,
  exitSummaryOf,
  type PortRanges,
} from '../../../src/wire/exit-summary.ts';
import { MAX_EXIT_POLICY_SUMMARY_BYTES } from '../../../src/wire/ledger-tx.ts';
import { arbMutation, mutate } from './byte-mutations.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const summary = (lines: string[]) => text(exitSummaryOf(true, parseExitPolicy(lines)));
const has = (ranges: PortRanges, port: number) => ranges.some(([lo, hi]) => lo <= port && port <= hi);

function decoded(bytes: Uint8Array): PortRanges | undefined {
  const d = decodeExitSummary(bytes);
  assert.equal(d.kind, 'ok', d.kind === 'error' ? d.message : '');
  return d.kind === 'ok' ? d.value : undefined;
}

const arbRule: fc.Arbitrary<ExitRule> = fc
  .record({
    accept: fc.boolean(),
    a: fc.integer({ min: 1, max: 65535 }),
    b: fc.integer({ min: 1, max: 65535 }),
    wildcard: fc.boolean(),
  })
  .map(({ accept, a, b, wildcard }) => ({
    action: accept ? 'accept' : 'reject',
    family: wildcard ? 0 : 4,
    address: wildcard ? new Uint8Array(0) : new Uint8Array([10, 0, 0, 0]),
    prefixLength: wildcard ? 0 : 8,
    portLow: Math.min(a, b),
    portHigh: Math.max(a, b),
  }));

describe('exit-policy summary', () => {
  it('says what the usual policies accept, in the shorter form', () => {
    assert.equal(summary(['reject *:25', 'accept *:*']), 'reject 25');
    assert.equal(summary(['accept *:80', 'accept *:443', 'reject *:*']), 'accept 80,443');
    assert.equal(summary(['accept *:80-81', 'accept *:82', 'reject *:*']), 'accept 80-82');
    assert.equal(summary(['accept *:*']), 'accept 1-65535');
    assert.equal(summary(['reject *:*']), 'reject 1-65535');
    assert.equal(summary([]), 'reject 1-65535', 'no rule: nothing accepted');
    assert.equal(text(exitSummaryOf(false, parseExitPolicy(['accept *:*']))), '', 'not an exit: empty');
  });

  it('leaves out rules for particular networks (as a hostname check does)', () => {
    assert.equal(summary(['reject 10.0.0.0/8:*', 'accept *:443', 'reject *:*']), 'accept 443');
    assert.equal(summary(['accept 1.2.3.4:22', 'reject *:*']), 'reject 1-65535');
  });

  it('agrees with isExitAllowed for hostnames on random policies, and decodes to the same ports', () => {
    fc.assert(
      fc.property(
        fc.array(arbRule, { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 20, maxLength: 20 }),
        (policy, ports) => {
          const accepted = acceptedPorts(policy);
          for (const p of [1, 65535, ...ports, ...policy.flatMap((r) => [r.portLow, r.portHigh])])
            assert.equal(has(accepted, p), isExitAllowed(policy, null, p), `port ${p}`);
          const bytes = encodeExitSummary(accepted);
          assert.ok(bytes.length <= MAX_EXIT_POLICY_SUMMARY_BYTES);
          assert.deepEqual(decoded(bytes), accepted);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('cuts a summary too long for 256 bytes to its first ranges: fewer ports, never more', () => {
    const lines = [...Array.from({ length: 120 }, (_, i) => `accept *:${1000 + 7 * i}`), 'reject *:*'];
    const accepted = acceptedPorts(parseExitPolicy(lines));
    const bytes = encodeExitSummary(accepted);
    assert.ok(bytes.length <= MAX_EXIT_POLICY_SUMMARY_BYTES, `${bytes.length} bytes`);
    assert.ok(text(bytes).startsWith('accept 1000,1007,'));
    const back = decoded(bytes) ?? [];
    assert.ok(back.length > 10 && back.length < accepted.length);
    for (const [lo, hi] of back) assert.ok(has(accepted, lo) && has(accepted, hi));
  });

  it('refuses what is not the one encoding of its ports', () => {
    const bad = [
      'accept 80,81', // touching ranges
      'accept 443,80', // descending
      'accept 080', // leading zero
      'accept 0',
      'accept 65536',
      'accept 90-80',
      'accept 80-80',
      'accept 2-65535', // longer than "reject 1"
      'reject 2-65535', // longer than "accept 1"
      'accept ',
      'allow 80',
      'accept 80 ',
      'accept\t80',
      'reject 1-65535,',
    ];
    for (const t of bad) {
      const d = decodeExitSummary(new TextEncoder().encode(t));
      assert.equal(d.kind, 'error', t);
    }
    assert.equal(decodeExitSummary(new Uint8Array(300).fill(0x31)).kind, 'error');
    assert.deepEqual(decodeExitSummary(new Uint8Array(0)), { kind: 'ok', value: undefined, consumed: 0 });
  });

  it('fuzz: random and mutated bytes never throw; what decodes encodes to the same bytes', () => {
    const seeds = [
      'reject 25',
      'accept 80,443',
      'accept 1-65535',
      'reject 1-65535',
      'accept 20-23,80,443-444',
    ];
    const check = (bytes: Uint8Array) => {
      const d = decodeExitSummary(bytes);
      if (d.kind === 'ok') {
        if (d.value === undefined) assert.equal(bytes.length, 0);
        else assert.deepEqual(encodeExitSummary(d.value), bytes);
      } else assert.notEqual(d.kind === 'error' ? d.code : '', 'INTERNAL');
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        arbMutation([0x2c, 0x2d, 0x30, 0x31, 0x39, 0x20, 0x61]),
        (seed, m) => check(mutate(new TextEncoder().encode(seed), m)),
      ),
      { numRuns: 2000 },
    );
  });
});
