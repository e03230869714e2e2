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
 * Dials `peerId` at exactly `addresses` (as its descriptor lists them) and answers the network of the
 * connection, or undefined. The connection stays: libp2p reuses it for anything else bound for that
 * peer (a circuit extended to it may already be on it), and the connection manager prunes it when
 * connections run over p2p.maxPeers.
 */
export async function probeRelay(
  host: Pick<Libp2p, 'dial'>,
  peerId: string,
  addresses: Multiaddr[],
  signal: AbortSignal,
): Promise<SubnetKey | undefined> {
  if (addresses.length === 0) return undefined;
  const conn = await host.dial(addresses, { signal });
  if (conn.remotePeer.toString() !== peerId) {
    await conn.close().catch(() => {});
    return undefined;
  }
  return directSubnet([conn]);
}
