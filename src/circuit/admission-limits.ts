// What one relay lets its neighbours hold and spend on circuits (docs/security.md, section 5): circuit
// slots per neighbour and per address group, CREATE rates, the handshake queue, and the timeouts of
// circuits that carry nothing. Pure values: the config schema takes its defaults from here.

export interface AdmissionLimits {
  /** Circuits this relay carries at most, from all neighbours together. */
  readonly maxCircuits: number;
  /** Circuits one previous-hop peer (by peer id) may hold. */
  readonly maxCircuitsPerPeer: number;
  /** Circuits the peers of one address group (ip-group.ts) may hold together. */
  readonly maxCircuitsPerIp: number;
  /** The prefix that makes an IPv4 address group (32: each address its own). */
  readonly ipv4PrefixBits: number;
  /** The prefix that makes an IPv6 address group (64: one host's usual allocation). */
  readonly ipv6PrefixBits: number;
  /**
   * Loopback peers are held to the per-peer share only (a local testnet runs every node on one
   * address). node.ts sets it from `p2p.allowPrivateAddresses` (a test network); off otherwise.
   */
  readonly exemptLoopbackFromIpShare: boolean;
  /** CREATEs one peer may send a second, sustained (token bucket). */
  readonly createRatePerPeer: number;
  /** CREATEs one peer may send at once after a quiet while. */
  readonly createBurstPerPeer: number;
  /** CREATEs from all peers together a second, sustained. */
  readonly createRateGlobal: number;
  readonly createBurstGlobal: number;
  /** A circuit answered CREATED that carries no RELAY cell from its previous hop this long is closed. */
  readonly unusedCircuitTimeoutMs: number;
  /**
   * A circuit whose previous hop sent no RELAY cell this long is closed. Clients send a DROP cell on
   * a circuit that sent nothing for CIRCUIT_KEEPALIVE_MS (client-circuit.ts): keep this above twice that.
   */
  readonly idleCircuitTimeoutMs: number;
  /** CREATEs waiting for their handshake, from all peers (the queue sheds beyond). */
  readonly handshakeQueueMax: number;
  /** CREATEs of one peer waiting for their handshake. */
  readonly handshakeQueuePerPeer: number;
  /** A CREATE that waited longer than this for its handshake is refused (Tor's MaxOnionQueueDelay). */
  readonly maxQueueDelayMs: number;
  /** Handshake work done per turn of the event loop before relayed cells get their turn. */
  readonly handshakeSliceMs: number;
  /** Circuit channels (streams) one connection may open to this relay at once. */
  readonly maxChannelsPerConnection: number;
}

export const defaultAdmissionLimits: AdmissionLimits = {
  maxCircuits: 2000,
  maxCircuitsPerPeer: 400,
  maxCircuitsPerIp: 600,
  ipv4PrefixBits: 32,
  ipv6PrefixBits: 64,
  exemptLoopbackFromIpShare: false,
  createRatePerPeer: 50,
  createBurstPerPeer: 200,
  createRateGlobal: 400,
  createBurstGlobal: 1000,
  unusedCircuitTimeoutMs: 30_000,
  idleCircuitTimeoutMs: 15 * 60_000,
  handshakeQueueMax: 512,
  handshakeQueuePerPeer: 64,
  maxQueueDelayMs: 1_750,
  handshakeSliceMs: 4,
  maxChannelsPerConnection: 8,
};
