import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../../src/crypto/identity.ts';
import { solvePow, verifyPow } from '../../../src/crypto/pow.ts';
import { type ApplyContext, applyTx, type RefusalCode } from '../../../src/ledger/apply.ts';
import { credits, MAX_CREDITS } from '../../../src/ledger/credits.ts';
import {
  getAccount,
  initialLedgerState,
  keyHex,
  type LedgerState,
  PARAM_ID,
  stateHash,
} from '../../../src/ledger/state.ts';
import { concatBytes } from '../../../src/wire/bytes.ts';
import { type SignedTx, signTx, type TxBody, txId } from '../../../src/wire/ledger-tx.ts';
import { alice, bob, carol, ids, tx } from './fixtures.ts';

const ctx: ApplyContext = { height: 1, validators: [] };
const genesis: TxBody = { kind: 'CLAIM_GENESIS', powNonce: 0n };
const relayBody: TxBody = {
  kind: 'REGISTER_RELAY',
  roles: 1,
  bandwidth: 100,
  onionKeyHash: new Uint8Array(32),
  payout: new Uint8Array(32).fill(0xcd),
  exitPolicySummary: new Uint8Array(0),
};

function ok(state: LedgerState, t: SignedTx, c: ApplyContext = ctx): LedgerState {
  const r = applyTx(state, t, c);
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
  return r.state;
}

function refused(state: LedgerState, t: SignedTx, code: RefusalCode, c: ApplyContext = ctx): void {
  const r = applyTx(state, t, c);
  assert.equal(r.ok ? 'ok' : r.code, code);
}

/** A state where each of `who` has claimed genesis (nonce 1) at difficulty 0. */
function funded(who: readonly Identity[] = [alice, bob], params = {}): LedgerState {
  let s = initialLedgerState({ powDifficulty: 0, ...params });
  for (const id of who) s = ok(s, tx(id, 1n, genesis));
  return s;
}

const balance = (s: LedgerState, id: Identity) => getAccount(s, keyHex(id.publicKey)).balance;

describe('applyTx', () => {
  it('genesis mints the starting credits once and burns the fee', () => {
    const s = funded([alice]);
    assert.equal(balance(s, alice), 999n);
    assert.equal(s.minted, 1000n);
    assert.equal(s.burned, 1n);
    assert.equal(getAccount(s, keyHex(alice.publicKey)).genesisClaimed, true);
    refused(s, tx(alice, 2n, genesis), 'GENESIS_ALREADY_CLAIMED');
  });

  it('checks proof-of-work at the current difficulty', () => {
    const s = initialLedgerState({ powDifficulty: 8 });
    let bad = 0n;
    while (verifyPow(alice.publicKey, bad, 8)) bad++;
    refused(s, tx(alice, 1n, { kind: 'CLAIM_GENESIS', powNonce: bad }), 'INSUFFICIENT_POW');
    const good = solvePow(alice.publicKey, 8);
    assert.ok(good !== undefined);
    ok(s, tx(alice, 1n, { kind: 'CLAIM_GENESIS', powNonce: good }));
  });

  it('refuses a genesis claim whose fee exceeds the starting credits', () => {
    const s = initialLedgerState({ powDifficulty: 0 });
    refused(s, tx(alice, 1n, genesis, 1001n), 'INSUFFICIENT_FUNDS');
    ok(s, tx(alice, 1n, genesis, 1000n));
  });

  it('refuses minting past 2^64-1', () => {
    const s = funded([alice], { startingCredits: credits(MAX_CREDITS) });
    refused(s, tx(bob, 1n, genesis), 'BALANCE_OVERFLOW');
  });

  it('transfers move credits and burn the fee', () => {
    const s = ok(funded(), tx(alice, 2n, { kind: 'TRANSFER', to: carol.publicKey, amount: 100n }, 5n));
    assert.equal(balance(s, alice), 999n - 105n);
    assert.equal(balance(s, carol), 100n);
    assert.equal(s.burned, 2n + 5n);
    assert.equal(getAccount(s, keyHex(carol.publicKey)).nonce, 0n);
  });

  it('refuses bad signatures', () => {
    const s = funded();
    const t = tx(alice, 2n, { kind: 'TRANSFER', to: bob.publicKey, amount: 1n });
    const sig = t.signature.slice();
    sig[0]! ^= 1;
    refused(s, { ...t, signature: sig, bytes: concatBytes(t.body, sig) }, 'BAD_SIGNATURE');
    // Signed by someone else, claiming to be alice.
    const forged = signTx(t.tx, (m) => bob.sign(m));
    refused(s, forged, 'BAD_SIGNATURE');
  });

  it('refuses fees below the minimum', () => {
    refused(funded(), tx(alice, 2n, relayBody, 0n), 'FEE_TOO_LOW');
    const s = ok(initialLedgerState({ powDifficulty: 0, minFee: credits(10) }), tx(alice, 1n, genesis, 10n));
    refused(s, tx(alice, 2n, relayBody, 9n), 'FEE_TOO_LOW');
    ok(s, tx(alice, 2n, relayBody, 10n));
  });

  it('needs exactly nonce + 1: no replay, no gap', () => {
    const s = funded();
    const t = tx(alice, 2n, { kind: 'TRANSFER', to: bob.publicKey, amount: 1n });
    const after = ok(s, t);
    refused(after, t, 'BAD_NONCE');
    refused(s, tx(alice, 3n, relayBody), 'BAD_NONCE');
    refused(s, tx(alice, 1n, relayBody), 'BAD_NONCE');
    refused(initialLedgerState({ powDifficulty: 0 }), tx(alice, 0n, genesis), 'BAD_NONCE');
  });

  it('refuses transfers that overspend, to self, or of nothing', () => {
    const s = funded();
    const send = (amount: bigint, fee = 1n) =>
      tx(alice, 2n, { kind: 'TRANSFER', to: bob.publicKey, amount }, fee);
    refused(s, send(999n), 'INSUFFICIENT_FUNDS');
    refused(s, send(1n, 999n), 'INSUFFICIENT_FUNDS');
    refused(s, send(MAX_CREDITS), 'INSUFFICIENT_FUNDS');
    ok(s, send(998n));
    refused(s, send(0n), 'BAD_AMOUNT');
    refused(s, tx(alice, 2n, { kind: 'TRANSFER', to: alice.publicKey, amount: 1n }), 'SELF_TRANSFER');
    refused(s, tx(carol, 1n, { kind: 'TRANSFER', to: bob.publicKey, amount: 1n }), 'INSUFFICIENT_FUNDS');
  });

  it('does not change the input state', () => {
    const s = funded();
    const before = stateHash(s);
    ok(s, tx(alice, 2n, { kind: 'TRANSFER', to: bob.publicKey, amount: 5n }));
    ok(s, tx(alice, 2n, relayBody));
    assert.deepEqual(stateHash(s), before);
    assert.equal(balance(s, alice), 999n);
  });

  it('registers relays (re-registration updates) and validator candidacy', () => {
    let s = funded();
    refused(s, tx(alice, 2n, { kind: 'VALIDATOR_CANDIDACY' }), 'NOT_A_RELAY');
    refused(funded([]), tx(carol, 1n, relayBody), 'INSUFFICIENT_FUNDS');
    s = ok(s, tx(alice, 2n, relayBody));
    s = ok(s, tx(alice, 3n, { ...relayBody, bandwidth: 200 }, 1n), { height: 7, validators: [] });
    const reg = s.relays.get(keyHex(alice.publicKey));
    assert.equal(reg?.bandwidth, 200);
    assert.equal(reg?.height, 7);
    s = ok(s, tx(alice, 4n, { kind: 'VALIDATOR_CANDIDACY' }));
    assert.ok(s.candidates.has(keyHex(alice.publicKey)));
    refused(s, tx(alice, 5n, { kind: 'VALIDATOR_CANDIDACY' }), 'ALREADY_CANDIDATE');
  });

  it('registers names once, burning the name fee', () => {
    const s = funded();
    const name = (n: string, who = alice, nonce = 2n) =>
      tx(who, nonce, { kind: 'REGISTER_NAME', name: n, target: carol.publicKey });
    for (const bad of ['Shop', '-shop', 'shop-', 'sh_op', 'shöp', 'a.b', ' a', 'a'.repeat(63) + '\u00e9']) {
      if (new TextEncoder().encode(bad).length <= 63) refused(s, name(bad), 'BAD_NAME');
    }
    const after = ok(s, name('shop-1'));
    assert.equal(balance(after, alice), 999n - 1n - 10n);
    assert.equal(after.burned, s.burned + 11n);
    assert.equal(after.names.get('shop-1')?.owner, keyHex(alice.publicKey));
    refused(after, name('shop-1', bob), 'NAME_TAKEN');
    ok(after, name('a'.repeat(63), bob));
    ok(after, name('7', bob));
    const poor = funded([bob], { nameFee: credits(999) });
    refused(poor, name('x', bob), 'INSUFFICIENT_FUNDS');
  });

  it('stateHash ignores insertion order and sees every change', () => {
    const ab = funded([alice, bob]);
    const ba = funded([bob, alice]);
    assert.deepEqual(stateHash(ab), stateHash(ba));
    assert.notDeepEqual(stateHash(ab), stateHash(funded([alice])));
    assert.notDeepEqual(stateHash(ab), stateHash({ ...ab, params: { ...ab.params, minFee: credits(2) } }));
    const moved = ok(ab, tx(alice, 2n, { kind: 'TRANSFER', to: bob.publicKey, amount: 1n }));
    assert.notDeepEqual(stateHash(ab), stateHash(moved));
    const named = ok(ab, tx(alice, 2n, { kind: 'REGISTER_NAME', name: 'x', target: bob.publicKey }));
    const relayed = ok(ab, tx(alice, 2n, relayBody));
    assert.notDeepEqual(stateHash(named), stateHash(relayed));
    assert.equal(stateHash(ab).length, 32);
  });

  describe('parameter votes', () => {
    const vs = ids.slice(0, 4);
    const vctx: ApplyContext = { height: 3, validators: vs.map((v) => v.publicKey) };
    const propose = (s: LedgerState, paramId: number, value: bigint) => {
      const t = tx(vs[0]!, 2n, { kind: 'PARAM_PROPOSAL', paramId, value });
      return { state: ok(s, t, vctx), id: txId(t.bytes) };
    };
    const vote = (who: Identity, id: Uint8Array, yes: boolean, nonce: bigint) =>
      tx(who, nonce, { kind: 'PARAM_VOTE', proposalId: id, yes });

    it('only validators propose and vote', () => {
      const s = funded([...vs, ids[4]!]);
      const outsider = ids[4]!;
      refused(
        s,
        tx(outsider, 2n, { kind: 'PARAM_PROPOSAL', paramId: 5, value: 2n }),
        'NOT_A_VALIDATOR',
        vctx,
      );
      const { state, id } = propose(s, PARAM_ID.minFee, 2n);
      refused(state, vote(outsider, id, true, 2n), 'NOT_A_VALIDATOR', vctx);
    });

    it('refuses unknown parameters and values out of range', () => {
      const s = funded(vs);
      const p = (paramId: number, value: bigint) =>
        tx(vs[0]!, 2n, { kind: 'PARAM_PROPOSAL', paramId, value });
      refused(s, p(0, 1n), 'UNKNOWN_PARAM', vctx);
      refused(s, p(99, 1n), 'UNKNOWN_PARAM', vctx);
      refused(s, p(PARAM_ID.powDifficulty, 65n), 'BAD_PARAM_VALUE', vctx);
      refused(s, p(PARAM_ID.blockIntervalMs, 0n), 'BAD_PARAM_VALUE', vctx);
      refused(s, p(PARAM_ID.validatorCount, 0n), 'BAD_PARAM_VALUE', vctx);
    });

    it('refuses votes on unknown proposals and second votes', () => {
      const { state, id } = propose(funded(vs), PARAM_ID.minFee, 2n);
      refused(state, vote(vs[1]!, new Uint8Array(32), true, 2n), 'UNKNOWN_PROPOSAL', vctx);
      const voted = ok(state, vote(vs[1]!, id, false, 2n), vctx);
      refused(voted, vote(vs[1]!, id, true, 3n), 'ALREADY_VOTED', vctx);
    });

    it('applies the value when yes votes pass 2/3 of the validators', () => {
      let { state, id } = propose(funded(vs), PARAM_ID.blockIntervalMs, 500n);
      state = ok(state, vote(vs[0]!, id, true, 3n), vctx);
      state = ok(state, vote(vs[1]!, id, false, 2n), vctx);
      state = ok(state, vote(vs[2]!, id, true, 2n), vctx);
      assert.equal(state.params.blockIntervalMs, 30_000); // 2 of 4: not yet
      state = ok(state, vote(vs[3]!, id, true, 2n), vctx); // 3 of 4 > 2/3
      assert.equal(state.params.blockIntervalMs, 500);
      assert.equal(state.proposals.size, 0);
      refused(state, vote(vs[1]!, id, true, 3n), 'UNKNOWN_PROPOSAL', vctx);
    });

    it('counts only the current validators, and needs strictly more than 2/3', () => {
      let { state, id } = propose(funded(vs), PARAM_ID.minFee, 3n);
      state = ok(state, vote(vs[0]!, id, true, 3n), vctx);
      // vs[0] leaves the set; three remain, so 2 of 3 yes (= 2/3) is not enough.
      const three: ApplyContext = { height: 4, validators: vs.slice(1).map((v) => v.publicKey) };
      state = ok(state, vote(vs[1]!, id, true, 2n), three);
      state = ok(state, vote(vs[2]!, id, true, 2n), three);
      assert.equal(state.params.minFee, 1n);
      state = ok(state, vote(vs[3]!, id, true, 2n), three);
      assert.equal(state.params.minFee, 3n);
    });

    it('a passed parameter takes effect for the next transaction', () => {
      const one: ApplyContext = { height: 1, validators: [alice.publicKey] };
      let s = funded([alice, bob]);
      const p = tx(alice, 2n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.nameFee, value: 0n }, 1n);
      s = ok(s, p, one);
      s = ok(s, vote(alice, txId(p.bytes), true, 3n), one);
      assert.equal(s.params.nameFee, 0n);
      const named = ok(s, tx(bob, 2n, { kind: 'REGISTER_NAME', name: 'free', target: bob.publicKey }));
      assert.equal(balance(named, bob), 998n);
    });
  });
});
