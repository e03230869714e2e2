// The network an address belongs to, as the unit of "one operator, one place": an IPv4 /16 or an IPv6
// /32 (the granularity Tor uses for path diversity). Path selection keeps the relays of one circuit in
// distinct networks, and the relay view caps how many relays one network may hold.
//
// Keys: "v4:a.b" (the first two octets) and "v6:xxxx:xxxx" (the first 32 bits, four hex digits per
// group). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 network, so it cannot pass for a
// second network. Pure: no I/O.
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { parseIp, unmapIp } from '../wire/host.ts';

export type SubnetKey = string;

/** The key of a relay with no IP address at all (DNS names only): all such relays share it. */
export const UNKNOWN_SUBNET: SubnetKey = 'unknown';

/** The network key of a textual IPv4 or IPv6 address; undefined when it is neither. */
export function subnetOfIp(text: string): SubnetKey | undefined {
  const parsed = parseIp(text, { zone: true });
  if (parsed === undefined) return undefined;
  const { family, bytes } = unmapIp(parsed);
  if (family === 4) return `v4:${bytes[0]}.${bytes[1]}`;
  const hex = (i: number) => (((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16).padStart(4, '0');
  return `v6:${hex(0)}:${hex(2)}`;
}

/** The network of the first ip4/ip6 component of a multiaddr (for /p2p-circuit: the relay's host). */
export function subnetOfMultiaddr(ma: Multiaddr): SubnetKey | undefined {
  for (const c of ma.getComponents()) {
    if ((c.name === 'ip4' || c.name === 'ip6') && c.value !== undefined) return subnetOfIp(c.value);
  }
  return undefined;
}

/**
 * Every network a descriptor's addresses name, deduplicated, in order of first appearance. A relay
 * listing addresses in several networks is in all of them: claiming more networks only constrains it.
 */
export function claimedSubnets(addresses: readonly Uint8Array[]): SubnetKey[] {
  const out = new Set<SubnetKey>();
  for (const bytes of addresses) {
    try {
      const key = subnetOfMultiaddr(multiaddr(bytes));
      if (key !== undefined) out.add(key);
    } catch {
      // an unparseable address names no network
    }
  }
  return [...out];
}
