// Probes relays this node knows only from their descriptors: dials one of them every `intervalMs` at
// exactly the addresses it claims (Bitcoin Core's "feeler" connections do the same for its address
// table). A relay that answers, authenticated as its peer id by Noise, is verified in the network of the
// address that answered (RelayView.markConnected); one that does not ranks below every other relay and
// is the first to go when the view needs room (RelayView.markProbeFailed). So descriptors that claim
// addresses their relay does not hold cannot keep a place in the view, and those that hold real ones
// are pinned to their real network, where the per-network cap applies.
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';
import { dialAddresses, type RelayEntry, type RelayView, standingTier } from './relay-view.ts';
import { Pause } from './sleep.ts';
import type { SubnetKey } from './subnet.ts';

export interface RelayProberOptions {
  /** Pause between two probes; 0 turns probing off. */
  readonly intervalMs: number;
  /** A probe that has not connected by then failed. */
  readonly timeoutMs: number;
  /** A relay whose probe failed is probed again after this, doubled per failure in a row (max 1 h). */
  readonly retryBaseMs: number;
}

export const defaultRelayProberOptions: RelayProberOptions = {
  intervalMs: 2_000,
  timeoutMs: 5_000,
  retryBaseMs: 60_000,
};

const RETRY_MAX_MS = 3_600_000;

/** Dials `peerId` at exactly `addresses`; resolves with the network of the connection's remote address. */
export type ProbeFn = (
  peerId: string,
  addresses: Multiaddr[],
  signal: AbortSignal,
) => Promise<SubnetKey | undefined>;

export interface RelayProberInit {
  readonly view: Pick<RelayView, 'list' | 'markConnected' | 'markProbeFailed'>;
  readonly probe: ProbeFn;
  readonly selfId: string;
  readonly now: () => number;
  readonly log: Logger;
  readonly options?: RelayProberOptions;
  readonly random?: () => number;
}

export class RelayProber {
  readonly #init: RelayProberInit;
  readonly #opts: RelayProberOptions;
  readonly #stop = new AbortController();
  readonly #pause = new Pause();
  #running: Promise<void> | undefined;
  /** Probes made, answered and failed. */
  probes = 0;
  verified = 0;
  failed = 0;

  constructor(init: RelayProberInit) {
    this.#init = init;
    this.#opts = init.options ?? defaultRelayProberOptions;
  }

  start(): void {
    if (this.#opts.intervalMs > 0) this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** The relay to probe next: never-probed ones first, then failed ones whose retry is due. */
  next(now: number): RelayEntry | undefined {
    const fresh: RelayEntry[] = [];
    const due: RelayEntry[] = [];
    for (const e of this.#init.view.list()) {
      const s = e.standing;
      if (e.peerId === this.#init.selfId || standingTier(s) > 1) continue;
      if (s.lastProbeAt === undefined) fresh.push(e);
      else if (s.probeFailures > 0) {
        const wait = Math.min(RETRY_MAX_MS, this.#opts.retryBaseMs * 2 ** Math.min(s.probeFailures - 1, 20));
        if (now - s.lastProbeAt >= wait) due.push(e);
      }
    }
    const pool = fresh.length > 0 ? fresh : due;
    return pool[Math.floor((this.#init.random ?? Math.random)() * pool.length)];
  }

  /** Probes one relay now; true when it answered. */
  async probeOnce(entry: RelayEntry): Promise<boolean> {
    this.probes++;
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#opts.timeoutMs)]);
    let subnet: SubnetKey | undefined;
    try {
      subnet = await this.#init.probe(entry.peerId, dialAddresses(entry), signal);
    } catch (err) {
      if (this.#stop.signal.aborted) return false;
      this.#init.log.debug({ peer: entry.peerId, err: (err as Error).message }, 'relay probe failed');
    }
    if (subnet === undefined) {
      this.failed++;
      this.#init.view.markProbeFailed(entry.peerId, this.#init.now());
      return false;
    }
    this.verified++;
    this.#init.view.markConnected(entry.peerId, subnet, this.#init.now());
    return true;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await this.#pause.wait(this.#opts.intervalMs, signal);
      if (signal.aborted) return;
      const entry = this.next(this.#init.now());
      if (entry !== undefined) await this.probeOnce(entry);
    }
  }
}
