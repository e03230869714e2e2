// What a node does with a proposal or vote before the engine or any peer sees it (hardening issue,
// class 4: 4 MiB junk proposals used to be re-sent by every honest node before anyone checked them).
// check() verifies it against the validator set of its height (verify.ts checkProposal/checkVote:
// chain, round, proposer of that round or member, body hashes, signature); only what verifies goes to
// the engine (so its buffer for the next height holds only signed messages of real validators) and
// may be relayed. shouldRelay() then relays each slot at most once (twice for a vote: an
// equivocation's second vote spreads, so every node can prove it), only within maxRoundsAhead of the
// node's own round, and never more than maxSlots slots between two commits. The engine's periodic
// re-gossip covers anything a peer missed.
import type { Proposal, Vote } from '../wire/block.ts';
import type { RelayLimits } from './ledger-limits.ts';
import { sortValidators } from './quorum.ts';
import type { VerifiedSignatures } from './sig-cache.ts';
import { checkProposal, checkVote, type HeightSet } from './verify.ts';
import { keyHex } from './vote-set.ts';

export type ConsensusItem =
  | { readonly kind: 'PROPOSAL'; readonly proposal: Proposal }
  | { readonly kind: 'VOTE'; readonly vote: Vote };

export class RelayGuard {
  readonly #limits: RelayLimits;
  readonly #chainId: string;
  readonly #cache: VerifiedSignatures;
  readonly #setFor: (height: number) => readonly Uint8Array[] | undefined;
  readonly #sets = new Map<number, HeightSet>();
  /** slot → times relayed; slots are prefixed by their height. */
  readonly #slots = new Map<string, { readonly height: number; n: number }>();
  relayed = 0;

  constructor(
    limits: RelayLimits,
    chainId: string,
    cache: VerifiedSignatures,
    setFor: (height: number) => readonly Uint8Array[] | undefined,
  ) {
    this.#limits = limits;
    this.#chainId = chainId;
    this.#cache = cache;
    this.#setFor = setFor;
  }

  /** Null when the message verifies against its height's validator set, else the reason. */
  check(m: ConsensusItem): string | null {
    const height = m.kind === 'PROPOSAL' ? m.proposal.height : m.vote.height;
    const set = this.#set(height);
    if (set === undefined) return 'no validator set known for its height';
    return m.kind === 'PROPOSAL'
      ? checkProposal(m.proposal, this.#chainId, set, this.#cache)
      : checkVote(m.vote, this.#chainId, set, this.#cache);
  }

  /**
   * For a verified message: true when it is to be relayed now (and counts it). `engineHeight` and
   * `engineRound` are where the engine is; a message for a later height counts from round 0.
   */
  shouldRelay(m: ConsensusItem, engineHeight: number, engineRound: number): boolean {
    const { height, round } = m.kind === 'PROPOSAL' ? m.proposal : m.vote;
    const base = height === engineHeight ? engineRound : 0;
    if (round > base + this.#limits.maxRoundsAhead) return false;
    const slot =
      m.kind === 'PROPOSAL'
        ? `${height}:${round}:P`
        : `${height}:${round}:${m.vote.type}:${keyHex(m.vote.validator)}`;
    const limit = m.kind === 'PROPOSAL' ? 1 : 2;
    const seen = this.#slots.get(slot);
    if (seen !== undefined) {
      if (seen.n >= limit) return false;
      seen.n++;
    } else {
      if (this.#slots.size >= this.#limits.maxSlots) return false;
      this.#slots.set(slot, { height, n: 1 });
    }
    this.relayed++;
    return true;
  }

  /** After a commit at `height`: slots and sets of that height and below are done. */
  onCommit(height: number): void {
    for (const [k, s] of this.#slots) if (s.height <= height) this.#slots.delete(k);
    // Sets are re-read: the block may have ended an epoch and made a later set known.
    this.#sets.clear();
  }

  #set(height: number): HeightSet | undefined {
    const cached = this.#sets.get(height);
    if (cached !== undefined) return cached;
    const validators = this.#setFor(height);
    if (validators === undefined || validators.length === 0) return undefined;
    const set: HeightSet = { sorted: sortValidators(validators), members: new Set(validators.map(keyHex)) };
    // Only the next two heights are ever asked for; a few entries at most.
    if (this.#sets.size >= 8) this.#sets.clear();
    this.#sets.set(height, set);
    return set;
  }
}
