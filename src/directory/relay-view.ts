// The verified, expiring set of relays this node knows. Every descriptor enters through `offer`, which
// verifies it; expired ones leave through `sweep`. Later the ledger's relay registry decides which of
// these a client may choose (DESIGN.md decision 1); this view stays the source of onion keys and addresses.
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';
import type { SignedDescriptor } from '../wire/descriptor-types.ts';
import type { RelayViewStore } from './relay-view-store.ts';
import { compareDescriptors } from './verify-descriptor.ts';

export interface RelayEntry {
  readonly peerId: string;
  readonly signed: SignedDescriptor;
  readonly receivedAt: number;
}

/** A relay's published addresses as dialable multiaddrs (with /p2p/<id>); unparseable ones skipped. */
export function dialAddresses(entry: RelayEntry): Multiaddr[] {
  return entry.signed.descriptor.addresses.flatMap((b) => {
    try {
      return [multiaddr(b).encapsulate(`/p2p/${entry.peerId}`)];
    } catch {
      return [];
    }
  });
}

export type VerifyFn = (
  bytes: Uint8Array,
  peerId: string,
) => { ok: true; signed: SignedDescriptor } | { ok: false; code: string; reason: string };

export type OfferResult = 'added' | 'updated' | 'unchanged' | 'stale' | 'refused';

export interface RelayViewInit {
  readonly verify: VerifyFn;
  readonly now: () => number;
  readonly store?: RelayViewStore | undefined;
  readonly log?: Logger | undefined;
  /** Bound on the number of relays held, so a flood of identities cannot exhaust memory. */
  readonly maxRelays?: number;
}

export const DEFAULT_MAX_RELAYS = 10_000;

/**
 * True when `a` supersedes `b`: higher sequence, or the same sequence published later, or on equal both
 * (a relay that equivocated) the bytewise larger encoding, so every node keeps the same one
 * (docs/protocol.md, "Newer descriptors supersede older ones").
 */
export function isNewer(a: SignedDescriptor, b: SignedDescriptor): boolean {
  return compareDescriptors(a, b) > 0;
}

export class RelayView {
  readonly #relays = new Map<string, RelayEntry>();
  readonly #init: RelayViewInit;
  readonly #listeners = new Set<(event: 'added' | 'removed', peerId: string) => void>();
  /** Refusals by reason code, for metrics and the status file. */
  readonly refusals = new Map<string, number>();

  constructor(init: RelayViewInit) {
    this.#init = init;
  }

  /** Reads back the stored view, keeping only what still verifies now. */
  load(): number {
    const store = this.#init.store;
    if (store === undefined) return 0;
    for (const { peerId, bytes } of store.loadAll()) {
      if (this.offer(peerId, bytes) === 'refused') store.delete(peerId);
    }
    return this.#relays.size;
  }

  offer(peerId: string, bytes: Uint8Array): OfferResult {
    const result = this.#init.verify(bytes, peerId);
    if (!result.ok) {
      this.refusals.set(result.code, (this.refusals.get(result.code) ?? 0) + 1);
      this.#init.log?.debug(
        { peer: peerId, code: result.code, reason: result.reason },
        'relay descriptor refused',
      );
      return 'refused';
    }
    const prev = this.#relays.get(peerId);
    if (prev !== undefined) {
      if (Buffer.compare(prev.signed.bytes, result.signed.bytes) === 0) return 'unchanged';
      if (!isNewer(result.signed, prev.signed)) return 'stale';
    } else if (this.#relays.size >= (this.#init.maxRelays ?? DEFAULT_MAX_RELAYS)) {
      this.refusals.set('VIEW_FULL', (this.refusals.get('VIEW_FULL') ?? 0) + 1);
      return 'refused';
    }
    this.#relays.set(peerId, { peerId, signed: result.signed, receivedAt: this.#init.now() });
    this.#init.store?.put(peerId, result.signed.bytes, result.signed.descriptor.expiresAt);
    if (prev === undefined) this.#emit('added', peerId);
    return prev === undefined ? 'added' : 'updated';
  }

  /** Removes expired relays; returns their ids. */
  sweep(): string[] {
    const now = this.#init.now();
    const gone: string[] = [];
    for (const [peerId, entry] of this.#relays) {
      if (entry.signed.descriptor.expiresAt <= now) gone.push(peerId);
    }
    for (const peerId of gone) {
      this.#relays.delete(peerId);
      this.#init.store?.delete(peerId);
      this.#emit('removed', peerId);
    }
    return gone;
  }

  get(peerId: string): RelayEntry | undefined {
    return this.#relays.get(peerId);
  }

  has(peerId: string): boolean {
    return this.#relays.has(peerId);
  }

  list(): RelayEntry[] {
    return [...this.#relays.values()];
  }

  get size(): number {
    return this.#relays.size;
  }

  onChange(listener: (event: 'added' | 'removed', peerId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: 'added' | 'removed', peerId: string): void {
    for (const l of this.#listeners) l(event, peerId);
  }
}
