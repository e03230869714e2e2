// Finding relays and staying connected: the DHT walk and direct descriptor fetches that fill the
// relay view, and the peer keeper that dials bootstrap peers and known relays while too few are up.
import { multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';
import type { DhtClient } from '../p2p/dht-client.ts';
import type { Host } from '../p2p/host.ts';
import { type DialCandidate, PeerKeeper } from '../p2p/peer-keeper.ts';
import { fetchPeerDescriptor } from './descriptor-protocol.ts';
import { RelayDiscovery } from './discovery.ts';
import { dialAddresses, type RelayView } from './relay-view.ts';

export interface DiscoveryOptions {
  readonly walkIntervalMs: number;
  /** The keeper dials while fewer peers than this are connected. */
  readonly minPeers: number;
  /** Multiaddrs (with /p2p/<id>) of the bootstrap peers. */
  readonly bootstrap: readonly string[];
}

export interface DiscoveryDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly host: Host;
  readonly dht: DhtClient;
  readonly view: RelayView;
  /** Told of a first peer: the DHT can take our descriptor now rather than after the back-off. */
  readonly publishing: { readonly published: number; republishSoon(): void };
  readonly progress: { reach(phase: 'peers'): void };
}

/** The part of the node status discovery owns. */
export interface DiscoveryStatus {
  readonly dhtLookups: number;
  readonly directFetches: number;
}

export interface DiscoverySubsystem {
  status(): DiscoveryStatus;
  start(): void;
  stop(): void;
}

/** Bootstrap peers stay dial candidates: libp2p's bootstrap module tries them only once. */
function bootstrapCandidates(addresses: readonly string[], selfId: string): DialCandidate[] {
  return addresses.flatMap((a) => {
    try {
      const ma = multiaddr(a);
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
      return id === undefined || id === selfId ? [] : [{ peerId: id, addresses: [ma] }];
    } catch {
      return [];
    }
  });
}

export function createDiscovery(opts: DiscoveryOptions, deps: DiscoveryDeps): DiscoverySubsystem {
  const { host, view, log, publishing } = deps;
  const selfId = host.peerId.toString();
  const discovery = new RelayDiscovery({
    dht: deps.dht,
    view,
    selfId,
    connectedPeers: () => host.getPeers().map((p) => p.toString()),
    isConnected: (id) =>
      host.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open'),
    fetchDirect: (id, signal) => fetchPeerDescriptor(host, id, signal),
    walkIntervalMs: opts.walkIntervalMs,
    now: deps.now,
    log,
  });
  const bootstrap = bootstrapCandidates(opts.bootstrap, selfId);
  const keeper = new PeerKeeper({
    host,
    minPeers: opts.minPeers,
    log,
    candidates: () => [
      ...bootstrap,
      ...view
        .list()
        .filter((e) => e.peerId !== selfId)
        .map((e) => ({ peerId: e.peerId, addresses: dialAddresses(e) })),
    ],
  });
  const onConnect = (evt: CustomEvent) => {
    if (host.getPeers().length > 0) deps.progress.reach('peers');
    if (publishing.published === 0) publishing.republishSoon();
    discovery.want(String(evt.detail));
    discovery.walkSoon();
  };
  host.addEventListener('peer:connect', onConnect);
  return {
    status: () => ({ dhtLookups: discovery.lookups, directFetches: discovery.direct }),
    start: () => {
      discovery.start();
      keeper.start();
    },
    stop: () => {
      host.removeEventListener('peer:connect', onConnect);
      keeper.stop();
      discovery.stop();
    },
  };
}
