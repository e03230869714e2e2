// Property tests of the ledger state machine over random transaction sequences: supply is conserved
// (sum of balances + burned == minted), no balance goes negative, nothing applies twice, replays are
// deterministic, and independent senders commute.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type ApplyContext, applyTx } from '../../../src/ledger/apply.ts';
import { credits, MAX_CREDITS } from '../../../src/ledger/credits.ts';
import {
  getAccount,
  initialLedgerState,
  keyHex,
  type LedgerState,
  stateHash,
} from '../../../src/ledger/state.ts';
import { concatBytes } from '../../../src/wire/bytes.ts';
import type { SignedTx, TxBody } from '../../../src/wire/ledger-tx.ts';
import { ids, tx } from './fixtures.ts';

const actors = ids.slice(0, 5);
const ctx: ApplyContext = { height: 1, validators: ids.slice(0, 3).map((i) => i.publicKey) };
const start = () =>
  initialLedgerState({ powDifficulty: 0, startingCredits: credits(100), nameFee: credits(5) });

type Op = {
  who: number;
  nonceDelta: number;
  fee: bigint;
  tamper: boolean;
  body:
    | { t: 'genesis' }
    | { t: 'transfer'; to: number; amount: bigint }
    | { t: 'relay'; bandwidth: number }
    | { t: 'candidacy' }
    | { t: 'name'; name: string }
    | { t: 'proposal'; paramId: number; value: bigint }
    | { t: 'vote'; pick: number; yes: boolean };
};

const arbOp: fc.Arbitrary<Op> = fc.record({
  who: fc.nat(actors.length - 1),
  nonceDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, -1, 1),
  fee: fc.constantFrom(1n, 1n, 1n, 2n, 3n, 0n),
  tamper: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  body: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ t: 'genesis' as const }) },
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('transfer' as const),
        to: fc.nat(ids.length - 1),
        amount: fc.bigInt({ min: 0n, max: 120n }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('relay' as const), bandwidth: fc.nat(1000) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'candidacy' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('name' as const),
        name: fc.constantFrom('a', 'b', 'c-1', 'Bad'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('proposal' as const),
        paramId: fc.constantFrom(1, 4, 5, 6, 99),
        value: fc.bigInt({ min: 0n, max: 3n }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('vote' as const),
        pick: fc.nat(2),
        yes: fc.constantFrom(true, true, true, false),
      }),
    },
  ),
});

function toBody(op: Op, state: LedgerState): TxBody {
  const b = op.body;
  switch (b.t) {
    case 'genesis':
      return { kind: 'CLAIM_GENESIS', powNonce: 0n };
    case 'transfer':
      return { kind: 'TRANSFER', to: ids[b.to]!.publicKey, amount: b.amount };
    case 'relay':
      return {
        kind: 'REGISTER_RELAY',
        roles: 1,
        bandwidth: b.bandwidth,
        onionKeyHash: new Uint8Array(32).fill(op.who),
        payout: new Uint8Array(32).fill(0xcd),
        exitPolicySummary: new Uint8Array([op.who]),
      };
    case 'candidacy':
      return { kind: 'VALIDATOR_CANDIDACY' };
    case 'name':
      return { kind: 'REGISTER_NAME', name: b.name, target: ids[op.who]!.publicKey };
    case 'proposal':
      return { kind: 'PARAM_PROPOSAL', paramId: b.paramId, value: b.value };
    case 'vote': {
      const open = [...state.proposals.keys()].sort();
      const id = open[b.pick];
      return {
        kind: 'PARAM_VOTE',
        proposalId:
          id === undefined ? new Uint8Array(32).fill(b.pick) : new Uint8Array(Buffer.from(id, 'hex')),
        yes: b.yes,
      };
    }
  }
}

const claim = (who: number): Op => ({ who, nonceDelta: 0, fee: 1n, tamper: false, body: { t: 'genesis' } });

/**
 * Builds concrete transactions from ops against the evolving state (so nonces are mostly right). The
 * first four actors claim genesis first; the fifth only when an op says so.
 */
function build(ops: readonly Op[]): SignedTx[] {
  let state = start();
  const out: SignedTx[] = [];
  for (const op of [claim(0), claim(1), claim(2), claim(3), ...ops]) {
    const who = actors[op.who]!;
    const nonce = getAccount(state, keyHex(who.publicKey)).nonce + 1n + BigInt(op.nonceDelta);
    let t = tx(who, nonce, toBody(op, state), op.fee);
    if (op.tamper) {
      const sig = t.signature.slice();
      sig[5]! ^= 0x10;
      t = { ...t, signature: sig, bytes: concatBytes(t.body, sig) };
    }
    out.push(t);
    const r = applyTx(state, t, ctx);
    if (r.ok) state = r.state;
  }
  return out;
}

function supply(state: LedgerState): bigint {
  let sum = 0n;
  for (const a of state.accounts.values()) {
    assert.ok(a.balance >= 0n && a.balance <= MAX_CREDITS, 'balance out of range');
    sum += a.balance;
  }
  for (const r of state.relays.values()) sum += r.bond;
  return sum + state.economy.pool;
}

/** Replays with invariant checks; returns the final state and the transactions that applied. */
function replay(txs: readonly SignedTx[]): { state: LedgerState; applied: SignedTx[] } {
  let state = start();
  const applied: SignedTx[] = [];
  for (const t of txs) {
    const before = stateHash(state);
    const r = applyTx(state, t, ctx);
    if (!r.ok) {
      assert.deepEqual(stateHash(state), before, 'a refusal changed the state');
      continue;
    }
    const sender = keyHex(t.tx.sender);
    assert.equal(getAccount(r.state, sender).nonce, getAccount(state, sender).nonce + 1n);
    assert.ok(r.state.burned - state.burned >= t.tx.fee, 'the fee was not burned');
    state = r.state;
    applied.push(t);
    assert.equal(supply(state) + state.burned, state.minted, 'credits not conserved');
    const again = applyTx(state, t, ctx);
    assert.equal(again.ok ? 'ok' : again.code, 'BAD_NONCE', 'a transaction applied twice');
  }
  return { state, applied };
}

describe('ledger invariants (property)', () => {
  it('conserves credits, never goes negative, never applies a tx twice, replays deterministically', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { minLength: 1, maxLength: 40 }), (ops) => {
        const txs = build(ops);
        const first = replay(txs);
        const second = replay(txs);
        assert.deepEqual(stateHash(first.state), stateHash(second.state));
        for (const t of first.applied) {
          const r = applyTx(first.state, t, ctx);
          assert.equal(r.ok, false, 'an applied tx applied again at the end');
        }
        // Minting happens only through genesis claims: one per account that claimed.
        let claimed = 0n;
        for (const a of first.state.accounts.values()) if (a.genesisClaimed) claimed++;
        assert.equal(first.state.minted, claimed * 100n);
      }),
      { numRuns: 150 },
    );
  });

  it('independent senders commute: any interleaving that keeps each sender’s nonce order agrees', () => {
    const senders = ids.slice(0, 4);
    const arbTransfers = fc.array(
      fc.array(
        fc.record({
          to: fc.nat(ids.length - 1),
          amount: fc.bigInt({ min: 1n, max: 50n }),
          fee: fc.bigInt({ min: 1n, max: 3n }),
        }),
        { maxLength: 5 },
      ),
      { minLength: senders.length, maxLength: senders.length },
    );
    fc.assert(
      fc.property(arbTransfers, fc.array(fc.nat(senders.length - 1), { maxLength: 40 }), (plans, picks) => {
        const base = (() => {
          let s = initialLedgerState({ powDifficulty: 0 });
          for (const id of senders) {
            const r = applyTx(s, tx(id, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }), ctx);
            assert.ok(r.ok);
            s = r.state;
          }
          return s;
        })();
        const queues = plans.map((plan, i) =>
          plan.map((p, j) => {
            const to = ids[p.to === i ? (p.to + 1) % ids.length : p.to]!;
            return tx(
              senders[i]!,
              BigInt(j + 2),
              { kind: 'TRANSFER', to: to.publicKey, amount: p.amount },
              p.fee,
            );
          }),
        );
        const run = (order: readonly SignedTx[]) => {
          let s = base;
          for (const t of order) {
            const r = applyTx(s, t, ctx);
            assert.ok(r.ok, r.ok ? '' : r.code);
            s = r.state;
          }
          return stateHash(s);
        };
        const sequential = queues.flat();
        // Interleave by the picks, then append whatever remains.
        const cursors = queues.map(() => 0);
        const interleaved: SignedTx[] = [];
        for (const pick of picks) {
          const q = queues[pick]!;
          const c = cursors[pick]!;
          if (c < q.length) {
            interleaved.push(q[c]!);
            cursors[pick] = c + 1;
          }
        }
        for (const [i, q] of queues.entries()) interleaved.push(...q.slice(cursors[i]));
        assert.deepEqual(run(interleaved), run(sequential));
        // Within one sender, order is what the nonces say: the later tx first is refused.
        const q = queues.find((x) => x.length >= 2);
        if (q !== undefined) {
          const r = applyTx(base, q[1]!, ctx);
          assert.equal(r.ok ? 'ok' : r.code, 'BAD_NONCE');
        }
      }),
      { numRuns: 60 },
    );
  });
});
