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
import type { Multiaddr } from '@multiformats/multiaddr';
import { isLoopback, maskPrefix, parseIp, unmapIp } from '../wire/host.ts';

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
  const parsed = parseIp(address, { zone: true });
  if (parsed === undefined) return undefined;
  const ip = unmapIp(parsed);
  if (opts.exemptLoopback && isLoopback(ip)) return undefined;
  const v4 = ip.family === 4;
  const bits = clamp(v4 ? opts.ipv4PrefixBits : opts.ipv6PrefixBits, 0, ip.bytes.length * 8);
  return `${v4 ? '4' : '6'}:${Buffer.from(maskPrefix(ip.bytes, bits)).toString('hex')}/${bits}`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}
