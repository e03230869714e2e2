// The canonical state encoding: what stateHash covers and what block-store snapshots hold.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stateHash } from '../../../src/ledger/state.ts';
import { decodeState, encodeState } from '../../../src/ledger/state-codec.ts';
import { Writer } from '../../../src/wire/bytes.ts';
import { ChainDriver, equivocation, keyring, testGenesisState, validatorIds } from './chain-fixtures.ts';
import { ids, tx } from './fixtures.ts';

const vs = validatorIds.slice(0, 4);

/** A state with every kind of entry: accounts, relays, names, proposals, evidence, several epochs. */
function richState() {
  const d = new ChainDriver(testGenesisState(vs, { epochLength: 2 }), keyring(validatorIds, ids));
  const a = ids[0]!;
  d.apply(
    d.build({
      txs: [
        tx(a, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes,
        tx(a, 2n, {
          kind: 'REGISTER_RELAY',
          roles: 3,
          bandwidth: 7,
          onionKeyHash: new Uint8Array(32).fill(4),
          payout: new Uint8Array(32).fill(0xcd),
          exitPolicySummary: new Uint8Array([9, 9]),
        }).bytes,
        tx(a, 3n, { kind: 'REGISTER_NAME', name: 'shop', target: ids[1]!.publicKey }).bytes,
        tx(vs[0]!, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes,
        tx(vs[0]!, 2n, { kind: 'PARAM_PROPOSAL', paramId: 4, value: 3n }).bytes,
      ],
      evidence: [equivocation(vs[3]!, 1, 0)],
    }),
  );
  d.apply(d.build());
  d.apply(d.build());
  return d.state;
}

describe('state codec', () => {
  it('round-trips exactly and hashes like the state it came from', () => {
    const s = richState();
    const bytes = encodeState(s);
    const back = decodeState(bytes);
    assert.equal(back.kind, 'ok');
    if (back.kind !== 'ok') return;
    assert.deepEqual(encodeState(back.value), bytes);
    assert.deepEqual(stateHash(back.value), stateHash(s));
    assert.equal(back.value.names.get('shop')?.owner, s.names.get('shop')?.owner);
    assert.equal(back.value.proposals.size, 1);
    assert.equal(back.value.evidenceSeen.size, 1);
  });

  it('refuses truncated, extended, non-canonical and foreign bytes', () => {
    const bytes = encodeState(richState());
    assert.equal(decodeState(bytes.subarray(0, bytes.length - 1)).kind, 'needMore');
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.equal(decodeState(longer).kind, 'error');
    const foreign = bytes.slice();
    foreign[0] = 0x00;
    assert.equal(decodeState(foreign).kind, 'error');
    // Any changed byte either fails to decode or decodes to a different state (one encoding per state).
    const hash = stateHash(richState());
    let refused = 0;
    for (let i = 24; i < bytes.length; i += 37) {
      const tampered = bytes.slice();
      tampered[i] = tampered[i]! ^ 0xff;
      const r = decodeState(tampered);
      if (r.kind !== 'ok') refused++;
      else assert.notDeepEqual(stateHash(r.value), hash);
    }
    assert.ok(refused > 0);
  });

  it('never throws on arbitrary or mutated bytes (fuzz)', () => {
    const valid = encodeState(richState());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 })
            .map((edits) => {
              const b = valid.slice();
              for (const [i, v] of edits) b[i] = v;
              return b;
            }),
          fc.nat(valid.length).map((n) => valid.slice(0, n)),
        ),
        (bytes) => {
          const r = decodeState(bytes);
          if (r.kind === 'ok') assert.deepEqual(encodeState(r.value), bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches the layout documented in state-codec.ts (genesis state, written out by hand)', () => {
    const s = testGenesisState(vs, { epochLength: 4 });
    const keys = vs.map((v) => Buffer.from(v.publicKey)).sort(Buffer.compare);
    const w = new Writer();
    w.bytes(new TextEncoder().encode('anonnet-ledger-state-v3\0'));
    w.u8(12).bytes(new TextEncoder().encode('anonnet-unit')).u64(0n).bytes(new Uint8Array(32));
    // params: startingCredits, blockIntervalMs, validatorCount, nameFee, minFee, powDifficulty, epochLength
    w.u64(1000n).u64(30_000n).u32(4).u64(10n).u64(1n).u8(0).u32(4);
    // relayBond, creditsPerGiB, poolCapPerEpoch, unmeasuredBandwidth, auditSamples, capacityCap, measureSample
    w.u64(100n)
      .u64(1000n)
      .u64(10_000_000n)
      .u32(1024 * 1024)
      .u8(64)
      .u16(2)
      .u32(16);
    w.u64(0n).u64(0n); // minted, burned
    w.u32(4); // accounts: the validators, age counted from genesis
    for (const k of keys) w.bytes(k).u64(0n).u64(0n).u8(0).u64(0n).u64(0n).u64(0n).u8(1).u64(0n);
    w.u32(0); // relays
    w.u32(4);
    for (const k of keys) w.bytes(k); // candidates
    w.u32(0).u32(0); // names, proposals
    w.u16(2);
    w.u64(0n).u64(1n).u32(4).u16(4);
    for (const k of keys) w.bytes(k);
    w.u64(1n).u64(5n).u32(4).u16(4);
    for (const k of keys) w.bytes(k);
    w.u32(0).u32(0).u32(0); // epochSigned, epochCommits, evidenceSeen
    w.u64(0n).u32(0).u32(0).u32(0).u32(0); // economy: pool, claims, auditFails, measurements, settlements
    assert.deepEqual(encodeState(s), w.finish());
    assert.deepEqual(stateHash(s), new Uint8Array(createHash('sha256').update(w.finish()).digest()));
  });
});
