// Where a relay really is: the remote address of a direct libp2p connection with it. Noise binds the
// connection to the relay's peer id, and TCP/QUIC to the remote address, so this is first-hand; a
// relayed (circuit-relay-v2, "limited") connection says nothing about the relay's own address.
import type { Connection, Libp2p } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { type SubnetKey, subnetOfMultiaddr } from './subnet.ts';

/** The network of the first open, direct connection among `conns`. */
export function directSubnet(conns: readonly Connection[]): SubnetKey | undefined {
  for (const c of conns) {
    if (c.status !== 'open' || c.limits !== undefined) continue;
    if (c.remoteAddr.getComponents().some((x) => x.name === 'p2p-circuit')) continue;
    const subnet = subnetOfMultiaddr(c.remoteAddr);
    if (subnet !== undefined) return subnet;
  }
  return undefined;
}

/**
 * Streams that libp2p opens by itself on every new connection (identify, pings; '' is one still
 * negotiating, which right after our dial is identify's): a probe's own connection carries only these.
 */
const HOUSEKEEPING = ['/ipfs/id/', '/ipfs/ping/'];
const isHousekeeping = (protocol: string | undefined) =>
  protocol === undefined || protocol === '' || HOUSEKEEPING.some((p) => protocol.startsWith(p));

/**
 * Dials `peerId` at exactly `addresses` (as its descriptor lists them) and answers the network of the
 * connection, or undefined. A connection opened only for the probe is closed again.
 */
export async function probeRelay(
  host: Pick<Libp2p, 'dial' | 'getConnections'>,
  peerId: string,
  addresses: Multiaddr[],
  signal: AbortSignal,
): Promise<SubnetKey | undefined> {
  if (addresses.length === 0) return undefined;
  const had = host.getConnections().some((c) => c.remotePeer.toString() === peerId);
  const conn = await host.dial(addresses, { signal });
  if (conn.remotePeer.toString() !== peerId) {
    await conn.close().catch(() => {});
    return undefined;
  }
  const subnet = directSubnet([conn]);
  const idle = conn.streams.every((s) => isHousekeeping(s.protocol));
  if (!had && idle) await conn.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {});
  return subnet;
}
