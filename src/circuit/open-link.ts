// Opens the libp2p stream that carries one circuit to an adjacent node. A connection we already have
// to that peer is used directly: dialProtocol goes through the dial queue and address checks first,
// which cost several CPU-ms per circuit build on the testnet (docs/performance.md). Optimistic protocol
// selection (`negotiateFully: false`) was measured too and did not help: it is not used.
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { CIRCUIT_PROTOCOL } from './protocol.ts';

/** The libp2p PeerId of a node identity key, or undefined for a key that is not Ed25519. */
export function peerIdOfIdentity(identityKey: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(identityKey));
  } catch {
    return undefined;
  }
}

/** The Ed25519 identity key of a PeerId, or undefined for a peer whose id is of another key type. */
export function identityOfPeer(peer: PeerId): Uint8Array | undefined {
  return peer.type === 'Ed25519' ? peer.publicKey.raw : undefined;
}

export async function openCircuitStream(
  host: Libp2p,
  peer: PeerId | undefined,
  addresses: readonly Multiaddr[],
  signal: AbortSignal,
): Promise<Stream> {
  const options = { signal };
  const conn =
    peer === undefined
      ? undefined
      : host.getConnections(peer).find((c) => c.status === 'open' && c.limits === undefined);
  if (conn !== undefined) return conn.newStream(CIRCUIT_PROTOCOL, options);
  return host.dialProtocol([...addresses], CIRCUIT_PROTOCOL, options);
}
