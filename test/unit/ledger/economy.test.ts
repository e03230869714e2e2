// The economy's ledger rules (docs/economy.md): claims, audit verdicts, measurements, and the epoch-end
// settlement (payout by formula from a minted pool, penalties that burn the bond), with credits
// conserved throughout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import { type ApplyContext, applyTx, type RefusalCode } from '../../../src/ledger/apply.ts';
import { epochAt, validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { capacityCells, payoutDue, qualityPermille } from '../../../src/ledger/payout.ts';
import { reputation } from '../../../src/ledger/reputation.ts';
import { settleEpoch } from '../../../src/ledger/settlement.ts';
import { getAccount, keyHex, type LedgerState } from '../../../src/ledger/state.ts';
import { decodeState, encodeState } from '../../../src/ledger/state-codec.ts';
import type { SignedTx, TxBody } from '../../../src/wire/ledger-tx.ts';
import { testGenesisState, validatorIds } from './chain-fixtures.ts';
import { tx } from './fixtures.ts';

const vs = validatorIds.slice(0, 4);
const relayA = identityFromSeed(new Uint8Array(32).fill(0x41));
const relayB = identityFromSeed(new Uint8Array(32).fill(0x42));
const payoutA = identityFromSeed(new Uint8Array(32).fill(0x51));
const payoutB = identityFromSeed(new Uint8Array(32).fill(0x52));
const EPOCH = 10;
const params = {
  epochLength: EPOCH,
  blockIntervalMs: 1000,
  startingCredits: 1000n,
  relayBond: 100n,
  unmeasuredBandwidth: 10 * 1024 * 1024,
} as never;

function ctxAt(state: LedgerState, height: number): ApplyContext {
  return { height, validators: validatorsForHeight(state, height) ?? [] };
}

function ok(state: LedgerState, t: SignedTx, height: number): LedgerState {
  const r = applyTx(state, t, ctxAt(state, height));
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
  return r.state;
}

function refused(state: LedgerState, t: SignedTx, height: number, code: RefusalCode): void {
  const r = applyTx(state, t, ctxAt(state, height));
  assert.equal(r.ok ? 'ok' : r.code, code);
}

function register(payout: Uint8Array): TxBody {
  return {
    kind: 'REGISTER_RELAY',
    roles: 1,
    bandwidth: 1_000_000,
    onionKeyHash: new Uint8Array(32),
    payout,
    exitPolicySummary: new Uint8Array(0),
  };
}

function claim(epoch: number, cells: bigint, leaves = 3): TxBody {
  return { kind: 'RELAY_CLAIM', epoch, cells, leaves, root: new Uint8Array(32).fill(7) };
}

/** Σ balances + Σ bonds + pool + burned. */
function supply(s: LedgerState): bigint {
  let sum = s.economy.pool + s.burned;
  for (const a of s.accounts.values()) sum += a.balance;
  for (const r of s.relays.values()) sum += r.bond;
  return sum;
}

/** Genesis, then both relays claim the grant and register (at height 1). */
function registered(): LedgerState {
  let s = testGenesisState(vs, params);
  s = ok(s, tx(relayA, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), 1);
  s = ok(s, tx(relayB, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), 1);
  s = ok(s, tx(relayA, 2n, register(payoutA.publicKey)), 1);
  s = ok(s, tx(relayB, 2n, register(payoutB.publicKey)), 1);
  return s;
}

/** The state at the last block of epoch 1 (height 20), with no block effects but the given txs. */
function atEpochEnd(s: LedgerState, height: number): LedgerState {
  return { ...s, height };
}

describe('economy: registration', () => {
  it('locks the bond from the balance (not burned) and names the payout account', () => {
    const s = registered();
    const reg = s.relays.get(keyHex(relayA.publicKey));
    assert.equal(reg?.bond, 100n);
    assert.equal(reg?.payout, keyHex(payoutA.publicKey));
    assert.equal(getAccount(s, keyHex(relayA.publicKey)).balance, 1000n - 1n - 1n - 100n);
    assert.equal(supply(s), s.minted);
  });

  it('refuses a registration that cannot pay fee and bond', () => {
    const s = testGenesisState(vs, params);
    refused(s, tx(relayA, 1n, register(payoutA.publicKey)), 1, 'INSUFFICIENT_FUNDS');
  });

  it('a re-registration keeps the bond and does not take it twice', () => {
    let s = registered();
    s = ok(s, tx(relayA, 3n, register(payoutB.publicKey)), 2);
    assert.equal(s.relays.get(keyHex(relayA.publicKey))?.bond, 100n);
    assert.equal(getAccount(s, keyHex(relayA.publicKey)).balance, 1000n - 3n - 100n);
  });
});

describe('economy: claims, audits, measurements', () => {
  it('takes a claim for the previous epoch in the first half of the next one only', () => {
    const s = registered();
    assert.equal(epochAt(s, 12)?.epoch, 1);
    ok(s, tx(relayA, 3n, claim(0, 1000n)), 12);
    refused(s, tx(relayA, 3n, claim(0, 1000n)), 16, 'CLAIM_WINDOW_CLOSED');
    refused(s, tx(relayA, 3n, claim(1, 1000n)), 12, 'BAD_EPOCH');
    refused(s, tx(relayA, 3n, claim(0, 0n, 0)), 12, 'BAD_CLAIM');
    refused(s, tx(relayA, 3n, claim(0, 2n, 3)), 12, 'BAD_CLAIM');
    const once = ok(s, tx(relayA, 3n, claim(0, 1000n)), 12);
    refused(once, tx(relayA, 4n, claim(0, 1000n)), 13, 'CLAIM_EXISTS');
    refused(s, tx(payoutA, 1n, claim(0, 1000n)), 12, 'NOT_A_RELAY');
  });

  it('takes audit failures from validators only, once each, for an open claim', () => {
    let s = registered();
    for (const v of vs) s = ok(s, tx(v, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), 1);
    s = ok(s, tx(relayA, 3n, claim(0, 1000n)), 12);
    const failTx = (who: typeof relayA, nonce: bigint, relay = relayA.publicKey) =>
      tx(who, nonce, { kind: 'AUDIT_FAIL', relay, epoch: 0, reason: 1 });
    refused(s, failTx(relayB, 3n), 13, 'NOT_A_VALIDATOR');
    refused(s, failTx(vs[0]!, 2n, relayB.publicKey), 13, 'UNKNOWN_CLAIM');
    const once = ok(s, failTx(vs[0]!, 2n), 13);
    refused(once, failTx(vs[0]!, 3n), 14, 'ALREADY_AUDITED');
  });

  it('commits the median of the validators’ measurements at the epoch end', () => {
    let s = registered();
    for (const v of vs) s = ok(s, tx(v, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), 1);
    const reports = [5_000_000, 7_000_000, 90_000_000]; // one liar far above
    for (const [i, bw] of reports.entries()) {
      const body: TxBody = {
        kind: 'MEASUREMENT',
        epoch: 1,
        entries: [{ relay: relayA.publicKey, bandwidth: bw, latencyMs: 20 + i }],
      };
      s = ok(s, tx(vs[i]!, 2n, body), 12);
    }
    refused(
      s,
      tx(vs[3]!, 2n, {
        kind: 'MEASUREMENT',
        epoch: 0,
        entries: [{ relay: relayA.publicKey, bandwidth: 1, latencyMs: 1 }],
      }),
      12,
      'BAD_EPOCH',
    );
    const ended = epochAt(s, 20);
    assert.ok(ended);
    const after = settleEpoch(atEpochEnd(s, 20), ended, new Set());
    assert.deepEqual(after.relays.get(keyHex(relayA.publicKey))?.measured, {
      bandwidth: 7_000_000,
      latencyMs: 21,
      epoch: 1,
    });
    assert.equal(getAccount(after, keyHex(relayA.publicKey)).reputation.uptimeEpochs, 1n);
    assert.equal(after.economy.measurements.size, 0);
  });
});

describe('economy: settlement', () => {
  it('pays an audited claim by the formula from a minted pool, and burns a refuted claim’s bond', () => {
    let s = registered();
    for (const v of vs) s = ok(s, tx(v, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), 1);
    const cells = 50_000n; // ~98 MiB, within the unmeasured capacity (51,200 cells an epoch)
    s = ok(s, tx(relayA, 3n, claim(0, cells)), 12);
    s = ok(s, tx(relayB, 3n, claim(0, cells)), 12);
    // Two of four validators fail B's claim: more than a third.
    const fail = { kind: 'AUDIT_FAIL', relay: relayB.publicKey, epoch: 0, reason: 1 } as const;
    s = ok(s, tx(vs[0]!, 2n, fail), 13);
    s = ok(s, tx(vs[1]!, 2n, fail), 13);
    // One fail on A: not enough to penalise.
    s = ok(s, tx(vs[2]!, 2n, { ...fail, relay: relayA.publicKey }), 13);
    const before = atEpochEnd(s, 20);
    const q = qualityPermille({
      measured: null,
      medianBandwidth: 0,
      uptimeEpochs: 0n,
      reputation: reputation(before, keyHex(relayA.publicKey)),
    });
    const due = payoutDue(cells, 1000n as never, q);
    // A new, unmeasured relay: q = 500 per mille, so half of ~95 credits for ~0.095 GiB.
    assert.equal(q, 500);
    assert.ok(due > 40n && due < 55n, `due ${due}`);
    const ended = epochAt(before, 20);
    assert.ok(ended);
    const after = settleEpoch(before, ended, new Set());
    const a = after.economy.settlements.get(keyHex(relayA.publicKey));
    const b = after.economy.settlements.get(keyHex(relayB.publicKey));
    assert.deepEqual(
      { paid: a?.paid, penalised: a?.penalised, failVotes: a?.failVotes },
      { paid: due, penalised: false, failVotes: 1 },
    );
    assert.deepEqual({ paid: b?.paid, penalised: b?.penalised }, { paid: 0n, penalised: true });
    assert.equal(getAccount(after, keyHex(payoutA.publicKey)).balance, due);
    assert.equal(getAccount(after, keyHex(payoutB.publicKey)).balance, 0n);
    assert.equal(after.relays.get(keyHex(relayB.publicKey))?.bond, 0n);
    assert.equal(getAccount(after, keyHex(relayB.publicKey)).reputation.penalties, 1n);
    assert.equal(getAccount(after, keyHex(relayA.publicKey)).reputation.relayedBytes, cells * 2048n);
    assert.equal(after.minted - before.minted, due, 'the pool was minted exactly what was owed');
    assert.equal(after.burned - before.burned, 100n, 'the bond was burned');
    assert.equal(supply(after), after.minted);
    assert.equal(after.economy.claims.size, 0);
    // The penalised relay may not claim again until it re-registers (and re-bonds).
    const next = { ...after, height: 22 };
    refused(next, tx(relayB, 4n, claim(1, 10n)), 22, 'NO_BOND');
    // The snapshot codec carries every economy field.
    const decoded = decodeState(encodeState(after));
    assert.ok(decoded.kind === 'ok');
    assert.deepEqual(decoded.value.economy, after.economy);
  });

  it('penalises a claim beyond capacityCap × capacity and caps an honest one at capacity', () => {
    let s = registered();
    const capacity = capacityCells(10 * 1024 * 1024, EPOCH, 1000);
    s = ok(s, tx(relayA, 3n, claim(0, capacity + 10n)), 12);
    s = ok(s, tx(relayB, 3n, claim(0, 2n * capacity + 1n)), 12);
    const ended = epochAt(s, 20);
    assert.ok(ended);
    const after = settleEpoch(atEpochEnd(s, 20), ended, new Set());
    assert.equal(after.economy.settlements.get(keyHex(relayA.publicKey))?.paidCells, capacity);
    assert.equal(after.economy.settlements.get(keyHex(relayB.publicKey))?.penalised, true);
    assert.equal(supply(after), after.minted);
  });

  it('pays pro rata when the pool cap falls short, and keeps supply conserved', () => {
    let s = registered();
    s = { ...s, params: { ...s.params, poolCapPerEpoch: 20n as never } };
    s = ok(s, tx(relayA, 3n, claim(0, 10_000n)), 12);
    s = ok(s, tx(relayB, 3n, claim(0, 30_000n)), 12);
    const ended = epochAt(s, 20);
    assert.ok(ended);
    const after = settleEpoch(atEpochEnd(s, 20), ended, new Set());
    const a = after.economy.settlements.get(keyHex(relayA.publicKey));
    const b = after.economy.settlements.get(keyHex(relayB.publicKey));
    assert.ok(a && b);
    assert.ok(a.due + b.due > 20n, 'owed more than the cap');
    assert.ok(a.paid + b.paid <= 20n);
    assert.ok(b.paid >= 2n * a.paid && a.paid > 0n, 'pro rata');
    assert.equal(after.minted - s.minted, 20n);
    assert.equal(supply(after), after.minted);
  });
});
