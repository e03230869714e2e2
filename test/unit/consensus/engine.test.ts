// Unit tests of the pure consensus engine: proposer rotation, the happy path, every refusal, evidence,
// distinct-validator quorums, locking, round skip, growing timeouts, next-height buffering, and the
// double-sign guard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConsensusApp,
  ConsensusEngine,
  type EngineInput,
  type EngineOutput,
  MAX_PENDING_VOTES,
} from '../../../src/consensus/engine.ts';
import { proposerFor, quorum, sortValidators, weakQuorum } from '../../../src/consensus/quorum.ts';
import { DoubleSignError, guardSigner, type LastSignState } from '../../../src/consensus/sign-guard.ts';
import { verifyCommit, verifyEvidence } from '../../../src/consensus/verify.ts';
import type { Identity } from '../../../src/crypto/identity.ts';
import {
  type Block,
  blockHash,
  type Proposal,
  type Vote,
  voteSigningBytes,
} from '../../../src/wire/block.ts';
import { bytesEqual } from '../../../src/wire/bytes.ts';
import type { ConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { CHAIN, det, keyFor, makeBlock, signProposal, signVote } from '../wire/block-fixtures.ts';

const ids: Identity[] = ['v0', 'v1', 'v2', 'v3'].map(keyFor);
const sorted = sortValidators(ids.map((i) => i.publicKey));
const byKey = (k: Uint8Array): Identity => ids.find((i) => bytesEqual(i.publicKey, k)) as Identity;
const timeouts = { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 250 };

function app(opts: { invalid?: (b: Block) => boolean; tag?: string } = {}): ConsensusApp {
  return {
    validators: () => ids.map((i) => i.publicKey),
    proposeBlock: (height, round) =>
      makeBlock({
        height,
        proposer: proposerFor(sorted, height, round),
        txs: [det(`${opts.tag ?? ''}${height}/${round}`, 20)],
      }),
    validateBlock: (b) => (opts.invalid?.(b) ? { ok: false, reason: 'test says no' } : { ok: true }),
  };
}

function engine(id: Identity | null, a: ConsensusApp = app()): ConsensusEngine {
  return new ConsensusEngine({ chainId: CHAIN, signer: id, timeouts }, a);
}

const broadcasts = (out: EngineOutput[]): ConsensusMessage[] =>
  out.flatMap((o) => (o.kind === 'broadcast' ? [o.message] : []));
const rejects = (out: EngineOutput[]): string[] =>
  out.flatMap((o) => (o.kind === 'reject' ? [o.reason] : []));
const votesOf = (out: EngineOutput[]): Vote[] =>
  broadcasts(out).flatMap((m) => (m.kind === 'VOTE' ? [m.vote] : []));
const asInput = (m: ConsensusMessage): EngineInput =>
  m.kind === 'VOTE'
    ? { kind: 'vote', vote: m.vote }
    : { kind: 'proposal', proposal: (m as { proposal: Proposal }).proposal };

/** Four engines with instant, lossless delivery. */
function cluster(a: ConsensusApp = app()) {
  const engines = ids.map((id) => engine(id, a));
  const outputs: EngineOutput[][] = ids.map(() => []);
  const queue: { from: number; m: ConsensusMessage }[] = [];
  const feed = (i: number, out: EngineOutput[]) => {
    (outputs[i] as EngineOutput[]).push(...out);
    for (const m of broadcasts(out)) queue.push({ from: i, m });
  };
  const run = () => {
    for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
      const { from, m } = queue.shift() as { from: number; m: ConsensusMessage };
      engines.forEach((e, i) => {
        if (i !== from) feed(i, e.handle(asInput(m)));
      });
    }
  };
  return { engines, outputs, feed, run };
}

describe('quorum arithmetic and proposer rotation', () => {
  it('thresholds', () => {
    assert.deepEqual([1, 3, 4, 6, 7, 10].map(quorum), [1, 3, 3, 5, 5, 7]);
    assert.deepEqual([1, 3, 4, 6, 7, 10].map(weakQuorum), [1, 2, 2, 3, 3, 4]);
  });

  it('rotates over the sorted set by height + round, whatever the input order', () => {
    const shuffled = [sorted[2], sorted[0], sorted[3], sorted[1]] as Uint8Array[];
    assert.deepStrictEqual(sortValidators(shuffled), sorted);
    assert.deepStrictEqual(proposerFor(sorted, 1, 0), sorted[1]);
    assert.deepStrictEqual(proposerFor(sorted, 1, 1), sorted[2]);
    assert.deepStrictEqual(proposerFor(sorted, 2, 3), sorted[1]);
    assert.deepStrictEqual(proposerFor(sorted, Number.MAX_SAFE_INTEGER, 0xfffffffe), sorted[(3 + 2) % 4]);
  });
});

describe('consensus engine', () => {
  it('four honest engines commit the proposer block at height 1, round 0', () => {
    const c = cluster();
    c.engines.forEach((e, i) => {
      c.feed(i, e.handle({ kind: 'start', height: 1, lastCommit: null }));
    });
    c.run();
    const commits = c.outputs.map((o) => o.find((x) => x.kind === 'commit'));
    const expected = c.engines[ids.indexOf(byKey(proposerFor(sorted, 1, 0)))];
    assert.ok(expected);
    for (const cm of commits) {
      assert.ok(cm !== undefined && cm.kind === 'commit');
      assert.equal(cm.commit.round, 0);
      assert.deepStrictEqual(cm.commit.blockHash, blockHash(cm.block));
      assert.deepStrictEqual(cm.block.header.proposer, proposerFor(sorted, 1, 0));
      assert.ok(cm.commit.signatures.length >= 3);
      assert.equal(verifyCommit(cm.commit, CHAIN, sorted, blockHash(cm.block)), null);
    }
    for (const e of c.engines) assert.equal(e.decided, true);
    // Inputs for a decided height are refused, not thrown on.
    const late = signVote(ids[0] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 1,
      round: 0,
      blockHash: null,
    });
    assert.deepEqual(rejects((c.engines[1] as ConsensusEngine).handle({ kind: 'vote', vote: late })), [
      'height already decided',
    ]);
  });

  it('a single validator decides alone, at once', () => {
    const solo = ids[0] as Identity;
    const e = new ConsensusEngine(
      { chainId: CHAIN, signer: solo, timeouts },
      {
        validators: () => [solo.publicKey],
        proposeBlock: (height) => makeBlock({ height, proposer: solo.publicKey }),
        validateBlock: () => ({ ok: true }),
      },
    );
    const out = e.handle({ kind: 'start', height: 1, lastCommit: null });
    const commit = out.find((o) => o.kind === 'commit');
    assert.ok(commit?.kind === 'commit');
    assert.equal(verifyCommit(commit.commit, CHAIN, [solo.publicKey], blockHash(commit.block)), null);
  });

  it('the proposer broadcasts its proposal; others schedule the propose timeout', () => {
    const p = ids.indexOf(byKey(proposerFor(sorted, 1, 0)));
    const outP = engine(ids[p] as Identity).handle({ kind: 'start', height: 1, lastCommit: null });
    assert.equal(broadcasts(outP)[0]?.kind, 'PROPOSAL');
    const other = ids[(p + 1) % 4] as Identity;
    const out = engine(other).handle({ kind: 'start', height: 1, lastCommit: null });
    assert.deepEqual(out, [
      { kind: 'schedule-timeout', height: 1, round: 0, step: 'propose', delayMs: 1000 },
    ]);
  });

  it('timeouts grow with the round, and a propose timeout prevotes nil', () => {
    const e = engine(ids[0] as Identity);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const out = e.handle({ kind: 'timeout', height: 1, round: 0, step: 'propose' });
    assert.equal(votesOf(out)[0]?.blockHash, null);
    // Drive to round 2 with f+1 precommits from round 2 (round skip), then check the delays.
    const skip = ids.slice(1, 3).map((id) =>
      e.handle({
        kind: 'vote',
        vote: signVote(id, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 2, blockHash: null }),
      }),
    );
    assert.equal(e.round, 2);
    const sched = skip.flat().find((o) => o.kind === 'schedule-timeout');
    assert.deepEqual(sched, {
      kind: 'schedule-timeout',
      height: 1,
      round: 2,
      step: 'propose',
      delayMs: 1000 + 2 * 250,
    });
    // A timeout of another round or height does nothing.
    assert.deepEqual(e.handle({ kind: 'timeout', height: 1, round: 0, step: 'precommit' }), []);
    assert.deepEqual(e.handle({ kind: 'timeout', height: 2, round: 2, step: 'precommit' }), []);
  });

  it('refuses bad signatures, other chains, non-validators, far heights, wrong proposers', () => {
    const e = engine(ids[0] as Identity);
    e.handle({ kind: 'start', height: 5, lastCommit: null });
    const good = signVote(ids[1] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 5,
      round: 0,
      blockHash: null,
    });
    const badSig = { ...good, signature: new Uint8Array(64) };
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: badSig })), ['vote: bad signature']);
    const otherChain = signVote(ids[1] as Identity, {
      type: 'PREVOTE',
      chainId: 'other',
      height: 5,
      round: 0,
      blockHash: null,
    });
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: otherChain })), ['wrong chain id']);
    const stranger = signVote(keyFor('stranger'), {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 5,
      round: 0,
      blockHash: null,
    });
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: stranger })), [
      'vote: not from a validator of this height',
    ]);
    const far = signVote(ids[1] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 7,
      round: 0,
      blockHash: null,
    });
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: far })), ['height too far in the future']);
    const old = signVote(ids[1] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 4,
      round: 0,
      blockHash: null,
    });
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: old })), ['old height']);
    // A vote whose signature was made over other fields (round changed after signing).
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: { ...good, round: 1 } })), [
      'vote: bad signature',
    ]);
    const notProposer = ids.find((i) => !bytesEqual(i.publicKey, proposerFor(sorted, 5, 0))) as Identity;
    const block = makeBlock({ height: 5, proposer: notProposer.publicKey });
    const p = signProposal(notProposer, { chainId: CHAIN, height: 5, round: 0, polRound: -1, block });
    assert.deepEqual(rejects(e.handle({ kind: 'proposal', proposal: p })), [
      'proposal: not from the proposer of its round',
    ]);
    const proposer = byKey(proposerFor(sorted, 5, 0));
    const real = signProposal(proposer, { chainId: CHAIN, height: 5, round: 0, polRound: -1, block });
    assert.deepEqual(
      rejects(e.handle({ kind: 'proposal', proposal: { ...real, signature: new Uint8Array(64) } })),
      ['proposal: bad signature'],
    );
    // Garbage shapes never throw.
    const weird = { ...good, validator: new Uint8Array(3), round: -1 } as Vote;
    assert.equal(rejects(e.handle({ kind: 'vote', vote: weird })).length, 1);
    assert.equal(rejects(e.handle({ kind: 'start', height: 0, lastCommit: null })).length, 1);
  });

  it('counts distinct validators: one prevote delivered three times is not a quorum', () => {
    const e = engine(ids[0] as Identity);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    e.handle({ kind: 'timeout', height: 1, round: 0, step: 'propose' }); // our own prevote nil
    const v = signVote(ids[1] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 1,
      round: 0,
      blockHash: null,
    });
    for (let i = 0; i < 3; i++) assert.deepEqual(e.handle({ kind: 'vote', vote: v }), i === 0 ? [] : []);
    // A third distinct validator makes 2f+1 nil prevotes: precommit nil.
    const w = signVote(ids[2] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 1,
      round: 0,
      blockHash: null,
    });
    const out = e.handle({ kind: 'vote', vote: w });
    assert.equal(votesOf(out)[0]?.type, 'PRECOMMIT');
    assert.equal(votesOf(out)[0]?.blockHash, null);
  });

  it('equivocation gives one piece of evidence, in canonical order, verifiable', () => {
    const e = engine(ids[0] as Identity);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const liar = ids[2] as Identity;
    const a = signVote(liar, { type: 'PREVOTE', chainId: CHAIN, height: 1, round: 0, blockHash: det('A') });
    const b = signVote(liar, { type: 'PREVOTE', chainId: CHAIN, height: 1, round: 0, blockHash: null });
    const c = signVote(liar, { type: 'PREVOTE', chainId: CHAIN, height: 1, round: 0, blockHash: det('C') });
    e.handle({ kind: 'vote', vote: a });
    const out = e.handle({ kind: 'vote', vote: b });
    const ev = out.filter((o) => o.kind === 'evidence');
    assert.equal(ev.length, 1);
    const evidence = (ev[0] as { evidence: { voteA: Vote; voteB: Vote } }).evidence;
    assert.equal(evidence.voteA.blockHash, null, 'nil first');
    assert.equal(verifyEvidence(evidence, CHAIN, sorted), null);
    assert.equal(e.handle({ kind: 'vote', vote: c }).filter((o) => o.kind === 'evidence').length, 0);
    // Different rounds or types are not equivocation.
    const other = signVote(liar, {
      type: 'PRECOMMIT',
      chainId: CHAIN,
      height: 1,
      round: 0,
      blockHash: det('Z'),
    });
    assert.equal(e.handle({ kind: 'vote', vote: other }).filter((o) => o.kind === 'evidence').length, 0);
    assert.match(verifyEvidence({ voteA: a, voteB: other }, CHAIN, sorted) ?? '', /slot/);
    assert.match(verifyEvidence({ voteA: a, voteB: b }, CHAIN, sorted) ?? '', /order/);
  });

  it('an invalid block is prevoted nil', () => {
    const p = byKey(proposerFor(sorted, 1, 0));
    const me = ids.find((i) => i !== p) as Identity;
    const e = engine(me, app({ invalid: () => true }));
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const block = makeBlock({ height: 1, proposer: p.publicKey });
    const out = e.handle({
      kind: 'proposal',
      proposal: signProposal(p, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block }),
    });
    assert.equal(votesOf(out)[0]?.blockHash, null);
    assert.ok(rejects(out).some((r) => r.includes('test says no')));
    // A block whose dataHash does not match its transactions is invalid before the app is asked.
    const e2 = engine(me);
    e2.handle({ kind: 'start', height: 1, lastCommit: null });
    const forged = { ...block, txs: [det('smuggled', 30)] };
    const out2 = e2.handle({
      kind: 'proposal',
      proposal: signProposal(p, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block: forged }),
    });
    assert.equal(votesOf(out2)[0]?.blockHash, null);
    assert.ok(rejects(out2).some((r) => r.includes('dataHash')));
  });

  it('locks on a block with 2f+1 prevotes and then refuses a different block in a later round', () => {
    const p0 = byKey(proposerFor(sorted, 1, 0));
    const me = ids.find((i) => i !== p0 && !bytesEqual(i.publicKey, proposerFor(sorted, 1, 1))) as Identity;
    const others = ids.filter((i) => i !== me);
    const e = engine(me);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const B = makeBlock({ height: 1, proposer: p0.publicKey, txs: [det('B', 9)] });
    const hB = blockHash(B);
    e.handle({
      kind: 'proposal',
      proposal: signProposal(p0, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block: B }),
    });
    let out: EngineOutput[] = [];
    for (const o of others.slice(0, 2)) {
      out = e.handle({
        kind: 'vote',
        vote: signVote(o, { type: 'PREVOTE', chainId: CHAIN, height: 1, round: 0, blockHash: hB }),
      });
    }
    const pc = votesOf(out).find((v) => v.type === 'PRECOMMIT');
    assert.ok(pc?.blockHash && bytesEqual(pc.blockHash, hB), 'locked and precommitted B');
    // Round 1 through f+1 round-1 messages, then a fresh proposal of another block: prevote nil.
    for (const o of others.slice(0, 2)) {
      e.handle({
        kind: 'vote',
        vote: signVote(o, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 1, blockHash: null }),
      });
    }
    assert.equal(e.round, 1);
    const p1 = byKey(proposerFor(sorted, 1, 1));
    const C = makeBlock({ height: 1, proposer: p1.publicKey, txs: [det('C', 9)] });
    const outC = e.handle({
      kind: 'proposal',
      proposal: signProposal(p1, { chainId: CHAIN, height: 1, round: 1, polRound: -1, block: C }),
    });
    assert.equal(votesOf(outC)[0]?.blockHash, null, 'locked on B: no prevote for C');
  });

  it('a lock restored at start (a restart) refuses another block, as the lost lock would have', () => {
    const p1 = byKey(proposerFor(sorted, 1, 1));
    const me = ids.find((i) => i !== p1) as Identity;
    const others = ids.filter((i) => i !== me);
    const B = makeBlock({ height: 1, proposer: me.publicKey, txs: [det('B', 9)] });
    const C = makeBlock({ height: 1, proposer: p1.publicKey, txs: [det('C', 9)] });
    /** A fresh engine at height 1 moved to round 1 by f+1 nil precommits of round 1. */
    const atRound1 = (lock?: { round: number; blockHash: Uint8Array }): ConsensusEngine => {
      const e = engine(me);
      e.handle({ kind: 'start', height: 1, lastCommit: null, lock });
      for (const o of others.slice(0, 2)) {
        e.handle({
          kind: 'vote',
          vote: signVote(o, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 1, blockHash: null }),
        });
      }
      assert.equal(e.round, 1);
      return e;
    };
    const proposal = (block: Block): EngineInput => ({
      kind: 'proposal',
      proposal: signProposal(p1, { chainId: CHAIN, height: 1, round: 1, polRound: -1, block }),
    });
    const lock = { round: 0, blockHash: blockHash(B) };
    assert.equal(votesOf(atRound1(lock).handle(proposal(C)))[0]?.blockHash, null, 'locked on B: nil for C');
    const forB = votesOf(atRound1(lock).handle(proposal(B)))[0]?.blockHash;
    assert.ok(forB && bytesEqual(forB, blockHash(B)), 'the locked block itself is prevoted');
    const amnesiac = votesOf(atRound1().handle(proposal(C)))[0]?.blockHash;
    assert.ok(amnesiac && bytesEqual(amnesiac, blockHash(C)), 'without the lock, C would be prevoted');
    // A malformed lock is ignored rather than trusted.
    const bad = votesOf(atRound1({ round: -1, blockHash: blockHash(B) }).handle(proposal(C)))[0]?.blockHash;
    assert.ok(bad && bytesEqual(bad, blockHash(C)));
  });

  it('re-proposes its valid block with its POL round, and others accept it through the POL', () => {
    // me is the proposer of round 1; it sees B get 2f+1 prevotes in round 0.
    const p0 = byKey(proposerFor(sorted, 1, 0));
    const me = byKey(proposerFor(sorted, 1, 1));
    const others = ids.filter((i) => i !== me);
    const e = engine(me);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const B = makeBlock({ height: 1, proposer: p0.publicKey, txs: [det('B', 9)] });
    const hB = blockHash(B);
    e.handle({
      kind: 'proposal',
      proposal: signProposal(p0, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block: B }),
    });
    const pre = others.map((o) =>
      signVote(o, { type: 'PREVOTE', chainId: CHAIN, height: 1, round: 0, blockHash: hB }),
    );
    for (const v of pre) e.handle({ kind: 'vote', vote: v });
    // Everyone else precommitted nil: timeout to round 1.
    for (const o of others) {
      e.handle({
        kind: 'vote',
        vote: signVote(o, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 0, blockHash: null }),
      });
    }
    const out = e.handle({ kind: 'timeout', height: 1, round: 0, step: 'precommit' });
    const prop = broadcasts(out).find((m) => m.kind === 'PROPOSAL');
    assert.ok(prop?.kind === 'PROPOSAL');
    assert.equal(prop.proposal.polRound, 0);
    assert.deepStrictEqual(blockHash(prop.proposal.block), hB);
    // A node that missed round 0 prevotes B once it holds the POL.
    const fresh = engine(others.find((o) => o !== p0) as Identity);
    fresh.handle({ kind: 'start', height: 1, lastCommit: null });
    for (const v of pre) fresh.handle({ kind: 'vote', vote: v });
    for (const o of others.slice(0, 2)) {
      fresh.handle({
        kind: 'vote',
        vote: signVote(o, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 1, blockHash: null }),
      });
    }
    const outF = fresh.handle({ kind: 'proposal', proposal: prop.proposal });
    const pv = votesOf(outF).find((v) => v.type === 'PREVOTE' && v.round === 1);
    assert.ok(pv?.blockHash && bytesEqual(pv.blockHash, hB));
  });

  it('keeps next-height messages until started, and drops nothing it should use', () => {
    const e = engine(null);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const p = byKey(proposerFor(sorted, 2, 0));
    const B = makeBlock({ height: 2, proposer: p.publicKey });
    const hB = blockHash(B);
    assert.deepEqual(
      e.handle({
        kind: 'proposal',
        proposal: signProposal(p, { chainId: CHAIN, height: 2, round: 0, polRound: -1, block: B }),
      }),
      [],
    );
    for (const o of ids.slice(0, 3)) {
      e.handle({
        kind: 'vote',
        vote: signVote(o, { type: 'PRECOMMIT', chainId: CHAIN, height: 2, round: 0, blockHash: hB }),
      });
    }
    const out = e.handle({ kind: 'start', height: 2, lastCommit: null });
    const commit = out.find((o) => o.kind === 'commit');
    assert.ok(commit?.kind === 'commit', 'a follower commits from kept messages');
    assert.deepStrictEqual(commit.commit.blockHash, hB);
    assert.equal(broadcasts(out).length, 0, 'a follower never votes');
  });

  it('memory stays bounded: future-round spam, next-height spam', () => {
    const e = engine(ids[0] as Identity);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const spammer = ids[1] as Identity;
    for (let r = 10; r < 200; r++) {
      const vote = signVote(spammer, {
        type: 'PREVOTE',
        chainId: CHAIN,
        height: 1,
        round: r,
        blockHash: null,
      });
      e.handle({ kind: 'vote', vote });
    }
    assert.equal(e.round, 0, 'one validator alone never moves us to a higher round');
    assert.ok(e.stats.votes <= 4, `future votes kept: ${e.stats.votes}`);
    // Its highest rounds are the ones kept: one more validator in round 199 makes f+1 there.
    const other = signVote(ids[2] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 1,
      round: 199,
      blockHash: null,
    });
    e.handle({ kind: 'vote', vote: other });
    assert.equal(e.round, 199);
    // Next-height messages are kept only up to their limit.
    let refused = 0;
    for (let r = 0; r < 2100 && e.stats.pending < MAX_PENDING_VOTES; r++) {
      for (const id of ids.slice(1)) {
        const v = signVote(id, {
          type: r % 2 ? 'PREVOTE' : 'PRECOMMIT',
          chainId: CHAIN,
          height: 2,
          round: r,
          blockHash: null,
        });
        refused += rejects(e.handle({ kind: 'vote', vote: v })).length;
        if (e.stats.pending >= MAX_PENDING_VOTES) break;
      }
    }
    assert.equal(e.stats.pending, MAX_PENDING_VOTES);
    const extra = signVote(ids[3] as Identity, {
      type: 'PREVOTE',
      chainId: CHAIN,
      height: 2,
      round: 9999,
      blockHash: null,
    });
    assert.deepEqual(rejects(e.handle({ kind: 'vote', vote: extra })), [
      'too many votes for the next height',
    ]);
    assert.equal(refused, 0);
  });

  it('gossip() repeats the current round proposal and votes', () => {
    const p = byKey(proposerFor(sorted, 1, 0));
    const e = engine(p);
    e.handle({ kind: 'start', height: 1, lastCommit: null });
    const g = e.gossip();
    assert.equal(g[0]?.kind, 'PROPOSAL');
    assert.ok(g.some((m) => m.kind === 'VOTE' && bytesEqual(m.vote.validator, p.publicKey)));
  });
});

describe('double-sign guard', () => {
  const id = ids[0] as Identity;
  const msg = (type: 'PREVOTE' | 'PRECOMMIT', height: number, round: number, hash: Uint8Array | null) =>
    voteSigningBytes({ type, chainId: CHAIN, height, round, blockHash: hash, validator: id.publicKey });

  it('refuses lower slots and different messages for the same slot; repeats the same one', () => {
    let saved: LastSignState | null = null;
    const g = guardSigner(id, null, (s) => {
      saved = s;
    });
    const s1 = g.sign(msg('PREVOTE', 3, 1, det('x')));
    assert.ok(saved !== null);
    assert.deepStrictEqual(g.sign(msg('PREVOTE', 3, 1, det('x'))), s1);
    assert.throws(() => g.sign(msg('PREVOTE', 3, 1, null)), DoubleSignError);
    assert.throws(() => g.sign(msg('PRECOMMIT', 3, 0, null)), DoubleSignError);
    assert.throws(() => g.sign(msg('PREVOTE', 2, 9, null)), DoubleSignError);
    g.sign(msg('PRECOMMIT', 3, 1, null));
    g.sign(msg('PREVOTE', 4, 0, null));
    assert.throws(() => g.sign(new Uint8Array([1, 2, 3])), DoubleSignError);
    // A restarted engine with the persisted state stays silent instead of equivocating.
    const again = guardSigner(id, saved, () => {});
    const e = new ConsensusEngine({ chainId: CHAIN, signer: again, timeouts }, app());
    e.handle({ kind: 'start', height: 4, lastCommit: null });
    const out = e.handle({ kind: 'timeout', height: 4, round: 0, step: 'propose' });
    assert.equal(votesOf(out).length, 1, 'prevote nil for (4, 0) is the same message: repeated');
    const e2 = new ConsensusEngine(
      { chainId: CHAIN, signer: guardSigner(id, saved, () => {}), timeouts },
      app(),
    );
    e2.handle({ kind: 'start', height: 3, lastCommit: null });
    const out2 = e2.handle({ kind: 'timeout', height: 3, round: 0, step: 'propose' });
    assert.equal(votesOf(out2).length, 0);
    assert.ok(rejects(out2).some((r) => r.startsWith('signer refused')));
  });
});
