// The daemon's event feed: an in-process bus of typed events (the protobuf Event). Each subscriber has
// its own bounded queue; a subscriber that lags loses its oldest events and is told how many
// (an EventsDropped event), so one slow client never holds memory or the publisher back.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type Event, EventSchema } from '../api/gen/anonnet/v1/events_pb.js';

type EventInit = MessageInitShape<typeof EventSchema>;
/** The kinds a subscriber can ask for (Event's oneof cases, without "dropped"). */
export type EventKind = Exclude<NonNullable<Event['kind']['case']>, 'dropped'>;
export const EVENT_KINDS: readonly EventKind[] = [
  'bootstrap',
  'circuitBuilt',
  'circuitClosed',
  'peerCount',
  'blockCommitted',
];
type KindInit = Exclude<NonNullable<EventInit['kind']>, { case: undefined } | { case: 'dropped' }>;

export const DEFAULT_QUEUE_LIMIT = 256;

export interface SubscribeOptions {
  /** Only these kinds; all when empty or absent. */
  readonly kinds?: readonly EventKind[];
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

export class Subscription implements AsyncIterable<Event> {
  readonly #queue: Event[] = [];
  readonly #limit: number;
  readonly #kinds: ReadonlySet<string> | undefined;
  readonly #now: () => number;
  readonly #onClose: () => void;
  #pendingDrops = 0;
  /** Events this subscriber lost because it lagged. */
  dropped = 0;
  #waiter: ((e: Event | undefined) => void) | undefined;
  #closed = false;

  constructor(
    limit: number,
    kinds: readonly EventKind[] | undefined,
    now: () => number,
    onClose: () => void,
  ) {
    this.#limit = Math.max(1, limit);
    this.#kinds = kinds && kinds.length > 0 ? new Set(kinds) : undefined;
    this.#now = now;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queued, not yet taken. */
  get size(): number {
    return this.#queue.length;
  }

  /** @internal the bus delivers here. */
  deliver(e: Event): void {
    if (this.#closed || (this.#kinds && !this.#kinds.has(e.kind.case ?? ''))) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(e);
      return;
    }
    if (this.#queue.length >= this.#limit) {
      this.#queue.shift();
      this.#pendingDrops++;
      this.dropped++;
    }
    this.#queue.push(e);
  }

  /** The next event, waiting for one; undefined once closed. */
  next(): Promise<Event | undefined> {
    if (this.#pendingDrops > 0) {
      const count = this.#pendingDrops;
      this.#pendingDrops = 0;
      return Promise.resolve(
        create(EventSchema, { at: this.#now(), kind: { case: 'dropped', value: { count } } }),
      );
    }
    const e = this.#queue.shift();
    if (e !== undefined || this.#closed) return Promise.resolve(e);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#pendingDrops = 0;
    this.#onClose();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Event> {
    try {
      for (;;) {
        const e = await this.next();
        if (e === undefined) return;
        yield e;
      }
    } finally {
      this.close();
    }
  }
}

export class EventBus {
  readonly #subs = new Set<Subscription>();
  readonly #now: () => number;
  readonly #limit: number;
  /** The latest event of each kind, so a new subscriber can be told the current bootstrap state. */
  readonly #latest = new Map<string, Event>();

  constructor(opts: { now?: () => number; queueLimit?: number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#limit = opts.queueLimit ?? DEFAULT_QUEUE_LIMIT;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  publish(kind: KindInit): void {
    const e = create(EventSchema, { at: this.#now(), kind });
    if (kind.case === 'bootstrap' || kind.case === 'peerCount') this.#latest.set(kind.case, e);
    for (const s of this.#subs) s.deliver(e);
  }

  /** A new subscription; it starts with the latest bootstrap and peer count events, if any. */
  subscribe(opts: SubscribeOptions = {}): Subscription {
    const signal = opts.signal;
    const onAbort = () => sub.close();
    const sub: Subscription = new Subscription(opts.limit ?? this.#limit, opts.kinds, this.#now, () => {
      this.#subs.delete(sub);
      signal?.removeEventListener('abort', onAbort);
    });
    for (const e of this.#latest.values()) sub.deliver(e);
    this.#subs.add(sub);
    if (signal?.aborted) sub.close();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return sub;
  }

  close(): void {
    for (const s of [...this.#subs]) s.close();
  }
}
