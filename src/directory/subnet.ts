// The network an address belongs to, as the unit of "one operator, one place": an IPv4 /16 or an IPv6
// /32 (the granularity Tor uses for path diversity). Path selection keeps the relays of one circuit in
// distinct networks, and the relay view caps how many relays one network may hold.
//
// Keys: "v4:a.b" (the first two octets) and "v6:xxxx:xxxx" (the first 32 bits, four hex digits per
// group). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 network, so it cannot pass for a
// second network. Pure: no I/O.
import { isIPv4 } from 'node:net';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';

export type SubnetKey = string;

/** The key of a relay with no IP address at all (DNS names only): all such relays share it. */
export const UNKNOWN_SUBNET: SubnetKey = 'unknown';

/** The network key of a textual IPv4 or IPv6 address; undefined when it is neither. */
export function subnetOfIp(ip: string): SubnetKey | undefined {
  if (isIPv4(ip)) return v4Key(ip);
  const bytes = ipv6Bytes(ip);
  if (bytes === undefined) return undefined;
  if (isV4Mapped(bytes)) return `v4:${bytes[12]}.${bytes[13]}`;
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

function v4Key(ip: string): SubnetKey {
  const [a, b] = ip.split('.');
  return `v4:${Number(a)}.${Number(b)}`;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The 16 bytes of an IPv6 address in text form (RFC 4291 section 2.2, zone ids ignored). */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 45) return undefined;
  const out = new Uint8Array(16);
  // An embedded IPv4 address in the last 32 bits.
  let tailV4: number[] | undefined;
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) >= 0) {
    const v4 = s.slice(lastColon + 1);
    if (!isIPv4(v4)) return undefined;
    tailV4 = v4.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const values: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      values.push(Number.parseInt(g, 16));
    }
    return values;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tailV4 !== undefined) out.set(tailV4, 12);
  return out;
}
