// The votes of one type (prevote or precommit) in one round of one height, tallied by the block hash
// they name. Each validator's first vote is kept; a later, different vote from it is a conflict that
// the caller turns into evidence. As in the paper, an equivocator's votes count for every value it
// voted for (so everyone sees the same quorums whichever copy they got first): the caller adds such a
// conflicting vote with addConflicting() when it names nil or a block the caller holds, which bounds
// how many a validator can place.
import type { Vote } from '../wire/block.ts';

/** Map key of a block hash in tallies; nil votes have their own key. */
export type HashKey = string;
export const NIL_KEY: HashKey = 'nil';

export function hashKey(hash: Uint8Array | null): HashKey {
  return hash === null ? NIL_KEY : Buffer.from(hash).toString('hex');
}

export function keyHex(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

export type AddResult =
  | { readonly kind: 'added' }
  /** A vote for a value this validator is already counted for: nothing to do. */
  | { readonly kind: 'duplicate' }
  /** The validator already voted for something else here: `existing` is its first vote. */
  | { readonly kind: 'conflict'; readonly existing: Vote };

export class VoteSet {
  /** Each validator's first vote. */
  readonly #first = new Map<string, Vote>();
  /** Further, conflicting votes the caller chose to count, by validator then value. */
  readonly #extra = new Map<string, Map<HashKey, Vote>>();
  /** Validators counted for each value. */
  readonly #tally = new Map<HashKey, Set<string>>();

  /** Number of distinct validators that voted (for anything). */
  get size(): number {
    return this.#first.size;
  }

  get(validatorHex: string): Vote | undefined {
    return this.#first.get(validatorHex);
  }

  has(validatorHex: string): boolean {
    return this.#first.has(validatorHex);
  }

  /** Classifies without adding (so the caller can verify the signature of new votes only). */
  classify(vote: Vote): AddResult {
    const who = keyHex(vote.validator);
    const existing = this.#first.get(who);
    if (existing === undefined) return { kind: 'added' };
    const k = hashKey(vote.blockHash);
    if (hashKey(existing.blockHash) === k || this.#extra.get(who)?.has(k) === true)
      return { kind: 'duplicate' };
    return { kind: 'conflict', existing };
  }

  /** Adds a first vote whose signature the caller has verified. */
  add(vote: Vote): AddResult {
    const c = this.classify(vote);
    if (c.kind !== 'added') return c;
    const who = keyHex(vote.validator);
    this.#first.set(who, vote);
    this.#count(hashKey(vote.blockHash), who);
    return c;
  }

  /** Counts a verified conflicting vote too (see the file comment for when). */
  addConflicting(vote: Vote): void {
    const who = keyHex(vote.validator);
    if (!this.#first.has(who) || this.classify(vote).kind !== 'conflict') return;
    const k = hashKey(vote.blockHash);
    let m = this.#extra.get(who);
    if (m === undefined) {
      m = new Map();
      this.#extra.set(who, m);
    }
    m.set(k, vote);
    this.#count(k, who);
  }

  /** Removes all of a validator's votes (bounded memory for far-future rounds). */
  remove(validatorHex: string): void {
    const first = this.#first.get(validatorHex);
    if (first === undefined) return;
    this.#uncount(hashKey(first.blockHash), validatorHex);
    for (const k of this.#extra.get(validatorHex)?.keys() ?? []) this.#uncount(k, validatorHex);
    this.#first.delete(validatorHex);
    this.#extra.delete(validatorHex);
  }

  count(key: HashKey): number {
    return this.#tally.get(key)?.size ?? 0;
  }

  /** The keys with at least `threshold` votes. */
  keysWithAtLeast(threshold: number): HashKey[] {
    const out: HashKey[] = [];
    for (const [k, s] of this.#tally) if (s.size >= threshold) out.push(k);
    return out;
  }

  /** One vote per validator counted for `key`. */
  votesFor(key: HashKey): Vote[] {
    const out: Vote[] = [];
    for (const [who, v] of this.#first) {
      if (hashKey(v.blockHash) === key) out.push(v);
      else {
        const x = this.#extra.get(who)?.get(key);
        if (x !== undefined) out.push(x);
      }
    }
    return out;
  }

  /** Every vote held, first votes first. */
  all(): Vote[] {
    const out = [...this.#first.values()];
    for (const m of this.#extra.values()) out.push(...m.values());
    return out;
  }

  validators(): IterableIterator<string> {
    return this.#first.keys();
  }

  #count(k: HashKey, who: string): void {
    let s = this.#tally.get(k);
    if (s === undefined) {
      s = new Set();
      this.#tally.set(k, s);
    }
    s.add(who);
  }

  #uncount(k: HashKey, who: string): void {
    const s = this.#tally.get(k);
    if (s === undefined) return;
    s.delete(who);
    if (s.size === 0) this.#tally.delete(k);
  }
}
