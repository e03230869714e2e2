// Chooses the relays of a circuit: distinct relays, no two in one /16 (IPv4) or /32 (IPv6) unless a
// local test network allows it, an exit whose policy accepts the destination port, relays weighted by
// advertised bandwidth, no two relays of one (mutually declared) family, and the first hop from this
// client's persistent guards.
import { multiaddr } from '@multiformats/multiaddr';
import { dialAddresses, type RelayEntry } from '../directory/relay-view.ts';
import { isExitAllowed, selectOnionKey } from '../directory/verify-descriptor.ts';
import { decodeFamily } from '../wire/descriptor-family.ts';
import { Role } from '../wire/descriptor-types.ts';
import type { PathHop } from './client-circuit.ts';
import { CircuitError } from './errors.ts';

export interface PathOptions {
  readonly hops: number;
  /** Destination port the exit must accept; undefined for a circuit built ahead of any request. */
  readonly port?: number | undefined;
  readonly selfId: string;
  readonly now: number;
  /** Allow relays in the same /16 (all of a loopback test network is in 127.0.0.0/16). */
  readonly allowSameSubnet: boolean;
  /** Relays to avoid (e.g. the ones of a path that just failed). */
  readonly avoid?: ReadonlySet<string>;
  readonly random?: () => number;
}

export interface Candidate {
  readonly entry: RelayEntry;
  readonly hop: PathHop;
  readonly subnet: string;
  /** Hex identity keys this relay declares as its family (one side of the mutual rule). */
  readonly family: ReadonlySet<string>;
}

const hexKey = (k: Uint8Array) => Buffer.from(k).toString('hex');

/** Same family: each of the two lists the other (a one-sided claim counts for nothing). */
export function sameFamily(a: Candidate, b: Candidate): boolean {
  return (
    a.family.has(hexKey(b.entry.signed.descriptor.identityKey)) &&
    b.family.has(hexKey(a.entry.signed.descriptor.identityKey))
  );
}

function familyOf(entry: RelayEntry): ReadonlySet<string> {
  try {
    return new Set(decodeFamily(entry.signed.descriptor).map(hexKey));
  } catch {
    return new Set(); // verified descriptors never get here; an unreadable family declares nothing
  }
}

/** The network a relay's first address belongs to, as the unit of "not two relays in one place". */
export function subnetOf(addresses: readonly Uint8Array[]): string {
  for (const bytes of addresses) {
    try {
      const ma = multiaddr(bytes);
      for (const c of ma.getComponents()) {
        if (c.name === 'ip4' && c.value) return `v4:${c.value.split('.').slice(0, 2).join('.')}`;
        if (c.name === 'ip6' && c.value) return `v6:${c.value.split(':').slice(0, 2).join(':')}`;
      }
    } catch {
      // unparseable address: try the next
    }
  }
  return 'unknown';
}

export function candidates(relays: readonly RelayEntry[], opts: PathOptions): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of relays) {
    const d = entry.signed.descriptor;
    if (entry.peerId === opts.selfId || opts.avoid?.has(entry.peerId) || !(d.roles & Role.relay)) continue;
    const onionKey = selectOnionKey(d.onionKeys, opts.now);
    if (onionKey === undefined) continue;
    const addresses = dialAddresses(entry);
    if (addresses.length === 0) continue;
    out.push({
      entry,
      hop: { peerId: entry.peerId, identityKey: d.identityKey, onionKey, addresses },
      subnet: subnetOf(d.addresses),
      family: familyOf(entry),
    });
  }
  return out;
}

export function exitAccepts(c: Candidate, port: number | undefined): boolean {
  const d = c.entry.signed.descriptor;
  if (!(d.roles & Role.exit)) return false;
  // Before the name is resolved only address-independent rules can be judged.
  return port === undefined
    ? d.exitPolicy.some((r) => r.action === 'accept')
    : isExitAllowed(d.exitPolicy, null, port);
}

function weightedPick(pool: readonly Candidate[], random: () => number): Candidate | undefined {
  const total = pool.reduce((s, c) => s + Math.max(1, c.entry.signed.descriptor.bandwidth), 0);
  let x = random() * total;
  for (const c of pool) {
    x -= Math.max(1, c.entry.signed.descriptor.bandwidth);
    if (x < 0) return c;
  }
  return pool.at(-1);
}

/** Picks [guard, middle..., exit]. Throws CircuitError NO_PATH when the view cannot supply one. */
export function selectPath(
  relays: readonly RelayEntry[],
  opts: PathOptions,
  guards: readonly string[],
): PathHop[] {
  const random = opts.random ?? Math.random;
  const all = candidates(relays, opts);
  const used = new Set<string>();
  const subnets = new Set<string>();
  const taken: Candidate[] = [];
  const fits = (c: Candidate) =>
    !used.has(c.entry.peerId) &&
    (opts.allowSameSubnet || !subnets.has(c.subnet)) &&
    !taken.some((t) => sameFamily(t, c));
  const take = (c: Candidate) => {
    used.add(c.entry.peerId);
    subnets.add(c.subnet);
    taken.push(c);
    return c;
  };
  if (opts.hops < 1) throw new CircuitError('NO_PATH', 'a circuit needs at least one hop');

  // The exit first: it is the most constrained choice. Among exits, prefer those that leave at least
  // one of our guards usable (not the same relay, subnet or family), so a guard's family member
  // picked as exit does not fail the whole path.
  const exits = all.filter((c) => exitAccepts(c, opts.port));
  const guardCandidates = all.filter((c) => guards.includes(c.entry.peerId));
  const compatible = (e: Candidate, g: Candidate) =>
    e.entry.peerId !== g.entry.peerId && (opts.allowSameSubnet || e.subnet !== g.subnet) && !sameFamily(e, g);
  const exitsWithGuard =
    opts.hops > 1 ? exits.filter((e) => guardCandidates.some((g) => compatible(e, g))) : exits;
  const exit = weightedPick(exitsWithGuard.length > 0 ? exitsWithGuard : exits, random);
  if (exit === undefined) {
    // Exits that refuse this port are a policy answer; no usable exit at all is a missing path.
    if (all.some((c) => exitAccepts(c, undefined))) {
      throw new CircuitError('NO_EXIT', 'no known exit accepts this port');
    }
    throw new CircuitError('NO_PATH', 'no usable exit relay known');
  }
  take(exit);
  if (opts.hops === 1) return [exit.hop];

  const guardPool = all.filter((c) => guards.includes(c.entry.peerId) && fits(c));
  const guard = guardPool.length > 0 ? weightedPick(guardPool, random) : undefined;
  if (guard === undefined) throw new CircuitError('NO_PATH', 'none of our entry guards is usable');
  take(guard);

  const middles: Candidate[] = [];
  for (let i = 0; i < opts.hops - 2; i++) {
    const m = weightedPick(all.filter(fits), random);
    if (m === undefined)
      throw new CircuitError('NO_PATH', `not enough distinct relays for ${opts.hops} hops`);
    middles.push(take(m));
  }
  return [guard.hop, ...middles.map((m) => m.hop), exit.hop];
}
