// Heights that peers claim (STATUS, or a message from a later height) and nothing has verified yet.
// A claim only ever chooses whom to ask for blocks (SYNC_REQUEST); the blocks that come back are
// verified commit by commit, and the block interval never looks at claims (hardening issue, class 3:
// one STATUS frame claiming a huge height used to make every next height start at once, for good).
//
// Bounded: a claim expires unless repeated within ttlMs, goes when its peer disconnects, and at most
// maxPeers peers' claims are held. A claim that did not deliver (the peer's answer applied nothing,
// or it did not answer in time) is dropped and that peer's claims are ignored for penaltyMs, doubling
// with each failure up to maxPenaltyMs; a delivery clears its record. Time comes from the caller.

export interface HeightClaimOptions {
  /** A claim not repeated within this time is forgotten (peers send STATUS every 2 s). */
  readonly ttlMs: number;
  /** How long a peer's claims are ignored after one did not deliver; doubles per failure. */
  readonly penaltyMs: number;
  readonly maxPenaltyMs: number;
  /** Peers whose claims (and penalties) are held at once. */
  readonly maxPeers: number;
}

export const defaultHeightClaimOptions: HeightClaimOptions = {
  ttlMs: 10_000,
  penaltyMs: 10_000,
  maxPenaltyMs: 300_000,
  maxPeers: 1024,
};

interface Claim {
  height: number;
  expires: number;
}

interface PeerRecord {
  /** Claims ignored until then. */
  until: number;
  failures: number;
  /** Answers that applied blocks: such a peer is asked first. */
  delivered: number;
}

export class HeightClaims {
  readonly #opts: HeightClaimOptions;
  readonly #now: () => number;
  readonly #claims = new Map<string, Claim>();
  /** Oldest first (re-inserted on each change), so the bound drops the longest untouched. */
  readonly #records = new Map<string, PeerRecord>();

  constructor(opts: Partial<HeightClaimOptions> = {}, now: () => number = Date.now) {
    this.#opts = { ...defaultHeightClaimOptions, ...opts };
    this.#now = now;
  }

  /** Unexpired claims held. */
  get size(): number {
    this.#sweep(this.#now());
    return this.#claims.size;
  }

  /** Records that `peer` says it has `height`; ignored while the peer is penalized. */
  note(peer: string, height: number): void {
    const now = this.#now();
    if ((this.#records.get(peer)?.until ?? 0) > now) return;
    const c = this.#claims.get(peer);
    const expires = now + this.#opts.ttlMs;
    if (c !== undefined && c.expires > now) {
      c.height = Math.max(c.height, height);
      c.expires = expires;
      return;
    }
    if (c === undefined && this.#claims.size >= this.#opts.maxPeers && !this.#sweep(now)) return;
    this.#claims.set(peer, { height, expires });
  }

  /** The unexpired height `peer` claims, 0 for none. */
  height(peer: string): number {
    const c = this.#claims.get(peer);
    return c !== undefined && c.expires > this.#now() ? c.height : 0;
  }

  /** The highest unexpired claim of any peer (0 for none). */
  highest(): number {
    const now = this.#now();
    let best = 0;
    for (const c of this.#claims.values()) if (c.expires > now && c.height > best) best = c.height;
    return best;
  }

  /**
   * Whom to ask for blocks above `height`: among unexpired claims above it, peers that delivered
   * before come first, then the lowest claim (a liar gains nothing by claiming more).
   */
  pick(height: number): string | undefined {
    const now = this.#now();
    let best: { peer: string; delivered: boolean; height: number } | undefined;
    for (const [peer, c] of this.#claims) {
      if (c.expires <= now || c.height <= height) continue;
      const delivered = (this.#records.get(peer)?.delivered ?? 0) > 0;
      if (
        best === undefined ||
        (delivered && !best.delivered) ||
        (delivered === best.delivered && c.height < best.height)
      ) {
        best = { peer, delivered, height: c.height };
      }
    }
    return best?.peer;
  }

  /** After a commit at `height`: claims at or below it are met. */
  prune(height: number): void {
    for (const [peer, c] of this.#claims) if (c.height <= height) this.#claims.delete(peer);
  }

  /** The peer disconnected: its claim goes (its penalty stays, so reconnecting does not clear it). */
  forget(peer: string): void {
    this.#claims.delete(peer);
  }

  /** Its claim did not deliver: dropped, and its claims ignored for a while (doubling). */
  failed(peer: string): void {
    this.#claims.delete(peer);
    const r = this.#records.get(peer) ?? { until: 0, failures: 0, delivered: 0 };
    const penalty = Math.min(this.#opts.maxPenaltyMs, this.#opts.penaltyMs * 2 ** Math.min(r.failures, 30));
    this.#put(peer, { until: this.#now() + penalty, failures: r.failures + 1, delivered: 0 });
  }

  /** Its answer applied blocks. */
  delivered(peer: string): void {
    const r = this.#records.get(peer);
    this.#put(peer, { until: 0, failures: 0, delivered: (r?.delivered ?? 0) + 1 });
  }

  /** True while `peer`'s claims are ignored. */
  penalized(peer: string): boolean {
    return (this.#records.get(peer)?.until ?? 0) > this.#now();
  }

  #put(peer: string, r: PeerRecord): void {
    this.#records.delete(peer);
    this.#records.set(peer, r);
    while (this.#records.size > this.#opts.maxPeers) {
      const oldest = this.#records.keys().next().value;
      if (oldest === undefined) break;
      this.#records.delete(oldest);
    }
  }

  /** Drops expired claims; true when that made room. */
  #sweep(now: number): boolean {
    for (const [peer, c] of this.#claims) if (c.expires <= now) this.#claims.delete(peer);
    return this.#claims.size < this.#opts.maxPeers;
  }
}
