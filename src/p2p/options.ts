// Options of the peer-to-peer layer, with defaults. CLI flags and the config file mirror these.
import { type ConnectionLimits, defaultConnectionLimits } from './connection-limits.ts';

export type Transport = 'tcp' | 'quic';

export interface P2pOptions extends ConnectionLimits {
  /** Multiaddrs to listen on; empty means "pick from listenHost/ports". */
  readonly listen: readonly string[];
  /** Multiaddrs (with /p2p/<id>) of peers to bootstrap from. */
  readonly bootstrap: readonly string[];
  /** Transports, in order of preference for dialing. TCP first: see docs/transports.md. */
  readonly transports: readonly Transport[];
  /**
   * The peer keeper dials known relays while fewer than this many are connected. Connections accepted
   * are another number (maxConnections, with per-peer and per-IP caps: connection-limits.ts).
   */
  readonly minPeers: number;
  /** Keep private and loopback addresses in DHT answers (a local test network needs this). */
  readonly allowPrivateAddresses: boolean;
  /** New inbound connections accepted per remote host per second. */
  readonly inboundPerHostPerSecond: number;
  /** libp2p NAT traversal. */
  readonly nat: {
    readonly autonat: boolean;
    readonly dcutr: boolean;
    /** Use circuit-relay-v2 relays when we are unreachable. */
    readonly relayClient: boolean;
    /** Serve as a circuit-relay-v2 relay for unreachable peers. */
    readonly relayServer: boolean;
    /** UPnP/NAT-PMP port mapping: sends SSDP multicast on the LAN, off in local test networks. */
    readonly upnp: boolean;
  };
  /** Private DHT protocol prefix: never the public IPFS DHT. */
  readonly dhtProtocol: string;
}

export const DHT_PROTOCOL = '/anonnet/kad/1.0.0';

export const defaultP2pOptions: P2pOptions = {
  listen: ['/ip4/0.0.0.0/tcp/4950', '/ip4/0.0.0.0/udp/4950/quic-v1'],
  bootstrap: [],
  transports: ['tcp', 'quic'],
  minPeers: 20,
  ...defaultConnectionLimits,
  allowPrivateAddresses: false,
  inboundPerHostPerSecond: 5,
  nat: { autonat: true, dcutr: true, relayClient: true, relayServer: true, upnp: true },
  dhtProtocol: DHT_PROTOCOL,
};
