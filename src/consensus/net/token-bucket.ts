// Token buckets for what ledger peers may make us do: frames and bytes read, sync answers sent. A
// bucket refills at `rate` per second up to `capacity`; take(n) succeeds while the bucket is not empty
// and may leave it in debt (down to -capacity), so one large frame passes a bucket smaller than itself
// and the peer then waits for the debt to refill. Time comes from the caller (no timers here).
//
// SharedBuckets gives each peer its own bucket whose rate is its share of a total: min(perPeer,
// total / peers). However many peers (or identities) an attacker brings, together they get at most the
// total, and each honest peer keeps its share of it.

export class TokenBucket {
  #rate: number;
  #capacity: number;
  #tokens: number;
  #last: number;

  constructor(rate: number, capacity: number, now: number) {
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#last = now;
  }

  get tokens(): number {
    return this.#tokens;
  }

  /** Takes `n` tokens if any are left (the bucket may go into debt); false when it is empty. */
  take(n: number, now: number): boolean {
    this.#refill(now);
    if (this.#tokens <= 0) return false;
    this.#tokens = Math.max(-this.#capacity, this.#tokens - n);
    return true;
  }

  /** A new rate and capacity from now on (tokens above the new capacity are cut). */
  setRate(rate: number, capacity: number, now: number): void {
    this.#refill(now);
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = Math.min(this.#tokens, capacity);
  }

  /** Full to capacity (a new peer's first bucket). */
  fill(now: number): void {
    this.#refill(now);
    this.#tokens = this.#capacity;
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#rate);
  }
}

export interface ShareLimits {
  /** Per second, one peer at most. */
  readonly perPeer: number;
  /** Per second, all peers together: each peer's rate is min(perPeer, total / peers). */
  readonly total: number;
  /** A bucket holds this many seconds of its rate. */
  readonly burstSeconds: number;
  /** Smallest capacity of a bucket (bytes buckets: one largest frame). */
  readonly minCapacity?: number;
}

export class SharedBuckets {
  readonly #limits: ShareLimits;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limits: ShareLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get peers(): number {
    return this.#buckets.size;
  }

  /** Takes `n` from `peer`'s bucket (made on first use, which re-divides the total). */
  take(peer: string, n: number): boolean {
    const now = this.#now();
    let b = this.#buckets.get(peer);
    if (b === undefined) {
      // A new peer starts with a full bucket of its share; the others' shares shrink to make room.
      b = new TokenBucket(0, 0, now);
      this.#buckets.set(peer, b);
      this.#reshare(now);
      b.fill(now);
    }
    return b.take(n, now);
  }

  /** The peer is gone: its share returns to the others. */
  forget(peer: string): void {
    if (this.#buckets.delete(peer)) this.#reshare(this.#now());
  }

  /** One peer's rate per second now. */
  rate(): number {
    return Math.min(this.#limits.perPeer, this.#limits.total / Math.max(1, this.#buckets.size));
  }

  #reshare(now: number): void {
    const rate = this.rate();
    const capacity = Math.max(rate * this.#limits.burstSeconds, this.#limits.minCapacity ?? 1);
    for (const b of this.#buckets.values()) b.setRate(rate, capacity, now);
  }
}
