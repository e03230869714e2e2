// An in-memory DhtClient: a Map of key → records, with hooks to make put/get/randomWalk hang (until their
// signal aborts) and counters of every call, for discovery and publisher tests.
import type { DhtClient } from '../../../src/p2p/dht-client.ts';

const text = (key: Uint8Array) => new TextDecoder().decode(key);

function abortable<T>(signal: AbortSignal | undefined, start: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    start((v) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    });
  });
}

export class FakeDht implements DhtClient {
  readonly records = new Map<string, Uint8Array[]>();
  readonly gets: string[] = [];
  readonly puts: { key: string; value: Uint8Array }[] = [];
  walks = 0;
  /** Peers every random walk returns. */
  walkPeers: string[] = [];
  /** How many peers accept a put (a number, or a function of the put's index). */
  acceptors: number | ((index: number) => number) = 1;
  /** When set, calls of that kind wait for `release()` (or their signal). */
  hangGets = false;
  hangPuts = false;
  hangWalks = false;
  readonly #waiting: (() => void)[] = [];

  /** Stores a record as a DHT node would (no validation here: the view verifies). */
  set(key: Uint8Array, ...values: Uint8Array[]): void {
    this.records.set(text(key), values);
  }

  /** Lets every hanging call go on. */
  release(): void {
    for (const go of this.#waiting.splice(0)) go();
  }

  /** Resolves once `predicate` holds (polled each turn of the event loop); rejects after `ms`. */
  async until(predicate: () => boolean, ms = 2_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #gate(hang: boolean, signal: AbortSignal | undefined): Promise<void> {
    return abortable<void>(signal, (resolve) => {
      if (hang) this.#waiting.push(() => resolve());
      else resolve();
    });
  }

  async put(key: Uint8Array, value: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const index = this.puts.length;
    this.puts.push({ key: text(key), value });
    await this.#gate(this.hangPuts, opts.signal);
    const n = typeof this.acceptors === 'number' ? this.acceptors : this.acceptors(index);
    if (n > 0) this.records.set(text(key), [value]);
    return n;
  }

  async get(key: Uint8Array, opts: { signal?: AbortSignal; quorum?: number } = {}): Promise<Uint8Array[]> {
    this.gets.push(text(key));
    await this.#gate(this.hangGets, opts.signal);
    return (this.records.get(text(key)) ?? []).slice(0, opts.quorum ?? 2);
  }

  async randomWalk(opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    this.walks++;
    await this.#gate(this.hangWalks, opts.signal);
    return [...this.walkPeers];
  }

  /** How many gets asked for `key`. */
  getsFor(key: Uint8Array): number {
    return this.gets.filter((k) => k === text(key)).length;
  }
}
