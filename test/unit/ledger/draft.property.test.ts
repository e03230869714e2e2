// The block fast path (one LedgerDraft per block: checkBlockTxs, proposeBlockTxs, applyBlock) and
// applyTx against the transaction-by-transaction reference (./reference-apply.ts: one immutable state
// per transaction, the implementation before drafts) on random chains
// of valid and invalid transactions of every kind: the same verdicts (refused index and code), the
// same state hashes, and the input state never changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Identity } from '../../../src/crypto/identity.ts';
import { type ApplyContext, applyTx } from '../../../src/ledger/apply.ts';
import { checkBlockTxs, proposeBlockTxs } from '../../../src/ledger/chain.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { genesisState } from '../../../src/ledger/genesis.ts';
import { getAccount, keyHex, type LedgerState, stateHash } from '../../../src/ledger/state.ts';
import { encodeState } from '../../../src/ledger/state-codec.ts';
import { concatBytes } from '../../../src/wire/bytes.ts';
import type { SignedTx, TxBody } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, keyring, testGenesis, validatorIds } from './chain-fixtures.ts';
import { ids, tx } from './fixtures.ts';
import { referenceApplyTx } from './reference-apply.ts';

const vs = validatorIds.slice(0, 4);
const actors: readonly Identity[] = [...ids.slice(0, 4), ...vs];
const keys = keyring(validatorIds, ids);
// Everyone starts with credits, so validators can propose and vote from the first block.
const genesis = genesisState(
  testGenesis(
    vs,
    { epochLength: 3, validatorCount: 4 },
    actors.map((a) => ({ key: a.publicKey, balance: credits(500) })),
  ),
);

type TxOp = {
  who: number;
  nonceDelta: number;
  fee: bigint;
  tamper: boolean;
  kind: number;
  to: number;
  amount: bigint;
  pick: number;
  flag: boolean;
};

const arbTxOp: fc.Arbitrary<TxOp> = fc.record({
  who: fc.nat(actors.length - 1),
  nonceDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, -1, 1),
  fee: fc.constantFrom(1n, 1n, 1n, 2n, 0n),
  tamper: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  kind: fc.nat(11),
  to: fc.nat(actors.length - 1),
  amount: fc.bigInt({ min: 0n, max: 700n }),
  pick: fc.nat(3),
  flag: fc.boolean(),
});

/** Proposal ids open in `s`, sorted (votes pick one of them, or a missing one). */
const openProposals = (s: LedgerState) => [...s.proposals.keys()].sort();

function body(op: TxOp, s: LedgerState): TxBody {
  switch (op.kind) {
    case 0:
      return { kind: 'CLAIM_GENESIS', powNonce: 0n };
    case 1:
    case 2:
    case 3:
      return { kind: 'TRANSFER', to: actors[op.to]!.publicKey, amount: op.amount };
    case 4:
      return {
        kind: 'REGISTER_RELAY',
        roles: 1,
        bandwidth: op.pick,
        onionKeyHash: new Uint8Array(32).fill(op.who),
        payout: new Uint8Array(32).fill(0xcd),
        exitPolicySummary: new Uint8Array([op.pick]),
      };
    case 5:
      return { kind: 'VALIDATOR_CANDIDACY' };
    case 6:
      return {
        kind: 'REGISTER_NAME',
        name: ['a', 'b', 'c-1', 'Bad'][op.pick]!,
        target: actors[op.to]!.publicKey,
      };
    case 7:
      // minFee (5) to 1 or 2, nameFee (4), or an unknown parameter.
      return { kind: 'PARAM_PROPOSAL', paramId: [5, 4, 5, 99][op.pick]!, value: op.flag ? 1n : 2n };
    default: {
      // Mostly an open proposal (few are open at a time), else a missing one.
      const open = openProposals(s);
      const id = op.pick === 3 ? undefined : open[op.pick % Math.max(1, open.length)];
      return {
        kind: 'PARAM_VOTE',
        proposalId:
          id === undefined ? new Uint8Array(32).fill(op.pick) : new Uint8Array(Buffer.from(id, 'hex')),
        yes: op.flag || op.amount % 4n !== 0n,
      };
    }
  }
}

/**
 * Signed transactions for one block, planned against the evolving state so most of them apply (nonces
 * follow on), perturbed by the op (wrong nonce, zero fee, a tampered signature).
 */
function plan(state: LedgerState, ops: readonly TxOp[], ctx: ApplyContext): SignedTx[] {
  let s = state;
  const out: SignedTx[] = [];
  for (const op of ops) {
    const who = actors[op.who]!;
    const nonce = getAccount(s, keyHex(who.publicKey)).nonce + 1n + BigInt(op.nonceDelta);
    let t = tx(who, nonce, body(op, s), op.fee);
    if (op.tamper) {
      const sig = t.signature.slice();
      sig[9]! ^= 0x04;
      t = { ...t, signature: sig, bytes: concatBytes(t.body, sig) };
    }
    out.push(t);
    const r = applyTx(s, t, ctx);
    if (r.ok) s = r.state;
  }
  return out;
}

type ApplyOne = typeof applyTx;

/**
 * One `apply` per transaction, one immutable state each; stops at the first refusal like a block does.
 * With referenceApplyTx (./reference-apply.ts, the pre-draft implementation) this is the oracle.
 */
function oneByOne(
  apply: ApplyOne,
  state: LedgerState,
  txs: readonly SignedTx[],
  ctx: ApplyContext,
): { state: LedgerState } | { index: number; code: string } {
  let s = state;
  for (const [index, t] of txs.entries()) {
    const r = apply(s, t, ctx);
    if (!r.ok) return { index, code: r.code };
    s = r.state;
  }
  return { state: s };
}

/** Hash of a state's encoding, bypassing the per-object hash cache (so a mutation would show). */
const freshHash = (s: LedgerState) => stateHash({ ...s });

describe('block fast path (LedgerDraft) vs one transaction at a time (property)', () => {
  it('gives the same verdicts and state hashes on random chains, never changing its input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(arbTxOp, { maxLength: 12 }), { minLength: 1, maxLength: 10 }),
        (blocks) => {
          const d = new ChainDriver(genesis, keys);
          for (const ops of blocks) {
            const pre = d.state;
            const height = pre.height + 1;
            const ctx: ApplyContext = { height, validators: validatorsForHeight(pre, height) ?? [] };
            const before = encodeState(pre);
            const txs = plan(pre, ops, ctx);

            // All of them, in order, as one block: the same verdict either way.
            const fast = checkBlockTxs(
              pre,
              txs.map((t) => t.bytes),
              ctx,
            );
            const slow = oneByOne(referenceApplyTx, pre, txs, ctx);
            const single = oneByOne(applyTx, pre, txs, ctx);
            if ('state' in slow && 'state' in single) {
              assert.deepEqual(freshHash(single.state), freshHash(slow.state));
            } else {
              assert.deepEqual(single, slow);
            }
            if ('state' in slow) {
              assert.ok(fast.ok, fast.ok ? '' : fast.reason);
              assert.deepEqual(freshHash(fast.state), freshHash(slow.state));
            } else {
              assert.equal(fast.ok, false);
              if (!fast.ok) {
                assert.equal(fast.txIndex, slow.index);
                assert.equal(fast.txCode, slow.code);
              }
            }

            // What a proposer keeps, applied both ways and as a whole block.
            const chosen = proposeBlockTxs(
              pre,
              txs.map((t) => t.bytes),
            ).txs;
            // In the proposer's order (a later nonce listed first moves after its predecessor).
            const kept = chosen.map((b) => txs.find((t) => t.bytes === b)!);
            const ref = oneByOne(referenceApplyTx, pre, kept, ctx);
            assert.ok('state' in ref, 'a proposed transaction is refused one by one');
            const viaBlock = checkBlockTxs(pre, chosen, ctx);
            assert.ok(viaBlock.ok);
            assert.deepEqual(freshHash(viaBlock.state), freshHash(ref.state));
            const applied = d.apply(d.build({ txs: chosen }));
            // applyBlock adds the block-level effects on top of the same transactions.
            assert.equal(applied.state.burned, ref.state.burned);
            assert.equal(applied.state.minted, ref.state.minted);
            for (const [k, a] of ref.state.accounts) {
              assert.equal(getAccount(applied.state, k).balance, a.balance);
              assert.equal(getAccount(applied.state, k).nonce, a.nonce);
            }
            assert.deepEqual(encodeState(pre), before, 'the input state was changed');
            // The encoding spliced from the previous block's (state-codec.ts) equals a full one.
            const plain = { ...applied.state, accounts: new Map(applied.state.accounts) };
            assert.deepEqual(encodeState(applied.state), encodeState(plain));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
