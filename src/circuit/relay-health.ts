// Relays this client recently found unreachable: a dial to it failed, the relay before it reported
// its link lost (TRUNCATED), or a build stalled at it. Such a relay sits out of path selection for a
// backoff that doubles with each failure in a row, so a relay that died is not tried again by every
// new circuit until its descriptor expires, and one that comes back is used again soon. A relay can
// blame its next hop falsely; the cost is bounded by the backoff (docs/protocol.md, "Relay loss").

export interface RelayHealthOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Bound on remembered relays; the ones whose backoff ended go first. */
  readonly maxEntries: number;
}

export const defaultRelayHealthOptions: RelayHealthOptions = {
  baseMs: 30_000,
  maxMs: 10 * 60_000,
  maxEntries: 4096,
};

interface Failure {
  failures: number;
  until: number;
}

export class RelayHealth {
  readonly #opts: RelayHealthOptions;
  readonly #failed = new Map<string, Failure>();

  constructor(opts: RelayHealthOptions = defaultRelayHealthOptions) {
    this.#opts = opts;
  }

  markUnreachable(peerId: string, now: number): void {
    const failures = (this.#failed.get(peerId)?.failures ?? 0) + 1;
    const backoff = Math.min(this.#opts.maxMs, this.#opts.baseMs * 2 ** Math.min(failures - 1, 30));
    this.#failed.delete(peerId); // re-inserted last: the map stays in order of the latest failure
    this.#failed.set(peerId, { failures, until: now + backoff });
    if (this.#failed.size > this.#opts.maxEntries) this.#prune(now);
  }

  /** A circuit was built through the relay: it is reachable again and its failures are forgotten. */
  markReachable(peerId: string): void {
    this.#failed.delete(peerId);
  }

  isUnreachable(peerId: string, now: number): boolean {
    const f = this.#failed.get(peerId);
    return f !== undefined && now < f.until;
  }

  /** The relays to leave out of paths now. */
  unreachable(now: number): Set<string> {
    const out = new Set<string>();
    for (const [id, f] of this.#failed) if (now < f.until) out.add(id);
    return out;
  }

  get size(): number {
    return this.#failed.size;
  }

  #prune(now: number): void {
    // Relays whose backoff ended keep their failure count (a relay that fails again backs off longer)
    // until space is needed; then they go, and then the oldest failures.
    for (const [id, f] of this.#failed) {
      if (this.#failed.size <= this.#opts.maxEntries) return;
      if (now >= f.until) this.#failed.delete(id);
    }
    for (const id of this.#failed.keys()) {
      if (this.#failed.size <= this.#opts.maxEntries) return;
      this.#failed.delete(id);
    }
  }
}
