// Chooses the relays of a circuit: distinct relays, no two in one network (IPv4 /16, IPv6 /32) unless a
// local test network allows it, an exit whose policy accepts the destination port, no two relays of
// one (mutually declared) family, and the first hop from this client's persistent guards.
//
// Which relays, and how much each weighs (docs/economy.md, "The ledger's relay list is the list";
// docs/security.md section 10):
//   - with a ledger, the candidates are the relays of the ledger's relay list (directory/
//     ledger-relay-list.ts: bonded registrations) that have a live, verified descriptor in our view, and
//     each weighs what the list says (measured bandwidth, capped by the relay's claim, scaled by
//     reputation). A descriptor adds nothing the ledger does not list and its bandwidth claim weighs
//     nothing, so every client at one height chooses among the same relays with the same weights;
//   - without a ledger (a `--no-ledger` test network), every verified relay of the view is a candidate
//     and weighs its claimed bandwidth capped at `unmeasuredWeightCap` times the median claim of the
//     relays it competes with (Tor caps unmeasured relays likewise), so a relay claiming 4 GB/s weighs
//     what a median relay weighs; paths are built from relays this node has evidence for (a verified
//     address, or a circuit through it) whenever those suffice, relays known only from their
//     descriptors filling in only when they do not.
// In both, what a relay says of itself steers nothing unchecked: its networks are every network its
// descriptor names AND every network we saw it connect from (relay-view.ts relaySubnets), so listing a
// far-away first address does not move it out of the network it really is in; a relay whose claimed
// addresses did not answer our probe is not live, and never used.
import type { RelayList } from '../directory/ledger-relay-list.ts';
import { dialAddresses, type RelayEntry, relaySubnets, standingTier } from '../directory/relay-view.ts';
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
  /** Without a ledger: a claim weighs at most this many times the median claim of its pool (default 1). */
  readonly unmeasuredWeightCap?: number;
  /**
   * The ledger's relay list: only the relays it lists are candidates, at the weights it gives them.
   * undefined: no ledger (every verified relay of the view, weighed by its capped claim).
   */
  readonly list?: RelayList | undefined;
}

export interface PathLimits {
  /** A relay's claimed bandwidth weighs at most this many times the median claim of its pool. */
  readonly unmeasuredWeightCap: number;
}

export const defaultPathLimits: PathLimits = { unmeasuredWeightCap: 1 };

/** Exits tried before giving up when the chosen exit leaves no path (distinct networks, families). */
const EXIT_TRIES = 8;

export interface Candidate {
  readonly entry: RelayEntry;
  readonly hop: PathHop;
  /** Every network the relay is in (claimed or seen); two relays whose sets meet share a network. */
  readonly subnets: ReadonlySet<string>;
  /** Hex identity keys this relay declares as its family (one side of the mutual rule). */
  readonly family: ReadonlySet<string>;
  /** Its path weight on the ledger's relay list; undefined without a ledger. */
  readonly weight: number | undefined;
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

/** True when two candidates are in one network. */
export function sameSubnet(a: Candidate, b: Candidate): boolean {
  for (const s of a.subnets) if (b.subnets.has(s)) return true;
  return false;
}

/**
 * The relays a path may use: on the ledger's list with a weight above 0 (when there is a ledger), with a
 * live descriptor (not expired, a current onion key, a dialable address) and not failed by our probe.
 */
export function candidates(relays: readonly RelayEntry[], opts: PathOptions): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of relays) {
    const d = entry.signed.descriptor;
    if (entry.peerId === opts.selfId || opts.avoid?.has(entry.peerId) || !(d.roles & Role.relay)) continue;
    const weight = opts.list?.relays.get(hexKey(d.identityKey))?.weight;
    if (opts.list !== undefined && !(weight !== undefined && weight > 0)) continue; // not listed, or 0
    if (d.expiresAt <= opts.now) continue; // the view sweeps it soon; not live now
    if (standingTier(entry.standing) === 0) continue; // its claimed addresses did not answer
    const onionKey = selectOnionKey(d.onionKeys, opts.now);
    if (onionKey === undefined) continue;
    const addresses = dialAddresses(entry);
    if (addresses.length === 0) continue;
    out.push({
      entry,
      hop: { peerId: entry.peerId, identityKey: d.identityKey, onionKey, addresses },
      subnets: new Set(relaySubnets(entry)),
      family: familyOf(entry),
      weight,
    });
  }
  return out;
}

/** This node has seen the relay work: a verified address or a circuit through it. */
export function hasEvidence(c: Candidate): boolean {
  return standingTier(c.entry.standing) >= 2;
}

export function exitAccepts(c: Candidate, port: number | undefined): boolean {
  const d = c.entry.signed.descriptor;
  if (!(d.roles & Role.exit)) return false;
  // Before the name is resolved only address-independent rules can be judged.
  return port === undefined
    ? d.exitPolicy.some((r) => r.action === 'accept')
    : isExitAllowed(d.exitPolicy, null, port);
}

/** A claimed bandwidth as path weight (no ledger): at least 1. */
function claimWeight(c: Candidate): number {
  return Math.max(1, c.entry.signed.descriptor.bandwidth);
}

/** The lower median of the pool's claims: a minority of liars cannot raise it. */
function medianClaim(pool: readonly Candidate[]): number {
  const claims = pool.map(claimWeight).sort((a, b) => a - b);
  return claims[Math.floor((claims.length - 1) / 2)] ?? 1;
}

/** How the candidates of one pool weigh. */
export type Weigher = (pool: readonly Candidate[]) => (c: Candidate) => number;

/** The ledger's weights when there is a list; else claims capped at `capMultiple` × the pool's median. */
export function weigher(opts: Pick<PathOptions, 'list' | 'unmeasuredWeightCap'>): Weigher {
  if (opts.list !== undefined) return () => (c) => c.weight ?? 0;
  const capMultiple = opts.unmeasuredWeightCap ?? defaultPathLimits.unmeasuredWeightCap;
  return (pool) => {
    const cap = Math.max(1, capMultiple * medianClaim(pool));
    return (c) => Math.min(cap, claimWeight(c));
  };
}

/** One candidate drawn with probability proportional to its weight; undefined when none weighs. */
export function weightedPick(
  pool: readonly Candidate[],
  random: () => number,
  weigh: Weigher,
): Candidate | undefined {
  const weight = weigh(pool);
  const total = pool.reduce((s, c) => s + weight(c), 0);
  if (!(total > 0)) return undefined;
  let x = random() * total;
  let last: Candidate | undefined;
  for (const c of pool) {
    const w = weight(c);
    if (w <= 0) continue;
    last = c;
    x -= w;
    if (x < 0) return c;
  }
  return last; // rounding left x at 0 after the last weighed candidate
}

/** Picks [guard, middle..., exit]. Throws CircuitError NO_PATH when the view cannot supply one. */
export function selectPath(
  relays: readonly RelayEntry[],
  opts: PathOptions,
  guards: readonly string[],
): PathHop[] {
  if (opts.hops < 1) throw new CircuitError('NO_PATH', 'a circuit needs at least one hop');
  const all = candidates(relays, opts);
  // With a ledger every listed, live relay is a candidate alike: preferring the relays this node has
  // seen work would make each client's choices its own (route fingerprinting, DESIGN.md decision 1).
  const proven = opts.list === undefined ? all.filter(hasEvidence) : [];
  if (proven.length > 0 && proven.length < all.length) {
    try {
      return selectAmong(proven, opts, guards);
    } catch (err) {
      if (!(err instanceof CircuitError)) throw err;
    }
  }
  return selectAmong(all, opts, guards);
}

function selectAmong(all: readonly Candidate[], opts: PathOptions, guards: readonly string[]): PathHop[] {
  const random = opts.random ?? Math.random;
  const weigh = weigher(opts);
  const apart = (a: Candidate, b: Candidate) =>
    a.entry.peerId !== b.entry.peerId && (opts.allowSameSubnet || !sameSubnet(a, b)) && !sameFamily(a, b);

  // The exit first: it is the most constrained choice. Among exits, prefer those that leave at least
  // one of our guards usable (not the same relay, network or family), so a guard's family member
  // picked as exit does not fail the whole path.
  const exits = all.filter((c) => exitAccepts(c, opts.port));
  const guardCandidates = all.filter((c) => guards.includes(c.entry.peerId));
  const exitsWithGuard =
    opts.hops > 1 ? exits.filter((e) => guardCandidates.some((g) => apart(e, g))) : exits;
  let pool = exitsWithGuard.length > 0 ? exitsWithGuard : exits;
  if (pool.length === 0) {
    // Exits that refuse this port are a policy answer; no usable exit at all is a missing path.
    if (all.some((c) => exitAccepts(c, undefined))) {
      throw new CircuitError('NO_EXIT', 'no known exit accepts this port');
    }
    throw new CircuitError('NO_PATH', 'no usable exit relay known');
  }
  // An exit can leave no path behind it (e.g. it names the networks of every other relay): then
  // another exit, so one relay's claims cannot make every circuit fail.
  let lastErr: CircuitError | undefined;
  for (let i = 0; i < EXIT_TRIES && pool.length > 0; i++) {
    const exit = weightedPick(pool, random, weigh);
    if (exit === undefined) break;
    try {
      return completePath(exit, all, guardCandidates, opts, random, weigh, apart);
    } catch (err) {
      if (!(err instanceof CircuitError)) throw err;
      lastErr = err;
      pool = pool.filter((c) => c !== exit);
    }
  }
  throw lastErr ?? new CircuitError('NO_PATH', 'no usable exit relay known');
}

function completePath(
  exit: Candidate,
  all: readonly Candidate[],
  guardCandidates: readonly Candidate[],
  opts: PathOptions,
  random: () => number,
  weigh: Weigher,
  apart: (a: Candidate, b: Candidate) => boolean,
): PathHop[] {
  if (opts.hops === 1) return [exit.hop];
  const taken: Candidate[] = [exit];
  const fits = (c: Candidate) => taken.every((t) => apart(t, c));
  const guard = weightedPick(guardCandidates.filter(fits), random, weigh);
  if (guard === undefined) throw new CircuitError('NO_PATH', 'none of our entry guards is usable');
  taken.push(guard);
  const middles: Candidate[] = [];
  for (let i = 0; i < opts.hops - 2; i++) {
    const m = weightedPick(all.filter(fits), random, weigh);
    if (m === undefined)
      throw new CircuitError('NO_PATH', `not enough distinct relays for ${opts.hops} hops`);
    taken.push(m);
    middles.push(m);
  }
  return [guard.hop, ...middles.map((m) => m.hop), exit.hop];
}
