// The ledger's relay list (docs/economy.md, "The ledger's relay list is the list"): bonded registrations
// only, weights from measured bandwidth capped by the claim and scaled by reputation, identical for
// every state with the same content, recomputed once per committed state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  capacityWeight,
  ledgerRelayList,
  relayListSource,
  reputationScaled,
} from '../../../src/directory/ledger-relay-list.ts';
import { applyTx } from '../../../src/ledger/apply.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { REPUTATION_MAX, reputation } from '../../../src/ledger/reputation.ts';
import { keyHex, type LedgerState } from '../../../src/ledger/state.ts';
import type { SignedTx } from '../../../src/wire/ledger-tx.ts';
import { BOND, HEIGHT, ledgerState, UNMEASURED } from '../circuit/ledger-helpers.ts';
import { testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';
import { relay } from './relay-view-helpers.ts';

const key = (n: number) => keyHex(relay(n).identity.publicKey);
const MiB = 1024 * 1024;

describe('ledgerRelayList', () => {
  it('lists registrations whose bond is at least relayBond, and no others', () => {
    const state = ledgerState([
      { n: 1, claim: 10 * MiB, measured: 10 * MiB },
      { n: 2, claim: 10 * MiB, measured: 10 * MiB, bond: credits(0) }, // a penalty burned it
      { n: 3, claim: 10 * MiB, bond: credits(99) }, // below the bond the governance now asks
      { n: 4, claim: 10 * MiB, bond: credits(250) }, // above is fine
    ]);
    const list = ledgerRelayList(state);
    assert.equal(list.height, HEIGHT);
    assert.deepEqual([...list.relays.keys()].sort(), [key(1), key(4)].sort());
    // Raising relayBond takes out every relay until it tops its bond up by re-registering.
    const raised = { ...state, params: { ...state.params, relayBond: credits(300) } };
    assert.equal(ledgerRelayList(raised).relays.size, 0);
  });

  it('weighs the measured bandwidth, capped by the claim, scaled by reputation between 1/2 and 1', () => {
    const list = ledgerRelayList(
      ledgerState([
        { n: 1, claim: 50 * MiB, measured: 20 * MiB, reputation: 'max' }, // measured, full reputation
        { n: 2, claim: 50 * MiB, measured: 20 * MiB }, // the same, a newcomer: half
        { n: 3, claim: 5 * MiB, measured: 20 * MiB, reputation: 'max' }, // the claim bounds it
        { n: 4, claim: 4_000_000_000, reputation: 'max' }, // unmeasured: unmeasuredBandwidth
        { n: 5, claim: 100_000, reputation: 'max' }, // unmeasured, claiming less: its claim
        { n: 6, claim: 50 * MiB, measured: 0, reputation: 'max' }, // measured dead: 0
      ]),
    );
    const w = (n: number) => list.relays.get(key(n));
    assert.deepEqual(w(1), { weight: 20 * MiB, measured: true });
    assert.deepEqual(w(2), { weight: 10 * MiB, measured: true });
    assert.deepEqual(w(3), { weight: 5 * MiB, measured: true });
    assert.deepEqual(w(4), { weight: UNMEASURED, measured: false });
    assert.deepEqual(w(5), { weight: 100_000, measured: false });
    assert.deepEqual(w(6), { weight: 0, measured: true });
  });

  it('keeps every weight within its bounds (property)', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        u32,
        fc.option(u32, { nil: undefined }),
        u32,
        fc.constantFrom<'none' | 'max'>('none', 'max'),
        (claim, measured, unmeasured, rep) => {
          const state = ledgerState([{ n: 1, claim, measured, reputation: rep }], {
            unmeasuredBandwidth: unmeasured,
          });
          const listed = ledgerRelayList(state).relays.get(key(1));
          assert.ok(listed !== undefined);
          const capacity = Math.min(claim, measured ?? unmeasured);
          assert.equal(capacityWeight(state.relays.get(key(1))!, state.params), capacity);
          assert.ok(listed.weight <= capacity, 'never above the claim nor the measurement');
          assert.ok(listed.weight >= Math.floor(capacity / 2), 'reputation takes at most half');
          assert.equal(listed.weight === 0, capacity === 0);
          assert.equal(listed.weight === capacity, rep === 'max' || capacity <= 1);
          assert.ok(Number.isSafeInteger(listed.weight));
        },
      ),
    );
    // Reputation past the bounds is clamped.
    assert.equal(reputationScaled(1000, -5n), 500);
    assert.equal(reputationScaled(1000, REPUTATION_MAX * 3n), 1000);
  });

  it('does not depend on the order the state holds the relays in', () => {
    const specs = [1, 2, 3, 4, 5].map((n) => ({ n, claim: n * MiB, measured: n * 3 * MiB }));
    const a = ledgerRelayList(ledgerState(specs));
    const b = ledgerRelayList(ledgerState([...specs].reverse()));
    assert.deepEqual(new Map([...a.relays].sort()), new Map([...b.relays].sort()));
  });

  it('lists a relay registered by a real REGISTER_RELAY, at half the unmeasured weight', () => {
    const vs = validatorIds.slice(0, 4);
    const r = relay(20).identity;
    let s = testGenesisState(vs, { relayBond: BOND, unmeasuredBandwidth: UNMEASURED });
    const apply = (t: SignedTx) => {
      const res = applyTx(s, t, { height: 1, validators: validatorsForHeight(s, 1) ?? [] });
      assert.ok(res.ok, res.ok ? '' : `${res.code}: ${res.reason}`);
      s = res.state;
    };
    assert.equal(ledgerRelayList(s).relays.size, 0);
    apply(tx(r, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }));
    apply(
      tx(r, 2n, {
        kind: 'REGISTER_RELAY',
        roles: 1,
        bandwidth: 4_000_000_000,
        onionKeyHash: new Uint8Array(32),
        payout: r.publicKey,
        exitPolicySummary: new Uint8Array(0),
      }),
    );
    const listed = ledgerRelayList(s).relays.get(keyHex(r.publicKey));
    assert.equal(reputation(s, keyHex(r.publicKey)), 0n);
    assert.deepEqual(listed, { weight: UNMEASURED / 2, measured: false });
  });
});

describe('relayListSource', () => {
  it('recomputes once per committed state, and gives no list without a ledger', () => {
    assert.equal(relayListSource(undefined)(), undefined);
    const ledger: { state: LedgerState } = { state: ledgerState([{ n: 1, claim: MiB }]) };
    const list = relayListSource(ledger);
    const first = list();
    assert.equal(list(), first, 'same state: the same list object');
    ledger.state = ledgerState([
      { n: 1, claim: MiB },
      { n: 2, claim: MiB },
    ]);
    const second = list();
    assert.notEqual(second, first);
    assert.equal(second?.relays.size, 2);
  });
});
