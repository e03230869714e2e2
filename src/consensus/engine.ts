// A pure Tendermint-style BFT engine (arXiv 1807.04938, Algorithm 1) for one validator or follower.
//
// Pure: no timers, no I/O, no randomness, no clock. The driver feeds inputs (start a height, a
// proposal, a vote, a timeout that fired) and carries out the outputs (broadcast, schedule a timeout,
// apply a committed block, report evidence). Every signature is verified here; nothing an input holds
// makes handle() throw: bad messages come back as 'reject' outputs.
//
// Rules, by the paper's line numbers: 22/28 prevote on a proposal (locking), 34 prevote timeout,
// 36 lock and precommit on 2f+1 prevotes, 44 precommit nil, 47 precommit timeout, 49 decide on 2f+1
// precommits in any round, 55 round skip on f+1 messages from a higher round, 57/61/65 timeouts.
// "2f+1" is more than 2/3 of the height's validators and "f+1" more than 1/3 (quorum.ts), counting
// distinct validators. After a 'commit' output the engine waits for the driver's next 'start'.
import type { Block, Commit, Evidence, Proposal, Vote, VoteType } from '../wire/block.ts';
import {
  blockHash,
  checkBlockHashes,
  compareBytes,
  KEY_BYTES,
  MAX_ROUND,
  MAX_VALIDATORS,
  proposalSigningBytes,
  voteSigningBytes,
} from '../wire/block.ts';
import { HASH_BYTES } from '../wire/block-codec.ts';
import { bytesEqual } from '../wire/bytes.ts';
import type { ConsensusMessage } from '../wire/consensus-msg.ts';
import { proposerFor, quorum, sortValidators, weakQuorum } from './quorum.ts';
import { VerifiedSignatures } from './sig-cache.ts';
import { evidenceOrder, verifyProposalSignature, verifyVoteSignature } from './verify.ts';
import { type HashKey, hashKey, keyHex, NIL_KEY, VoteSet } from './vote-set.ts';

export interface ConsensusApp {
  /** The validator set (32-byte Ed25519 keys) for a height; the same on every honest node. */
  validators(height: number): readonly Uint8Array[];
  /** Build a block for (height, round) from the mempool; the engine fills nothing in. */
  proposeBlock(height: number, round: number): Block;
  /** Full validity check of a proposed block (header links, appHash, txs valid against state). */
  validateBlock(block: Block): { ok: true } | { ok: false; reason: string };
}

export interface ConsensusSigner {
  readonly publicKey: Uint8Array;
  /** Ed25519 over `msg`. May throw to refuse (a double-sign guard): the engine then stays silent. */
  sign(msg: Uint8Array): Uint8Array;
}

export interface ConsensusTimeouts {
  readonly proposeMs: number;
  readonly prevoteMs: number;
  readonly precommitMs: number;
  /** Added to each timeout per round, so a stuck height waits longer each round until GST. */
  readonly deltaMs: number;
}

export interface EngineOptions {
  readonly chainId: string;
  /** null: a follower, which tracks and commits but never proposes or votes. */
  readonly signer: ConsensusSigner | null;
  readonly timeouts: ConsensusTimeouts;
  /** Memo of verified signatures, shareable with the sync path (a fresh one when absent). */
  readonly sigCache?: VerifiedSignatures;
}

export const defaultTimeouts: ConsensusTimeouts = {
  proposeMs: 3000,
  prevoteMs: 1000,
  precommitMs: 1000,
  deltaMs: 500,
};

export type TimeoutStep = 'propose' | 'prevote' | 'precommit';

/** A lock this validator held at the height before it restarted: its highest non-nil precommit. */
export interface RestoredLock {
  readonly round: number;
  readonly blockHash: Uint8Array;
}

export type EngineInput =
  | {
      readonly kind: 'start';
      readonly height: number;
      readonly lastCommit: Commit | null;
      /** From the driver's log of its own messages (own-messages.ts) after a restart. */
      readonly lock?: RestoredLock | undefined;
    }
  | { readonly kind: 'proposal'; readonly proposal: Proposal }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | {
      readonly kind: 'timeout';
      readonly height: number;
      readonly round: number;
      readonly step: TimeoutStep;
    };

export type EngineOutput =
  | { readonly kind: 'broadcast'; readonly message: ConsensusMessage }
  | {
      readonly kind: 'schedule-timeout';
      readonly height: number;
      readonly round: number;
      readonly step: TimeoutStep;
      readonly delayMs: number;
    }
  | { readonly kind: 'commit'; readonly block: Block; readonly commit: Commit }
  | { readonly kind: 'evidence'; readonly evidence: Evidence }
  | { readonly kind: 'reject'; readonly reason: string };

/** Future rounds (above ours) in which one validator's votes are kept; its lowest is dropped first. */
export const FUTURE_ROUNDS_PER_VALIDATOR = 4;
/** Future rounds in which one proposer's proposals are kept. */
export const FUTURE_PROPOSALS_PER_PROPOSER = 2;
/** Messages for the next height, kept (unverified) until the driver starts it. */
export const MAX_PENDING_VOTES = 4096;
export const MAX_PENDING_PROPOSALS = 16;
/** Rule applications per input: a guard against a bug looping, far above what one input can cause. */
const MAX_STEPS_PER_INPUT = 10_000;

type Step = 'propose' | 'prevote' | 'precommit';

interface ProposalEntry {
  readonly proposal: Proposal;
  readonly hash: Uint8Array;
  readonly key: HashKey;
}

interface Candidate {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly key: HashKey;
}

interface RoundVotes {
  readonly prevotes: VoteSet;
  readonly precommits: VoteSet;
}

type Pending =
  | { readonly kind: 'proposal'; readonly proposal: Proposal }
  | { readonly kind: 'vote'; readonly vote: Vote };

/** Everything the engine knows about the height it is deciding; dropped whole at the next start. */
class HeightState {
  readonly height: number;
  readonly validators: readonly Uint8Array[];
  readonly members: ReadonlySet<string>;
  readonly q: number;
  readonly weak: number;
  /** Our key if we are a validator at this height. */
  readonly me: Uint8Array | null;
  round = 0;
  step: Step = 'propose';
  decided = false;
  /** Only the key: a lock restored after a restart may name a block this engine never saw. */
  lockedKey: HashKey | null = null;
  lockedRound = -1;
  valid: Candidate | null = null;
  validRound = -1;
  readonly proposals = new Map<number, ProposalEntry>();
  readonly validity = new Map<HashKey, boolean>();
  readonly rounds = new Map<number, RoundVotes>();
  /** "For the first time" rules already fired, as `rule:round`. */
  readonly fired = new Set<string>();
  readonly evidenceSent = new Set<string>();

  constructor(height: number, validators: Uint8Array[], me: Uint8Array | null) {
    this.height = height;
    this.validators = validators;
    this.members = new Set(validators.map(keyHex));
    this.q = quorum(validators.length);
    this.weak = weakQuorum(validators.length);
    this.me = me !== null && this.members.has(keyHex(me)) ? me : null;
  }

  votes(round: number): RoundVotes {
    let rv = this.rounds.get(round);
    if (rv === undefined) {
      rv = { prevotes: new VoteSet(), precommits: new VoteSet() };
      this.rounds.set(round, rv);
    }
    return rv;
  }

  candidate(key: HashKey): Candidate | undefined {
    for (const e of this.proposals.values())
      if (e.key === key) return { block: e.proposal.block, hash: e.hash, key };
    return undefined;
  }
}

export class ConsensusEngine {
  readonly #opts: EngineOptions;
  readonly #app: ConsensusApp;
  readonly #sigs: VerifiedSignatures;
  #h: HeightState | null = null;
  #pending: Pending[] = [];
  #pendingProposals = 0;

  constructor(opts: EngineOptions, app: ConsensusApp) {
    this.#opts = opts;
    this.#app = app;
    this.#sigs = opts.sigCache ?? new VerifiedSignatures();
  }

  /** The height being decided (0 before the first start). */
  get height(): number {
    return this.#h?.height ?? 0;
  }

  get round(): number {
    return this.#h?.round ?? 0;
  }

  /** Sizes of what the engine holds, for metrics and for tests of its bounds. */
  get stats(): { rounds: number; votes: number; proposals: number; pending: number } {
    const h = this.#h;
    let votes = 0;
    for (const rv of h?.rounds.values() ?? []) votes += rv.prevotes.all().length + rv.precommits.all().length;
    return {
      rounds: h?.rounds.size ?? 0,
      votes,
      proposals: h?.proposals.size ?? 0,
      pending: this.#pending.length,
    };
  }

  /** True once this height has a commit (until the next start). */
  get decided(): boolean {
    return this.#h?.decided ?? false;
  }

  /**
   * What to gossip again now: the current round's proposal and votes, the precommits that took us
   * out of the last round, and the prevotes that justify our valid block (its POL). The paper assumes
   * every message a correct process received reaches all correct processes after GST; the driver
   * makes that true by sending these to its peers periodically (every proposeMs or so), since
   * messages sent before GST may have been lost. Bounded: about 5n messages.
   */
  gossip(): ConsensusMessage[] {
    const h = this.#h;
    if (h === null || h.decided) return [];
    const out: ConsensusMessage[] = [];
    const e = h.proposals.get(h.round);
    if (e !== undefined) out.push({ kind: 'PROPOSAL', proposal: e.proposal });
    const rv = h.rounds.get(h.round);
    const seen = new Set<Vote>();
    const push = (v: Vote): void => {
      if (seen.has(v)) return;
      seen.add(v);
      out.push({ kind: 'VOTE', vote: v });
    };
    if (rv !== undefined) {
      for (const v of rv.prevotes.all()) push(v);
      for (const v of rv.precommits.all()) push(v);
    }
    // The precommits that let us time out of the last round: a node still in that round needs them.
    let justified = -1;
    for (const [r, v] of h.rounds)
      if (r < h.round && r > justified && v.precommits.size >= h.q) justified = r;
    for (const v of h.rounds.get(justified)?.precommits.all() ?? []) push(v);
    if (h.valid !== null && h.validRound !== h.round) {
      const pol = h.rounds.get(h.validRound);
      for (const v of pol?.prevotes.votesFor(h.valid.key) ?? []) push(v);
      const vp = h.proposals.get(h.validRound);
      if (vp !== undefined) out.push({ kind: 'PROPOSAL', proposal: vp.proposal });
    }
    return out;
  }

  handle(input: EngineInput): EngineOutput[] {
    const out: EngineOutput[] = [];
    try {
      switch (input.kind) {
        case 'start':
          this.#start(input.height, input.lock, out);
          break;
        case 'proposal':
          this.#onProposal(input.proposal, out);
          break;
        case 'vote':
          this.#onVote(input.vote, out);
          break;
        case 'timeout':
          this.#onTimeout(input.height, input.round, input.step, out);
          break;
        default:
          out.push(reject('unknown input'));
      }
    } catch (err) {
      // Only the app or signer can throw past the checks above; never let it escape to the driver.
      out.push(reject(`internal: ${err instanceof Error ? err.message : String(err)}`));
    }
    return out;
  }

  // ------------------------------------------------------------------------------------ inputs

  #start(height: number, lock: RestoredLock | undefined, out: EngineOutput[]): void {
    if (!Number.isSafeInteger(height) || height < 1) {
      out.push(reject('start: bad height'));
      return;
    }
    const validators = sortValidators(this.#app.validators(height));
    if (validators.length === 0 || validators.length > MAX_VALIDATORS) {
      out.push(reject(`start: validator set of ${validators.length}`));
      return;
    }
    if (validators.some((v) => !(v instanceof Uint8Array) || v.length !== KEY_BYTES)) {
      out.push(reject('start: validator key of the wrong length'));
      return;
    }
    this.#h = new HeightState(height, validators, this.#opts.signer?.publicKey ?? null);
    // Lines 22 and 28 keep a validator that precommitted a block from prevoting another one without a
    // newer POL; a restart must not forget that, or crashes alone could make honest validators fork.
    if (lock !== undefined && isRound(lock.round) && lock.blockHash.length === HASH_BYTES) {
      this.#h.lockedKey = hashKey(lock.blockHash);
      this.#h.lockedRound = lock.round;
    }
    this.#startRound(0, out);
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingProposals = 0;
    for (const m of pending) {
      if (m.kind === 'proposal') this.#onProposal(m.proposal, out);
      else this.#onVote(m.vote, out);
    }
    this.#progress(out);
  }

  /** Where a message for (chainId, height) goes: handled now, kept for the next height, or refused. */
  #admit(chainId: string, height: number, out: EngineOutput[]): 'now' | 'later' | 'no' {
    if (chainId !== this.#opts.chainId) {
      out.push(reject('wrong chain id'));
      return 'no';
    }
    if (!Number.isSafeInteger(height) || height < 1) {
      out.push(reject('bad height'));
      return 'no';
    }
    const h = this.#h;
    if (h === null || height === h.height + 1) return 'later';
    if (height < h.height) {
      out.push(reject('old height'));
      return 'no';
    }
    if (height > h.height + 1) {
      out.push(reject('height too far in the future'));
      return 'no';
    }
    if (h.decided) {
      out.push(reject('height already decided'));
      return 'no';
    }
    return 'now';
  }

  #keep(m: Pending, out: EngineOutput[]): void {
    if (m.kind === 'proposal') {
      if (this.#pendingProposals >= MAX_PENDING_PROPOSALS) {
        out.push(reject('too many proposals for the next height'));
        return;
      }
      this.#pendingProposals++;
    } else if (this.#pending.length - this.#pendingProposals >= MAX_PENDING_VOTES) {
      out.push(reject('too many votes for the next height'));
      return;
    }
    this.#pending.push(m);
  }

  #onProposal(p: Proposal, out: EngineOutput[]): void {
    const where = this.#admit(p.chainId, p.height, out);
    if (where === 'later') this.#keep({ kind: 'proposal', proposal: p }, out);
    if (where !== 'now') return;
    const h = this.#h as HeightState;
    if (
      !isRound(p.round) ||
      !(p.polRound === -1 || (Number.isInteger(p.polRound) && p.polRound >= 0 && p.polRound < p.round))
    ) {
      out.push(reject('proposal: bad round'));
      return;
    }
    const existing = h.proposals.get(p.round);
    if (existing !== undefined && bytesEqual(existing.proposal.signature, p.signature)) return; // a copy
    if (
      !(p.proposer instanceof Uint8Array) ||
      !bytesEqual(p.proposer, proposerFor(h.validators, h.height, p.round))
    ) {
      out.push(reject('proposal: not from the proposer of its round'));
      return;
    }
    if (!verifyProposalSignature(p, this.#sigs)) {
      out.push(reject('proposal: bad signature'));
      return;
    }
    if (existing !== undefined) {
      out.push(reject('proposal: a second, different proposal for the round'));
      return;
    }
    if (p.round > h.round && !this.#makeRoomForFutureProposal(h, p, out)) return;
    const hash = blockHash(p.block);
    h.proposals.set(p.round, { proposal: p, hash, key: hashKey(hash) });
    this.#progress(out);
  }

  #onVote(v: Vote, out: EngineOutput[]): void {
    const where = this.#admit(v.chainId, v.height, out);
    if (where === 'later') this.#keep({ kind: 'vote', vote: v }, out);
    if (where !== 'now') return;
    const h = this.#h as HeightState;
    if ((v.type !== 'PREVOTE' && v.type !== 'PRECOMMIT') || !isRound(v.round)) {
      out.push(reject('vote: bad type or round'));
      return;
    }
    if (!(v.validator instanceof Uint8Array) || !h.members.has(keyHex(v.validator))) {
      out.push(reject('vote: not from a validator of this height'));
      return;
    }
    const existingSet = h.rounds.get(v.round);
    const set = existingSet === undefined ? undefined : voteSetOf(existingSet, v.type);
    const c = set?.classify(v) ?? { kind: 'added' as const };
    if (c.kind === 'duplicate') return; // the vote that counts is already verified
    if (!verifyVoteSignature(v, this.#sigs)) {
      out.push(reject('vote: bad signature'));
      return;
    }
    if (c.kind === 'conflict') {
      const slot = `${v.type}:${v.round}:${keyHex(v.validator)}`;
      if (!h.evidenceSent.has(slot)) {
        h.evidenceSent.add(slot);
        const [voteA, voteB] = evidenceOrder(c.existing, v);
        out.push({ kind: 'evidence', evidence: { voteA, voteB } });
      }
      // Counted for its value too (as in the paper), when that is nil or a block we hold: bounded.
      const k = hashKey(v.blockHash);
      if (set !== undefined && (k === NIL_KEY || h.candidate(k) !== undefined)) {
        set.addConflicting(v);
        this.#progress(out);
      }
      return;
    }
    if (v.round > h.round && !this.#makeRoomForFutureVote(h, v, out)) return;
    voteSetOf(h.votes(v.round), v.type).add(v);
    this.#progress(out);
  }

  #onTimeout(height: number, round: number, step: TimeoutStep, out: EngineOutput[]): void {
    const h = this.#h;
    if (h === null || h.decided || height !== h.height || round !== h.round) return;
    if (step === 'propose' && h.step === 'propose') {
      this.#vote(h, 'PREVOTE', null, out); // line 57
      h.step = 'prevote';
    } else if (step === 'prevote' && h.step === 'prevote') {
      this.#vote(h, 'PRECOMMIT', null, out); // line 61
      h.step = 'precommit';
    } else if (step === 'precommit') {
      if (h.round >= MAX_ROUND) return;
      this.#startRound(h.round + 1, out); // line 65
    } else {
      return;
    }
    this.#progress(out);
  }

  // ------------------------------------------------------------------------------ bounded memory

  /** Keeps at most FUTURE_ROUNDS_PER_VALIDATOR future rounds per validator, dropping its lowest. */
  #makeRoomForFutureVote(h: HeightState, v: Vote, out: EngineOutput[]): boolean {
    const who = keyHex(v.validator);
    const rounds: number[] = [];
    for (const [r, rv] of h.rounds) {
      if (r > h.round && r !== v.round && (rv.prevotes.has(who) || rv.precommits.has(who))) rounds.push(r);
    }
    if (rounds.length < FUTURE_ROUNDS_PER_VALIDATOR) return true;
    const lowest = Math.min(...rounds);
    if (v.round < lowest) {
      out.push(reject('vote: too many future rounds from this validator'));
      return false;
    }
    const rv = h.rounds.get(lowest) as RoundVotes;
    rv.prevotes.remove(who);
    rv.precommits.remove(who);
    if (rv.prevotes.size === 0 && rv.precommits.size === 0) h.rounds.delete(lowest);
    return true;
  }

  #makeRoomForFutureProposal(h: HeightState, p: Proposal, out: EngineOutput[]): boolean {
    const rounds: number[] = [];
    for (const [r, e] of h.proposals)
      if (r > h.round && bytesEqual(e.proposal.proposer, p.proposer)) rounds.push(r);
    if (rounds.length < FUTURE_PROPOSALS_PER_PROPOSER) return true;
    const lowest = Math.min(...rounds);
    if (p.round < lowest) {
      out.push(reject('proposal: too many future rounds from this proposer'));
      return false;
    }
    h.proposals.delete(lowest);
    return true;
  }

  // ------------------------------------------------------------------------------------- rules

  #startRound(round: number, out: EngineOutput[]): void {
    const h = this.#h as HeightState;
    h.round = round;
    h.step = 'propose';
    if (h.me !== null && bytesEqual(proposerFor(h.validators, h.height, round), h.me)) this.#propose(h, out);
    // Scheduled by the proposer too: if its own proposal fails it still prevotes nil in time.
    this.#schedule(h, 'propose', out);
  }

  #propose(h: HeightState, out: EngineOutput[]): void {
    const me = h.me as Uint8Array;
    let block: Block;
    let polRound = -1;
    if (h.valid !== null) {
      block = h.valid.block;
      polRound = h.validRound;
    } else {
      try {
        block = this.#app.proposeBlock(h.height, h.round);
      } catch (err) {
        out.push(reject(`proposeBlock failed: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
    }
    const unsigned = {
      chainId: this.#opts.chainId,
      height: h.height,
      round: h.round,
      polRound,
      block,
      proposer: me,
    };
    const signature = this.#sign(proposalSigningBytes(unsigned), out);
    if (signature === null) return;
    const proposal: Proposal = { ...unsigned, signature };
    const hash = blockHash(block);
    h.proposals.set(h.round, { proposal, hash, key: hashKey(hash) });
    out.push({ kind: 'broadcast', message: { kind: 'PROPOSAL', proposal } });
  }

  #vote(h: HeightState, type: VoteType, hash: Uint8Array | null, out: EngineOutput[]): void {
    if (h.me === null) return;
    const unsigned = {
      type,
      chainId: this.#opts.chainId,
      height: h.height,
      round: h.round,
      blockHash: hash,
      validator: h.me,
    };
    const signature = this.#sign(voteSigningBytes(unsigned), out);
    if (signature === null) return;
    const vote: Vote = { ...unsigned, signature };
    voteSetOf(h.votes(h.round), type).add(vote);
    out.push({ kind: 'broadcast', message: { kind: 'VOTE', vote } });
  }

  #sign(msg: Uint8Array, out: EngineOutput[]): Uint8Array | null {
    try {
      return (this.#opts.signer as ConsensusSigner).sign(msg);
    } catch (err) {
      out.push(reject(`signer refused: ${err instanceof Error ? err.message : String(err)}`));
      return null;
    }
  }

  #schedule(h: HeightState, step: TimeoutStep, out: EngineOutput[]): void {
    const t = this.#opts.timeouts;
    const base = step === 'propose' ? t.proposeMs : step === 'prevote' ? t.prevoteMs : t.precommitMs;
    out.push({
      kind: 'schedule-timeout',
      height: h.height,
      round: h.round,
      step,
      delayMs: base + h.round * t.deltaMs,
    });
  }

  /** Applies rules until none fires. */
  #progress(out: EngineOutput[]): void {
    const h = this.#h;
    if (h === null) return;
    for (let i = 0; i < MAX_STEPS_PER_INPUT && !h.decided; i++) {
      if (this.#tryDecide(h, out)) return;
      if (this.#trySkip(h, out)) continue;
      if (!this.#tryRoundRules(h, out)) return;
    }
  }

  /** Line 49: 2f+1 precommits for a block we hold (in any round) decide the height. */
  #tryDecide(h: HeightState, out: EngineOutput[]): boolean {
    for (const [r, rv] of h.rounds) {
      for (const key of rv.precommits.keysWithAtLeast(h.q)) {
        if (key === NIL_KEY) continue;
        const c = h.candidate(key);
        if (c === undefined || !this.#isValid(h, c, out)) continue;
        const signatures = rv.precommits
          .votesFor(key)
          .sort((a, b) => compareBytes(a.validator, b.validator))
          .map((v) => ({ validator: v.validator, signature: v.signature }));
        const commit: Commit = { height: h.height, round: r, blockHash: c.hash, signatures };
        h.decided = true;
        out.push({ kind: 'commit', block: c.block, commit });
        return true;
      }
    }
    return false;
  }

  /** Line 55: f+1 distinct validators heard from in a higher round: jump to the highest such round. */
  #trySkip(h: HeightState, out: EngineOutput[]): boolean {
    let best = -1;
    for (const [r, rv] of h.rounds) {
      if (r <= h.round || r <= best) continue;
      const senders = new Set<string>(rv.prevotes.validators());
      for (const v of rv.precommits.validators()) senders.add(v);
      const p = h.proposals.get(r);
      if (p !== undefined) senders.add(keyHex(p.proposal.proposer));
      if (senders.size >= h.weak) best = r;
    }
    if (best < 0) return false;
    this.#startRound(best, out);
    return true;
  }

  /** Lines 22, 28, 34, 36, 44, 47 for the current round. True when something changed. */
  #tryRoundRules(h: HeightState, out: EngineOutput[]): boolean {
    const r = h.round;
    const rv = h.votes(r);
    const e = h.proposals.get(r);
    if (h.step === 'propose' && e !== undefined) {
      const pol = e.proposal.polRound;
      const c: Candidate = { block: e.proposal.block, hash: e.hash, key: e.key };
      if (pol === -1) {
        const ok = this.#isValid(h, c, out) && (h.lockedRound === -1 || h.lockedKey === e.key); // line 22
        this.#vote(h, 'PREVOTE', ok ? e.hash : null, out);
        h.step = 'prevote';
        return true;
      }
      const polVotes = h.rounds.get(pol);
      if (polVotes !== undefined && polVotes.prevotes.count(e.key) >= h.q) {
        const ok = this.#isValid(h, c, out) && (h.lockedRound <= pol || h.lockedKey === e.key); // line 28
        this.#vote(h, 'PREVOTE', ok ? e.hash : null, out);
        h.step = 'prevote';
        return true;
      }
    }
    let changed = false;
    if (h.step === 'prevote' && !h.fired.has(`34:${r}`) && rv.prevotes.size >= h.q) {
      h.fired.add(`34:${r}`); // line 34
      this.#schedule(h, 'prevote', out);
      changed = true;
    }
    if (
      h.step !== 'propose' &&
      e !== undefined &&
      !h.fired.has(`36:${r}`) &&
      rv.prevotes.count(e.key) >= h.q
    ) {
      const c: Candidate = { block: e.proposal.block, hash: e.hash, key: e.key };
      if (this.#isValid(h, c, out)) {
        h.fired.add(`36:${r}`); // line 36
        if (h.step === 'prevote') {
          h.lockedKey = c.key;
          h.lockedRound = r;
          this.#vote(h, 'PRECOMMIT', e.hash, out);
          h.step = 'precommit';
        }
        h.valid = c;
        h.validRound = r;
        return true;
      }
    }
    if (h.step === 'prevote' && rv.prevotes.count(NIL_KEY) >= h.q) {
      this.#vote(h, 'PRECOMMIT', null, out); // line 44
      h.step = 'precommit';
      return true;
    }
    if (!h.fired.has(`47:${r}`) && rv.precommits.size >= h.q) {
      h.fired.add(`47:${r}`); // line 47
      this.#schedule(h, 'precommit', out);
      changed = true;
    }
    return changed;
  }

  /** valid(v) of the paper: the header fits this height and chain, hashes bind the body, the app agrees. */
  #isValid(h: HeightState, c: Candidate, out: EngineOutput[]): boolean {
    const cached = h.validity.get(c.key);
    if (cached !== undefined) return cached;
    let reason: string | null = null;
    const hdr = c.block.header;
    if (hdr.height !== h.height || hdr.chainId !== this.#opts.chainId) reason = 'header height or chain id';
    else reason = checkBlockHashes(c.block);
    if (reason === null) {
      try {
        const r = this.#app.validateBlock(c.block);
        if (!r.ok) reason = r.reason;
      } catch (err) {
        reason = `validateBlock threw: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    h.validity.set(c.key, reason === null);
    if (reason !== null) out.push(reject(`invalid block: ${reason}`));
    return reason === null;
  }
}

function voteSetOf(rv: RoundVotes, type: VoteType): VoteSet {
  return type === 'PREVOTE' ? rv.prevotes : rv.precommits;
}

function isRound(r: number): boolean {
  return Number.isInteger(r) && r >= 0 && r <= MAX_ROUND;
}

function reject(reason: string): EngineOutput {
  return { kind: 'reject', reason };
}
