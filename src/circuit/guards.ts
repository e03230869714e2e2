// Persistent entry guards, as in Tor: a client keeps using a few first hops for a long time, so an
// adversary who runs some relays cannot wait to be the first hop of a fraction of every user's circuits.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../daemon/atomic-file.ts';
import type { RelayEntry } from '../directory/relay-view.ts';
import { type Candidate, candidates, hasEvidence, type PathOptions } from './path-selection.ts';

export interface GuardOptions {
  readonly count: number;
  /** A guard is replaced this long after it was chosen (Tor: months). */
  readonly lifetimeMs: number;
}

/** Three guards, each kept 60 days (Tor keeps its guards for months). */
export const defaultGuardOptions: GuardOptions = { count: 3, lifetimeMs: 60 * 24 * 3600_000 };

interface StoredGuard {
  peerId: string;
  chosenAt: number;
}

export class GuardSet {
  #guards: StoredGuard[] = [];
  readonly #path: string;
  readonly #opts: GuardOptions;

  constructor(path: string, opts: GuardOptions) {
    this.#path = path;
    this.#opts = opts;
    try {
      const v = JSON.parse(readFileSync(path, 'utf8')) as { version?: number; guards?: StoredGuard[] };
      if (v.version === 1 && Array.isArray(v.guards)) {
        this.#guards = v.guards.filter((g) => typeof g.peerId === 'string' && typeof g.chosenAt === 'number');
      }
    } catch {
      // no guards yet, or an unreadable file: choose afresh
    }
  }

  /**
   * Our guards that are usable in the current view, choosing new ones when too few are. Guards in
   * `unreachable` sit out (relay-health.ts); only when all of them do is one more guard chosen, as
   * Tor moves on to its next sampled guard rather than failing every circuit.
   */
  current(
    relays: readonly RelayEntry[],
    opts: PathOptions,
    unreachable: ReadonlySet<string> = new Set(),
  ): string[] {
    const all = candidates(relays, opts);
    const byId = new Map(all.map((c) => [c.entry.peerId, c]));
    const usable = new Set(byId.keys());
    const proven = new Set(all.filter(hasEvidence).map((c) => c.entry.peerId));
    const before = this.#guards.length;
    this.#guards = this.#guards.filter((g) => opts.now - g.chosenAt < this.#opts.lifetimeMs);
    let changed = before !== this.#guards.length;
    let live = this.#guards.filter((g) => usable.has(g.peerId));
    // Once any relay has proven itself, only proven relays become guards (also when every guard is
    // down: a passing outage must not hand a guard place, kept for months, to a fresh descriptor).
    // A client that has seen none work yet (its first start) takes what the view offers.
    const unused = [...usable].filter((id) => !this.#guards.some((g) => g.peerId === id));
    const pool = proven.size > 0 ? unused.filter((id) => proven.has(id)) : unused;
    const random = opts.random ?? Math.random;
    // With a ledger, a new guard is drawn by its weight on the ledger's list (as Tor samples guards by
    // measured bandwidth); without one, uniformly (claims are not to be trusted for a choice kept months).
    const draw = (ids: readonly string[]): number =>
      opts.list === undefined ? Math.floor(random() * ids.length) : weightedIndex(ids, byId, random);
    while (live.length < this.#opts.count && pool.length > 0) {
      const [id] = pool.splice(draw(pool), 1);
      if (id === undefined) break;
      const g = { peerId: id, chosenAt: opts.now };
      this.#guards.push(g);
      live = [...live, g];
      changed = true;
    }
    let up = live.filter((g) => !unreachable.has(g.peerId));
    const spare = pool.filter((id) => !unreachable.has(id));
    if (up.length === 0 && spare.length > 0) {
      const g = { peerId: spare[draw(spare)]!, chosenAt: opts.now };
      this.#guards.push(g);
      up = [g];
      changed = true;
    }
    if (changed)
      writeFileAtomic(this.#path, `${JSON.stringify({ version: 1, guards: this.#guards })}\n`, 0o600);
    return up.slice(0, this.#opts.count).map((g) => g.peerId);
  }
}

/** An index into `ids` drawn in proportion to each candidate's ledger weight. */
function weightedIndex(
  ids: readonly string[],
  byId: ReadonlyMap<string, Candidate>,
  random: () => number,
): number {
  const weights = ids.map((id) => byId.get(id)?.weight ?? 0);
  let x = random() * weights.reduce((s, w) => s + w, 0);
  for (const [i, w] of weights.entries()) {
    x -= w;
    if (x < 0) return i;
  }
  return ids.length - 1;
}
