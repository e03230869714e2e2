// Builds the libp2p host: transports, encryption, muxing, identify, ping, the private Kademlia DHT and
// NAT traversal. The only place that knows which libp2p modules AnonNet uses.
import { noise } from '@chainsafe/libp2p-noise';
import { quic } from '@chainsafe/libp2p-quic';
import { yamux } from '@chainsafe/libp2p-yamux';
import { autoNAT } from '@libp2p/autonat';
import { bootstrap } from '@libp2p/bootstrap';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { dcutr } from '@libp2p/dcutr';
import { identify } from '@libp2p/identify';
import type { Libp2p, ServiceMap } from '@libp2p/interface';
import {
  type KadDHT,
  kadDHT,
  passthroughMapper,
  removePrivateAddressesMapper,
  type SelectFn,
  type ValidateFn,
} from '@libp2p/kad-dht';
import { type Ping, ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { uPnPNAT } from '@libp2p/upnp-nat';
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import { createLogger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import { ConnectionGuard } from './connection-limits.ts';
import { startPruner } from './connection-pruner.ts';
import { noiseCrypto } from './noise-crypto.ts';
import type { P2pOptions } from './options.ts';
import { quicTransportOptions } from './quic-options.ts';

export interface HostServices extends ServiceMap {
  dht: KadDHT;
  ping: Ping;
}

export type Host = Libp2p<HostServices>;

export interface HostInit {
  /** 32-byte Ed25519 seed: the node identity is also its libp2p PeerId. */
  readonly identitySeed: Uint8Array;
  readonly options: P2pOptions;
  /** DHT record validators and selectors by key namespace (`/<namespace>/...`). */
  readonly validators: Record<string, ValidateFn>;
  readonly selectors: Record<string, SelectFn>;
  readonly agentVersion: string;
  /**
   * Query the DHT without serving it: the node does not speak the DHT protocol to others, so it enters
   * no routing table, stores no records and answers no lookups (a client-only node; default false).
   */
  readonly dhtClientMode?: boolean;
  /** Where connection refusals are counted and logged (a silent one when absent). */
  readonly refusals?: RefusalLog;
}

export async function createHost(init: HostInit): Promise<Host> {
  const { options } = init;
  const privateKey = await generateKeyPairFromSeed('Ed25519', init.identitySeed);

  const transports: NonNullable<Libp2pOptions['transports']> = [];
  for (const t of options.transports) {
    if (t === 'tcp') transports.push(tcp());
    if (t === 'quic') transports.push(quic(quicTransportOptions));
  }
  if (options.nat.relayClient) transports.push(circuitRelayTransport());

  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = [];
  if (options.bootstrap.length > 0)
    peerDiscovery.push(bootstrap({ list: [...options.bootstrap], timeout: 0 }));

  type Factories = NonNullable<Libp2pOptions<HostServices>['services']>;
  const services: Record<string, Factories[string]> = {
    identify: identify(),
    // libp2p's connection monitor pings every connection each 10 s and aborts the connection (and every
    // circuit on it) when a ping fails. On a busy machine one ping can still be open when the next
    // starts, and ping's default of one outbound stream (two inbound) turned that into a failure.
    ping: ping({ maxOutboundStreams: 4, maxInboundStreams: 8 }),
    dht: kadDHT({
      protocol: options.dhtProtocol,
      clientMode: init.dhtClientMode ?? false,
      validators: init.validators,
      selectors: init.selectors,
      peerInfoMapper: options.allowPrivateAddresses ? passthroughMapper : removePrivateAddressesMapper,
      // A fresh network has few peers: let the first node answer queries alone.
      allowQueryWithZeroPeers: true,
      initialQuerySelfInterval: 200,
    }),
  };
  if (options.nat.autonat) services['autonat'] = autoNAT();
  if (options.nat.dcutr) services['dcutr'] = dcutr();
  if (options.nat.relayServer) services['relay'] = circuitRelayServer();
  if (options.nat.upnp) services['upnp'] = uPnPNAT();

  const refusals = init.refusals ?? new RefusalLog(createLogger({ level: 'silent' }));
  const host = await createLibp2p({
    privateKey,
    addresses: { listen: [...options.listen] },
    transports,
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: {
      maxConnections: options.maxConnections,
      maxIncomingPendingConnections: options.maxPendingConnections,
      inboundConnectionThreshold: options.inboundPerHostPerSecond,
    },
    // Per-peer and per-IP caps (libp2p has neither): connection-limits.ts.
    connectionGater: new ConnectionGuard(options, refusals),
    nodeInfo: { userAgent: init.agentVersion },
    services: services as Factories,
  });
  // Room for new peers once the node is nearly full (connection-pruner.ts); it ends with the host.
  const stopPruner = startPruner(host, { maxConnections: options.maxConnections }, refusals);
  host.addEventListener('stop', stopPruner, { once: true });
  return host as unknown as Host;
}
