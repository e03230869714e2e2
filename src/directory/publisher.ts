// Publishes this relay's descriptor into the DHT and keeps it fresh: again after a quarter of its
// lifetime, at once when its contents change, and with back-off while nobody accepts it yet.
import type { Logger } from '../log/logger.ts';
import type { DhtClient } from '../p2p/dht-client.ts';
import type { SignedDescriptor } from '../wire/descriptor-types.ts';
import { relayRecordKey } from './dht-records.ts';
import { Pause } from './sleep.ts';

export interface PublisherInit {
  readonly dht: DhtClient;
  readonly peerId: string;
  readonly lifetimeMs: number;
  readonly build: () => SignedDescriptor;
  readonly log: Logger;
  /** Called with every descriptor built, before it is sent (the node puts it in its own view). */
  readonly onBuilt?: (signed: SignedDescriptor) => void;
  /** Called after a put that at least one peer accepted. */
  readonly onPublished?: (signed: SignedDescriptor, peers: number) => void;
}

const PUT_TIMEOUT_MS = 20_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export class DescriptorPublisher {
  readonly #init: PublisherInit;
  readonly #stop = new AbortController();
  readonly #pause = new Pause();
  #dirty = false;
  #running: Promise<void> | undefined;
  published = 0;

  constructor(init: PublisherInit) {
    this.#init = init;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** The descriptor's contents changed (addresses, keys): publish a new one now. */
  republishSoon(): void {
    this.#dirty = true;
    this.#pause.wake();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    let retry = RETRY_MIN_MS;
    while (!signal.aborted) {
      this.#dirty = false;
      const signed = this.#init.build();
      this.#init.onBuilt?.(signed);
      let peers = 0;
      const t0 = Date.now();
      try {
        peers = await this.#init.dht.put(relayRecordKey(this.#init.peerId), signed.bytes, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(PUT_TIMEOUT_MS)]),
        });
      } catch (err) {
        if (signal.aborted) return;
        this.#init.log.debug({ err: (err as Error).message }, 'descriptor put failed');
      }
      if (peers > 0) {
        this.published++;
        this.#init.onPublished?.(signed, peers);
        this.#init.log.debug({ peers, ms: Date.now() - t0 }, 'descriptor published');
        retry = RETRY_MIN_MS;
        if (!this.#dirty) await this.#pause.wait(this.#init.lifetimeMs / 4, signal);
      } else {
        if (!this.#dirty) await this.#pause.wait(Math.min(retry, this.#init.lifetimeMs / 4), signal);
        retry = Math.min(retry * 2, RETRY_MAX_MS);
      }
    }
  }
}
