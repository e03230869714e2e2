// The verified, expiring, bounded set of relays this node knows. Every descriptor enters through
// `offer`, which verifies it; expired ones leave through `sweep`. Later the ledger's relay registry
// decides which of these a client may choose (DESIGN.md decision 1); this view stays the source of
// onion keys and addresses.
//
// Bounds (docs/security.md section 11): at most `maxRelays` relays, and at most `maxPerSubnet` in one
// network (IPv4 /16, IPv6 /32). When a bound is reached, a newcomer takes the place of the relay that
// ranks lowest, and only if the newcomer ranks above it; otherwise the newcomer is refused. Ranking
// (`compareStanding`) favours evidence first, then age:
//   - a relay whose claimed addresses did not answer our probe ranks lowest;
//   - then relays we have no evidence about (a descriptor is all we have);
//   - then relays we had a direct, authenticated connection with (their address is verified), or that
//     carried circuits of ours, and those with both above them;
//   - within one rank, the relay first seen earlier stays.
// So a flood of fresh descriptors can take only free places and the places of relays that failed
// their probe; it can never push out relays this node has verified or used. A relay counts against
// the network it was verified in (the remote address of a connection), and until then against every
// network its descriptor claims: a flood from one real network fills only that network's share.
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { SignedDescriptor } from '../wire/descriptor-types.ts';
import type { RelayViewStore, StoredStanding } from './relay-view-store.ts';
import { claimedSubnets, type SubnetKey, UNKNOWN_SUBNET } from './subnet.ts';
import { compareDescriptors } from './verify-descriptor.ts';

/** What this node has seen of a relay, beyond what the relay says of itself. */
export interface RelayStanding {
  /** When this view first accepted the relay (kept across descriptor updates and restarts). */
  readonly firstSeenAt: number;
  /** Networks of direct, authenticated connections we had with it, newest first. */
  readonly verifiedSubnets: readonly SubnetKey[];
  /** Circuits this node built through it. */
  readonly circuitsBuilt: number;
  /** Probes of its claimed addresses that failed since its last success. */
  readonly probeFailures: number;
  readonly lastProbeAt: number | undefined;
}

export interface RelayEntry {
  readonly peerId: string;
  readonly signed: SignedDescriptor;
  readonly receivedAt: number;
  readonly standing: RelayStanding;
}

/** Verified networks remembered per relay (a relay that moves keeps its recent ones). */
export const MAX_VERIFIED_SUBNETS = 4;

export function freshStanding(now: number): RelayStanding {
  return {
    firstSeenAt: now,
    verifiedSubnets: [],
    circuitsBuilt: 0,
    probeFailures: 0,
    lastProbeAt: undefined,
  };
}

/** A relay's published addresses as dialable multiaddrs (with /p2p/<id>); unparseable ones skipped. */
export function dialAddresses(entry: Pick<RelayEntry, 'peerId' | 'signed'>): Multiaddr[] {
  return entry.signed.descriptor.addresses.flatMap((b) => {
    try {
      return [multiaddr(b).encapsulate(`/p2p/${entry.peerId}`)];
    } catch {
      return [];
    }
  });
}

/**
 * Every network a relay is in, as far as this node knows: each one its descriptor names, and each one
 * we saw it connect from. Path selection keeps relays whose sets meet out of one circuit.
 */
export function relaySubnets(entry: Pick<RelayEntry, 'signed' | 'standing'>): SubnetKey[] {
  const all = new Set([
    ...claimedSubnets(entry.signed.descriptor.addresses),
    ...entry.standing.verifiedSubnets,
  ]);
  return all.size === 0 ? [UNKNOWN_SUBNET] : [...all];
}

/** The networks a relay's place in the view counts against: where it was verified, else its claims. */
export function accountingSubnets(entry: Pick<RelayEntry, 'signed' | 'standing'>): SubnetKey[] {
  const verified = entry.standing.verifiedSubnets[0];
  if (verified !== undefined) return [verified];
  const claimed = claimedSubnets(entry.signed.descriptor.addresses);
  return claimed.length === 0 ? [UNKNOWN_SUBNET] : claimed;
}

/** 0 probe failed, 1 no evidence, 2 verified address or carried circuits, 3 both. */
export function standingTier(s: RelayStanding): number {
  const evidence = (s.verifiedSubnets.length > 0 ? 1 : 0) + (s.circuitsBuilt > 0 ? 1 : 0);
  if (evidence === 0 && s.probeFailures > 0) return 0;
  return evidence + 1;
}

/**
 * Positive when standing `a` ranks above `b` (is kept before it), 0 when they rank alike (then the
 * relay already held keeps its place: a newcomer must rank strictly above the relay it displaces).
 */
export function compareStanding(a: RelayStanding, b: RelayStanding): number {
  return (
    standingTier(a) - standingTier(b) || b.probeFailures - a.probeFailures || b.firstSeenAt - a.firstSeenAt
  );
}

export type VerifyFn = (
  bytes: Uint8Array,
  peerId: string,
) => { ok: true; signed: SignedDescriptor } | { ok: false; code: string; reason: string };

export type OfferResult = 'added' | 'updated' | 'unchanged' | 'stale' | 'refused';

export interface RelayViewLimits {
  /** Relays held at most, so a flood of identities cannot exhaust memory. */
  readonly maxRelays: number;
  /** Relays one network (IPv4 /16, IPv6 /32) may hold at most. */
  readonly maxPerSubnet: number;
}

export const defaultRelayViewLimits: RelayViewLimits = { maxRelays: 10_000, maxPerSubnet: 128 };

export interface RelayViewInit {
  readonly verify: VerifyFn;
  readonly now: () => number;
  readonly store?: RelayViewStore | undefined;
  readonly log?: Logger | undefined;
  readonly limits?: RelayViewLimits;
  /** This node's own peer id: its entry ranks above every other and is never evicted. */
  readonly selfId?: string;
  /** The network of a direct connection we have with `peerId` now, if any (its address, verified). */
  readonly connectedSubnet?: (peerId: string) => SubnetKey | undefined;
}

/** The bound that made a relay go or refused a newcomer. */
export type Bound = 'VIEW_FULL' | 'SUBNET_FULL';
type Victims = Map<string, Bound>;

interface Slot {
  peerId: string;
  signed: SignedDescriptor;
  receivedAt: number;
  standing: RelayStanding;
}

const REFUSAL_MESSAGES: Record<string, string> = {
  VIEW_FULL:
    'relay view full: a new relay was refused, every relay held ranks above it (directory.maxRelays)',
  SUBNET_FULL:
    'one network already holds directory.maxRelaysPerSubnet relays: a new relay from it was refused',
};

export class RelayView {
  readonly #relays = new Map<string, Slot>();
  /** Network → relays counted against it. */
  readonly #bySubnet = new Map<SubnetKey, Set<string>>();
  readonly #init: RelayViewInit;
  readonly #limits: RelayViewLimits;
  readonly #refusalLog: RefusalLog | undefined;
  readonly #listeners = new Set<(event: 'added' | 'removed', peerId: string) => void>();
  /** Refusals by reason code, for metrics and the status file. */
  readonly refusals = new Map<string, number>();
  /** Relays that lost their place to a newcomer that ranked above them, by the bound that was hit. */
  readonly evictions = new Map<Bound, number>();

  constructor(init: RelayViewInit) {
    this.#init = init;
    this.#limits = init.limits ?? defaultRelayViewLimits;
    this.#refusalLog = init.log === undefined ? undefined : new RefusalLog(init.log);
  }

  get limits(): RelayViewLimits {
    return this.#limits;
  }

  /** Reads back the stored view, keeping only what still verifies now; the best-ranked go in first. */
  load(): number {
    const store = this.#init.store;
    if (store === undefined) return 0;
    const rows = store.loadAll().map((r) => ({ ...r, standing: restored(r.standing, this.#init.now()) }));
    rows.sort((a, b) => compareStanding(b.standing, a.standing));
    for (const { peerId, bytes, standing } of rows) {
      if (this.#offer(peerId, bytes, standing) === 'refused') store.delete(peerId);
    }
    return this.#relays.size;
  }

  offer(peerId: string, bytes: Uint8Array): OfferResult {
    return this.#offer(peerId, bytes, undefined);
  }

  #offer(peerId: string, bytes: Uint8Array, restoredStanding: RelayStanding | undefined): OfferResult {
    const result = this.#init.verify(bytes, peerId);
    if (!result.ok) {
      this.#refuse(result.code, peerId, result.reason);
      return 'refused';
    }
    const now = this.#init.now();
    const prev = this.#relays.get(peerId);
    if (prev !== undefined) {
      if (Buffer.compare(prev.signed.bytes, result.signed.bytes) === 0) return 'unchanged';
      if (!isNewer(result.signed, prev.signed)) return 'stale';
      const next: Slot = { peerId, signed: result.signed, receivedAt: now, standing: prev.standing };
      if (!this.#replace(prev, next)) return 'refused';
      this.#init.store?.put(peerId, result.signed.bytes, result.signed.descriptor.expiresAt, next.standing);
      return 'updated';
    }
    let standing = restoredStanding ?? freshStanding(now);
    const connected = this.#init.connectedSubnet?.(peerId);
    if (connected !== undefined) standing = withVerified(standing, connected);
    const slot: Slot = { peerId, signed: result.signed, receivedAt: now, standing };
    const room = this.#makeRoom(slot, accountingSubnets(slot), true);
    if (typeof room === 'string') {
      this.#refuse(room, peerId, 'no place ranks below it');
      return 'refused';
    }
    this.#evict(room);
    this.#insert(slot);
    this.#init.store?.put(peerId, result.signed.bytes, result.signed.descriptor.expiresAt, standing);
    this.#emit('added', peerId);
    return 'added';
  }

  /** We have a direct, authenticated connection with `peerId` from network `subnet`. */
  markConnected(peerId: string, subnet: SubnetKey, now = this.#init.now()): void {
    const prev = this.#relays.get(peerId);
    if (prev === undefined) return;
    const wasFailed = prev.standing.probeFailures > 0;
    if (prev.standing.verifiedSubnets[0] === subnet && !wasFailed) return;
    const next: Slot = { ...prev, standing: { ...withVerified(prev.standing, subnet), lastProbeAt: now } };
    // Now verified: its place counts against the network it really is in. If that network is full of
    // relays that rank above it, it is the one to go.
    if (!this.#replace(prev, next)) this.#remove(peerId, 'SUBNET_FULL');
    else this.#init.store?.putStanding(peerId, next.standing);
  }

  /** A circuit of ours was built through `peerId`. */
  markCircuitBuilt(peerId: string): void {
    const slot = this.#relays.get(peerId);
    if (slot === undefined) return;
    const first = slot.standing.circuitsBuilt === 0;
    slot.standing = { ...slot.standing, circuitsBuilt: slot.standing.circuitsBuilt + 1, probeFailures: 0 };
    if (first) this.#init.store?.putStanding(peerId, slot.standing);
  }

  /** A probe of `peerId`'s claimed addresses got no answer. */
  markProbeFailed(peerId: string, now = this.#init.now()): void {
    const slot = this.#relays.get(peerId);
    if (slot === undefined) return;
    slot.standing = { ...slot.standing, probeFailures: slot.standing.probeFailures + 1, lastProbeAt: now };
    this.#init.store?.putStanding(peerId, slot.standing);
  }

  /** Removes expired relays; returns their ids. */
  sweep(): string[] {
    const now = this.#init.now();
    const gone: string[] = [];
    for (const [peerId, entry] of this.#relays) {
      if (entry.signed.descriptor.expiresAt <= now) gone.push(peerId);
    }
    for (const peerId of gone) this.#remove(peerId, undefined);
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

  /** How many relays count against `subnet` now. */
  subnetCount(subnet: SubnetKey): number {
    return this.#bySubnet.get(subnet)?.size ?? 0;
  }

  onChange(listener: (event: 'added' | 'removed', peerId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #compare(a: Slot, b: Slot): number {
    const self = this.#init.selfId;
    // Our own entry outranks everything: it is what we publish.
    if (a.peerId === self || b.peerId === self) return a.peerId === self ? (b.peerId === self ? 0 : 1) : -1;
    return compareStanding(a.standing, b.standing);
  }

  /**
   * The relays that must go for `slot` to hold a place counted against `subnets` (and a new place in
   * the view when `isNew`), or the bound that refuses it: each victim ranks below `slot`.
   */
  #makeRoom(slot: Slot, subnets: readonly SubnetKey[], isNew: boolean): Victims | Bound {
    const victims: Victims = new Map();
    const lowestOf = (ids: Iterable<string>): Slot | undefined => {
      let low: Slot | undefined;
      for (const id of ids) {
        if (id === slot.peerId || victims.has(id)) continue;
        const s = this.#relays.get(id);
        if (s === undefined) continue;
        // The lowest; among equals the greatest peer id, so every run picks the same one.
        const c = low === undefined ? -1 : this.#compare(s, low);
        if (low === undefined || c < 0 || (c === 0 && s.peerId > low.peerId)) low = s;
      }
      return low;
    };
    for (const subnet of subnets) {
      const members = this.#bySubnet.get(subnet);
      if (members === undefined) continue;
      let held = 0;
      for (const id of members) if (id !== slot.peerId && !victims.has(id)) held++;
      for (; held >= this.#limits.maxPerSubnet; held--) {
        const low = lowestOf(members);
        if (low === undefined || this.#compare(slot, low) <= 0) return 'SUBNET_FULL';
        victims.set(low.peerId, 'SUBNET_FULL');
      }
    }
    if (isNew) {
      for (let size = this.#relays.size - victims.size; size >= this.#limits.maxRelays; size--) {
        const low = lowestOf(this.#relays.keys());
        if (low === undefined || this.#compare(slot, low) <= 0) return 'VIEW_FULL';
        victims.set(low.peerId, 'VIEW_FULL');
      }
    }
    return victims;
  }

  /** Swaps `prev` for `next` (same relay), moving its accounting; false (and no change) if refused. */
  #replace(prev: Slot, next: Slot): boolean {
    const before = accountingSubnets(prev);
    const after = accountingSubnets(next);
    if (sameSet(before, after)) {
      this.#relays.set(next.peerId, next);
      return true;
    }
    const added = after.filter((s) => !before.includes(s));
    const room = this.#makeRoom(next, added, false);
    if (typeof room === 'string') {
      this.#refuse(room, next.peerId, 'its new networks are full of relays that rank above it');
      return false;
    }
    this.#evict(room);
    this.#unindex(prev);
    this.#insert(next);
    return true;
  }

  #insert(slot: Slot): void {
    this.#relays.set(slot.peerId, slot);
    for (const s of accountingSubnets(slot)) {
      const members = this.#bySubnet.get(s) ?? new Set<string>();
      members.add(slot.peerId);
      this.#bySubnet.set(s, members);
    }
  }

  #unindex(slot: Slot): void {
    for (const s of accountingSubnets(slot)) {
      const members = this.#bySubnet.get(s);
      members?.delete(slot.peerId);
      if (members?.size === 0) this.#bySubnet.delete(s);
    }
  }

  #evict(victims: Victims): void {
    for (const [id, bound] of victims) this.#remove(id, bound);
  }

  #remove(peerId: string, evictedFor: Bound | undefined): void {
    const slot = this.#relays.get(peerId);
    if (slot === undefined) return;
    this.#unindex(slot);
    this.#relays.delete(peerId);
    this.#init.store?.delete(peerId);
    if (evictedFor !== undefined) {
      this.evictions.set(evictedFor, (this.evictions.get(evictedFor) ?? 0) + 1);
      this.#init.log?.debug({ peer: peerId, bound: evictedFor }, 'relay evicted from the view');
    }
    this.#emit('removed', peerId);
  }

  #refuse(code: string, peerId: string, reason: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
    this.#refusalLog?.refuse(
      code,
      REFUSAL_MESSAGES[code] ?? `relay descriptor refused (${code}): it does not verify`,
      { peer: peerId, reason },
    );
  }

  #emit(event: 'added' | 'removed', peerId: string): void {
    for (const l of this.#listeners) l(event, peerId);
  }
}

/**
 * True when `a` supersedes `b`: higher sequence, or the same sequence published later, or on equal both
 * (a relay that equivocated) the bytewise larger encoding, so every node keeps the same one
 * (docs/protocol.md, "Newer descriptors supersede older ones").
 */
export function isNewer(a: SignedDescriptor, b: SignedDescriptor): boolean {
  return compareDescriptors(a, b) > 0;
}

function withVerified(s: RelayStanding, subnet: SubnetKey): RelayStanding {
  return {
    ...s,
    verifiedSubnets: [subnet, ...s.verifiedSubnets.filter((x) => x !== subnet)].slice(
      0,
      MAX_VERIFIED_SUBNETS,
    ),
    probeFailures: 0,
  };
}

/** A standing read back from disk; one from the future (a clock set back) counts as seen now. */
function restored(s: StoredStanding | undefined, now: number): RelayStanding {
  if (s === undefined) return freshStanding(now);
  return {
    firstSeenAt: Math.min(s.firstSeenAt, now),
    verifiedSubnets: s.verifiedSubnets.slice(0, MAX_VERIFIED_SUBNETS),
    circuitsBuilt: s.circuitsBuilt,
    probeFailures: s.probeFailures,
    lastProbeAt: undefined,
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
