// Relay entries for path-selection and guard tests: real signed descriptors (test/unit/directory's
// relays), with the address, roles, bandwidth and exit policy each test needs, and a seeded random.
import { multiaddr } from '@multiformats/multiaddr';
import type { PathOptions } from '../../../src/circuit/path-selection.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { freshStanding, type RelayEntry } from '../../../src/directory/relay-view.ts';
import { encodeFamily } from '../../../src/wire/descriptor-family.ts';
import { Role } from '../../../src/wire/descriptor-types.ts';
import { NOW, relay } from '../directory/relay-view-helpers.ts';

export { NOW };

export interface EntrySpec {
  /** IPv4 address of the relay's one TCP address. */
  readonly ip: string;
  /** Further addresses its descriptor lists (multiaddr strings). */
  readonly moreAddresses?: readonly string[];
  /** Networks we saw it connect from (RelayStanding.verifiedSubnets). */
  readonly verified?: readonly string[];
  /** Probes of its claimed addresses that failed. */
  readonly probeFailures?: number;
  readonly exit?: boolean;
  readonly exitPolicy?: readonly string[];
  readonly bandwidth?: number;
  /** Relay numbers this relay declares as its family. */
  readonly family?: readonly number[];
}

/** Relay `n` as a view entry: a descriptor valid at NOW with one address and the given roles. */
export function entry(n: number, spec: EntrySpec): RelayEntry {
  const r = relay(n);
  return {
    peerId: r.peerId,
    receivedAt: NOW,
    standing: {
      ...freshStanding(NOW),
      verifiedSubnets: spec.verified ?? [],
      probeFailures: spec.probeFailures ?? 0,
    },
    signed: r.descriptor({
      roles: Role.relay | (spec.exit ? Role.exit : 0),
      bandwidth: spec.bandwidth ?? 1_000_000,
      addresses: [`/ip4/${spec.ip}/tcp/4950`, ...(spec.moreAddresses ?? [])].map((a) => multiaddr(a).bytes),
      exitPolicy: parseExitPolicy(spec.exitPolicy ?? (spec.exit ? ['accept *:*'] : ['reject *:*'])),
      extensions: familyExtension(r.identity.publicKey, spec.family ?? []),
    }),
  };
}

function familyExtension(own: Uint8Array, members: readonly number[]) {
  const ext = encodeFamily(
    members.map((m) => relay(m).identity.publicKey),
    own,
  );
  return ext === undefined ? [] : [ext];
}

/** mulberry32: a small seeded PRNG, so weighting checks are deterministic. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pathOptions(overrides: Partial<PathOptions> = {}): PathOptions {
  return { hops: 3, selfId: 'self', now: NOW, allowSameSubnet: false, ...overrides };
}
