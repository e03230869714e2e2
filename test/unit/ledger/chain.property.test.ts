// Property tests over random chains: random (valid and invalid) transactions, evidence, missing
// signers and epoch boundaries. Replays agree on every state hash; credits are conserved; nothing goes
// negative; no transaction applies twice; elections are deterministic, fixed two epochs ahead and
// never changed; evidence removes a validator from every later election.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Identity } from '../../../src/crypto/identity.ts';
import { applyBlock, proposeBlockTxs } from '../../../src/ledger/chain.ts';
import { isCredits } from '../../../src/ledger/credits.ts';
import { electValidators } from '../../../src/ledger/epochs.ts';
import { reputation } from '../../../src/ledger/reputation.ts';
import {
  type EpochInfo,
  getAccount,
  keyHex,
  type LedgerState,
  stateHash,
} from '../../../src/ledger/state.ts';
import { decodeState, encodeState } from '../../../src/ledger/state-codec.ts';
import type { Block, Evidence } from '../../../src/wire/block.ts';
import { type TxBody, txId } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, equivocation, keyring, testGenesisState, validatorIds } from './chain-fixtures.ts';
import { ids, tx } from './fixtures.ts';

const vs = validatorIds.slice(0, 4);
const actors: readonly Identity[] = [...ids.slice(0, 4), ...validatorIds];
const keys = keyring(validatorIds, ids);

type TxOp = { who: number; nonceDelta: number; fee: bigint; body: number; to: number; amount: bigint };
type BlockOp = {
  txs: TxOp[];
  evidence: { who: number; back: number; round: number }[];
  absent: number | null;
};

const arbTxOp: fc.Arbitrary<TxOp> = fc.record({
  who: fc.nat(actors.length - 1),
  nonceDelta: fc.constantFrom(0, 0, 0, 0, 0, -1, 1),
  fee: fc.constantFrom(1n, 1n, 1n, 2n, 0n),
  body: fc.nat(6),
  to: fc.nat(actors.length - 1),
  amount: fc.bigInt({ min: 0n, max: 400n }),
});

const arbBlockOp: fc.Arbitrary<BlockOp> = fc.record({
  txs: fc.array(arbTxOp, { maxLength: 6 }),
  evidence: fc.array(fc.record({ who: fc.nat(actors.length - 1), back: fc.nat(6), round: fc.nat(1) }), {
    maxLength: 1,
  }),
  absent: fc.option(fc.nat(vs.length - 1), { nil: null, freq: 3 }),
});

function body(op: TxOp): TxBody {
  switch (op.body) {
    case 0:
      return { kind: 'CLAIM_GENESIS', powNonce: 0n };
    case 1:
    case 2:
      return { kind: 'TRANSFER', to: actors[op.to]!.publicKey, amount: op.amount };
    case 3:
      return {
        kind: 'REGISTER_RELAY',
        roles: 1,
        bandwidth: 100,
        onionKeyHash: new Uint8Array(32).fill(3),
        payout: new Uint8Array(32).fill(0xcd),
        exitPolicySummary: new Uint8Array(0),
      };
    default:
      return { kind: 'VALIDATOR_CANDIDACY' };
  }
}

/** Runs one random chain; returns the applied blocks and every intermediate state. */
function runChain(epochLength: number, ops: readonly BlockOp[]): { blocks: Block[]; states: LedgerState[] } {
  const d = new ChainDriver(testGenesisState(vs, { epochLength, validatorCount: 4 }), keys);
  const blocks: Block[] = [];
  const states: LedgerState[] = [d.state];
  for (const op of ops) {
    // Nonces planned from the committed state, perturbed: some transactions will be refused.
    const next = new Map<string, bigint>();
    const raw = op.txs.flatMap((t) => {
      const who = actors[t.who]!;
      const k = keyHex(who.publicKey);
      // Body 6: claim, register and stand in one go (random single steps rarely line up).
      const bodies = t.body === 6 ? [0, 3, 4].map((b) => body({ ...t, body: b })) : [body(t)];
      return bodies.map((b) => {
        const n = (next.get(k) ?? getAccount(d.state, k).nonce) + 1n;
        next.set(k, n);
        return tx(who, n + BigInt(t.nonceDelta), b, t.fee).bytes;
      });
    });
    const evidence: Evidence[] = op.evidence.map((e) =>
      equivocation(actors[e.who]!, Math.max(1, d.state.height + 1 - e.back), e.round),
    );
    const absent = op.absent === null ? [] : [vs[op.absent]!];
    const before = stateHash(d.state);

    // The raw block is valid only if every transaction and piece of evidence is.
    const rawBlock = d.build({ txs: raw, evidence, absent });
    let r = applyBlock(d.state, rawBlock);
    assert.deepEqual(stateHash(d.state), before, 'a refused block changed its input state');
    let block = rawBlock;
    if (!r.ok) {
      const good = evidence.filter((ev) => applyBlock(d.state, d.build({ evidence: [ev], absent })).ok);
      block = d.build({ txs: proposeBlockTxs(d.state, raw).txs, evidence: dedupe(good), absent });
      r = applyBlock(d.state, block);
      assert.ok(r.ok, r.ok ? '' : `a proposed block was refused: ${r.code} ${r.reason}`);
    }
    d.apply(block);
    blocks.push(block);
    states.push(d.state);
  }
  return { blocks, states };
}

/** One piece of evidence per (validator, height, round) slot. */
function dedupe(evidence: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const k = `${keyHex(e.voteA.validator)}:${e.voteA.height}:${e.voteA.round}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const arbChain = fc.record({
  epochLength: fc.integer({ min: 2, max: 4 }),
  ops: fc.array(arbBlockOp, { minLength: 4, maxLength: 14 }),
});

describe('random chains', () => {
  it('replay to the same state hashes, conserve credits, never go negative or apply a tx twice', () => {
    fc.assert(
      fc.property(arbChain, ({ epochLength, ops }) => {
        const { blocks, states } = runChain(epochLength, ops);
        // A second node replaying the same blocks from genesis reaches the same hash at every height.
        let replay = testGenesisState(vs, { epochLength, validatorCount: 4 });
        for (const [i, b] of blocks.entries()) {
          const r = applyBlock(replay, b);
          assert.ok(r.ok);
          if (!r.ok) return;
          replay = r.state;
          assert.deepEqual(stateHash(replay), stateHash(states[i + 1]!));
        }
        const seen = new Set<string>();
        for (const b of blocks) {
          for (const t of b.txs) {
            const id = keyHex(txId(t));
            assert.ok(!seen.has(id), 'a transaction applied twice');
            seen.add(id);
          }
        }
        for (const s of states) {
          let sum = 0n;
          for (const a of s.accounts.values()) {
            assert.ok(isCredits(a.balance), 'balance out of range');
            sum += a.balance;
          }
          for (const r of s.relays.values()) sum += r.bond;
          assert.equal(sum + s.economy.pool + s.burned, s.minted, 'credits not conserved');
          // The snapshot codec round-trips every state exactly.
          const decoded = decodeState(encodeState(s));
          assert.ok(decoded.kind === 'ok' && bytesEq(stateHash(decoded.value), stateHash(s)));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('elects deterministically, fixes each set two epochs ahead, and never changes it', () => {
    fc.assert(
      fc.property(arbChain, ({ epochLength, ops }) => {
        const { states } = runChain(epochLength, ops);
        const fixed = new Map<number, EpochInfo>();
        for (const s of states) {
          // Whatever the state, the next two epochs' sets are known (current epoch of the next block
          // and the one after it), and every set is non-empty.
          const current = s.epochs.find(
            (e) => s.height + 1 >= e.startHeight && s.height + 1 < e.startHeight + e.length,
          );
          assert.ok(current, `no epoch for height ${s.height + 1}`);
          assert.ok(s.epochs.some((e) => e.epoch === current.epoch + 1));
          for (const e of s.epochs) {
            assert.ok(e.validators.length > 0);
            const before = fixed.get(e.epoch);
            if (before === undefined) fixed.set(e.epoch, e);
            else assert.deepEqual(e, before, `epoch ${e.epoch} changed after it was fixed`);
          }
          // The election ignores the order candidates were declared in.
          const reversed = { ...s, candidates: new Set([...s.candidates].reverse()) };
          assert.deepEqual(
            electValidators(
              reversed,
              vs.map((v) => keyHex(v.publicKey)),
            ),
            electValidators(
              s,
              vs.map((v) => keyHex(v.publicKey)),
            ),
          );
        }
      }),
      { numRuns: 25 },
    );
  });

  it('evidence costs the validator its reputation and every later election', () => {
    fc.assert(
      fc.property(arbChain, ({ epochLength, ops }) => {
        const { states } = runChain(epochLength, ops);
        const sets = new Map<number, readonly string[]>();
        for (const s of states) for (const e of s.epochs) sets.set(e.epoch, e.validators);
        for (const [i, s] of states.entries()) {
          for (const [key, a] of s.accounts) {
            if (a.reputation.penalties === 0n) continue;
            assert.equal(reputation(s, key), 0n);
            assert.equal(s.candidates.has(key), false);
            const prev = states[i - 1];
            if (prev === undefined || getAccount(prev, key).reputation.penalties > 0n) continue;
            // Epochs elected from now on never include it, unless too few stood and the previous
            // set was kept as it was.
            const knownNow = Math.max(...s.epochs.map((e) => e.epoch));
            for (const [epoch, validators] of sets) {
              if (epoch <= knownNow) continue;
              const inherited = same(sets.get(epoch - 1) ?? [], validators);
              if (!inherited) assert.ok(!validators.includes(key), 'a penalised key was elected');
            }
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
