// Finds relays: random walks of the DHT turn up peer ids, and for each one this node lacks (or whose
// descriptor is past half its life) it fetches the descriptor record and offers it to the view.
// Fetches run through three bounded queues with a fixed number of workers, served in order: refreshes
// of relays already in the view, then peers we have a direct connection with (real hosts), then peer
// ids that only turned up in DHT answers. A flood of advertised ids (a Sybil flood) so delays only the
// discovery of relays nobody has seen, never the refresh of known relays or of connected ones.
import type { Logger } from '../log/logger.ts';
import type { DhtClient } from '../p2p/dht-client.ts';
import { relayRecordKey } from './dht-records.ts';
import type { RelayView } from './relay-view.ts';
import { Pause } from './sleep.ts';

export interface DiscoveryInit {
  readonly dht: DhtClient;
  readonly view: RelayView;
  readonly selfId: string;
  /** Peers we are connected to now: the cheapest candidates. */
  readonly connectedPeers: () => string[];
  readonly walkIntervalMs: number;
  readonly now: () => number;
  readonly log: Logger;
  /** Asks a connected peer for its own descriptor (descriptor-protocol.ts); DHT lookup otherwise. */
  readonly fetchDirect?: (peerId: string, signal: AbortSignal) => Promise<Uint8Array>;
  readonly isConnected?: (peerId: string) => boolean;
  readonly concurrency?: number;
  readonly maxQueue?: number;
  /** Ids taken from each DHT server's answer in a random walk (a per-peer share of the queue). */
  readonly walkIdsPerResponder?: number;
}

export const DEFAULT_WALK_IDS_PER_RESPONDER = 4;

const FETCH_TIMEOUT_MS = 10_000;
const DIRECT_TIMEOUT_MS = 3_000;
/** The first walks come quickly so a fresh node learns the network in seconds. */
const FAST_WALKS = 8;
const FAST_WALK_MS = 1_000;

export class RelayDiscovery {
  readonly #init: DiscoveryInit;
  readonly #stop = new AbortController();
  readonly #pause = new Pause();
  /** Relays in the view whose descriptor wants refreshing: served first. */
  readonly #refresh = new Set<string>();
  /** Peers not in the view that we are connected to. */
  readonly #connected = new Set<string>();
  /** Peers not in the view known only from DHT answers. */
  readonly #queue = new Set<string>();
  readonly #inFlight = new Set<string>();
  readonly #lastTried = new Map<string, number>();
  #workers = 0;
  #walks = 0;
  #running: Promise<void> | undefined;
  /** DHT lookups made, descriptors fetched straight from connected peers, wants dropped (queue full). */
  lookups = 0;
  direct = 0;
  dropped = 0;

  constructor(init: DiscoveryInit) {
    this.#init = init;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    for (const q of this.#queues()) q.clear();
    await this.#running;
  }

  /** Asks for a peer's descriptor when we lack it or it is getting old. */
  want(peerId: string): void {
    if (peerId === this.#init.selfId || !this.#needs(peerId)) return;
    if (this.#inFlight.has(peerId) || this.#queues().some((q) => q.has(peerId))) return;
    const queue = this.#init.view.has(peerId)
      ? this.#refresh
      : this.#init.isConnected?.(peerId)
        ? this.#connected
        : this.#queue;
    if (queue.size >= (this.#init.maxQueue ?? 512)) {
      this.dropped++;
      return;
    }
    queue.add(peerId);
    this.#pump();
  }

  /** Wake the walker now (a new connection, a new bootstrap peer). */
  walkSoon(): void {
    this.#pause.wake();
  }

  #needs(peerId: string): boolean {
    const now = this.#init.now();
    const entry = this.#init.view.get(peerId);
    const minGap = Math.min(this.#init.walkIntervalMs, 5_000);
    if ((this.#lastTried.get(peerId) ?? 0) + minGap > now) return false;
    if (entry === undefined) return true;
    const d = entry.signed.descriptor;
    return now > d.publishedAt + (d.expiresAt - d.publishedAt) / 2;
  }

  #pump(): void {
    const limit = this.#init.concurrency ?? 4;
    for (;;) {
      const queue = this.#queues().find((q) => q.size > 0);
      if (queue === undefined || this.#workers >= limit || this.#stop.signal.aborted) return;
      const next = queue.values().next().value as string;
      queue.delete(next);
      this.#workers++;
      this.#inFlight.add(next);
      void this.#fetch(next).finally(() => {
        this.#workers--;
        this.#inFlight.delete(next);
        this.#pump();
      });
    }
  }

  /** The queues in the order they are served. */
  #queues(): Set<string>[] {
    return [this.#refresh, this.#connected, this.#queue];
  }

  async #fetch(peerId: string): Promise<void> {
    this.#lastTried.set(peerId, this.#init.now());
    // A peer we are connected to is asked for its own descriptor first (refresh or first contact), so
    // DHT lookups slowed by made-up peers in answers cannot keep a neighbour out of the view; the DHT
    // is the way to relays we are not connected to, and the fallback.
    if (this.#init.fetchDirect && this.#init.isConnected?.(peerId)) {
      try {
        const bytes = await this.#init.fetchDirect(
          peerId,
          AbortSignal.any([this.#stop.signal, AbortSignal.timeout(DIRECT_TIMEOUT_MS)]),
        );
        const result = this.#init.view.offer(peerId, bytes);
        this.direct++;
        if (result === 'updated' || result === 'added') return;
      } catch (err) {
        if (this.#stop.signal.aborted) return;
        this.#init.log.debug({ err: (err as Error).message }, 'direct descriptor fetch failed');
      }
    }
    this.lookups++;
    try {
      const records = await this.#init.dht.get(relayRecordKey(peerId), {
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
      });
      // The view keeps the newest of whatever verifies.
      for (const bytes of records) {
        const result = this.#init.view.offer(peerId, bytes);
        this.#init.log.debug({ peer: peerId, result }, 'relay descriptor fetched');
      }
    } catch (err) {
      if (!this.#stop.signal.aborted)
        this.#init.log.debug({ err: (err as Error).message }, 'descriptor lookup failed');
    }
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      for (const p of this.#init.connectedPeers()) this.want(p);
      for (const e of this.#init.view.list()) this.want(e.peerId);
      try {
        const found = await this.#init.dht.randomWalk({
          perResponder: this.#init.walkIdsPerResponder ?? DEFAULT_WALK_IDS_PER_RESPONDER,
          signal: AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
        });
        for (const p of found) this.want(p);
      } catch {
        // An aborted or failed walk is retried on the next round.
      }
      this.#walks++;
      this.#pruneLastTried();
      const interval =
        this.#walks < FAST_WALKS
          ? Math.min(FAST_WALK_MS, this.#init.walkIntervalMs)
          : this.#init.walkIntervalMs;
      await this.#pause.wait(interval, signal);
    }
  }

  #pruneLastTried(): void {
    if (this.#lastTried.size < 4 * (this.#init.maxQueue ?? 512)) return;
    const cutoff = this.#init.now() - 10 * this.#init.walkIntervalMs;
    for (const [id, t] of this.#lastTried) if (t < cutoff) this.#lastTried.delete(id);
  }
}
