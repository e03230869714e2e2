// The address group a neighbour's circuits count against for the relay's per-IP share: the network
// prefix of the IP address of the libp2p connection the circuits arrive on (`connection.remoteAddr`),
// never an address the peer writes about itself. Peer ids cost nothing to make; addresses do, so the
// share per address group is what bounds one attacker with many identities.
//
//   IPv4                 /ipv4PrefixBits (default 32: one address)
//   IPv6                 /ipv6PrefixBits (default 64: one host's usual allocation)
//   IPv4-mapped IPv6     as the IPv4 address it maps
//   loopback (127/8, ::1) one group like any other, unless `exemptLoopback`: then no group at all and
//                        only the per-peer share applies (a local testnet runs every node on 127.0.0.1;
//                        node.ts sets it when the node allows private addresses, i.e. a test network)
//   no IP in the address  no group (a transport without one: only the per-peer share applies)
// A relayed connection (/p2p-circuit) counts against the IP of the relay server it came through: that is
// the connection actually used. Private addresses (10/8, 192.168/16, fc00::/7) are grouped like public
// ones: on a test network in namespaces every node has its own.
import { isIPv4, isIPv6 } from 'node:net';
import type { Multiaddr } from '@multiformats/multiaddr';

export interface IpGroupOptions {
  readonly ipv4PrefixBits: number;
  readonly ipv6PrefixBits: number;
  readonly exemptLoopback: boolean;
}

/** The group of the first IP address in `addr`, or undefined when none applies (see above). */
export function ipGroupOfMultiaddr(addr: Multiaddr, opts: IpGroupOptions): string | undefined {
  for (const c of addr.getComponents()) {
    if ((c.name === 'ip4' || c.name === 'ip6') && c.value !== undefined) return ipGroup(c.value, opts);
  }
  return undefined;
}

/** The group of one textual IP address, or undefined when it is not an address or is exempt. */
export function ipGroup(address: string, opts: IpGroupOptions): string | undefined {
  const bare = address.replace(/%.*$/, '');
  let bytes: Uint8Array | undefined;
  if (isIPv4(bare)) bytes = parseIpv4(bare);
  else if (isIPv6(bare)) bytes = parseIpv6(bare);
  if (bytes === undefined) return undefined;
  if (bytes.length === 16 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (opts.exemptLoopback && isLoopbackBytes(bytes)) return undefined;
  const v4 = bytes.length === 4;
  const bits = clamp(v4 ? opts.ipv4PrefixBits : opts.ipv6PrefixBits, 0, bytes.length * 8);
  const masked = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = clamp(bits - i * 8, 0, 8);
    masked[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${v4 ? '4' : '6'}:${Buffer.from(masked).toString('hex')}/${bits}`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}

function parseIpv4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

/** 16 bytes of a valid IPv6 text address (isIPv6 checked it): "::" expanded, a dotted tail read. */
function parseIpv6(s: string): Uint8Array {
  const groups: number[] = [];
  const words = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const w of part.split(':')) {
      if (w.includes('.')) {
        const [a, b, c, d] = parseIpv4(w);
        out.push((a! << 8) | b!, (c! << 8) | d!);
      } else out.push(Number.parseInt(w, 16));
    }
    return out;
  };
  const gap = s.indexOf('::');
  if (gap < 0) groups.push(...words(s));
  else {
    const head = words(s.slice(0, gap));
    const tail = words(s.slice(gap + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = (groups[i] ?? 0) >> 8;
    bytes[2 * i + 1] = (groups[i] ?? 0) & 0xff;
  }
  return bytes;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function isLoopbackBytes(b: Uint8Array): boolean {
  if (b.length === 4) return b[0] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}
