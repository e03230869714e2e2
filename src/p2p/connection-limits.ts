// Connections a node accepts. libp2p's connection manager bounds the total (maxConnections) and the
// inbound handshakes in progress (maxIncomingPendingConnections); it lets one peer hold any number of
// connections and one address open as many as the total allows, so 40 connections from one identity
// locked a relay out of new peers. ConnectionGuard, a libp2p ConnectionGater, adds:
//   - per peer: at most maxConnectionsPerPeer connections, both directions (checked once the peer is
//     authenticated, after the Noise handshake);
//   - per IP address (IPv4 address, IPv6 /64): at most maxConnectionsPerIp inbound connections,
//     handshakes included, of which at most maxPendingConnectionsPerIp still in their handshake.
// Connections arriving through a circuit-relay have the relay's address: they count per peer only.
// Loopback and private addresses are counted like any other: a local test network, whose nodes all
// share 127.0.0.1, raises the per-IP caps for its size (src/cli/testnet-command.ts).

import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface';
import { getNetConfig, isNetworkAddress } from '@libp2p/utils';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { RefusalLog } from '../log/refusals.ts';
import { formatIPv4, parseIp, unmapIp } from '../wire/host.ts';

export interface ConnectionLimits {
  /** Connections (both directions) the node holds at most; libp2p refuses inbound ones past it. */
  readonly maxConnections: number;
  /** Inbound handshakes in progress, the whole node. */
  readonly maxPendingConnections: number;
  /** Connections one peer identity may hold, both directions. */
  readonly maxConnectionsPerPeer: number;
  /** Inbound connections from one IP address (IPv6: one /64), handshakes included... */
  readonly maxConnectionsPerIp: number;
  /** ...of which this many may still be in their handshake. */
  readonly maxPendingConnectionsPerIp: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  maxConnections: 512,
  maxPendingConnections: 64,
  maxConnectionsPerPeer: 4,
  maxConnectionsPerIp: 32,
  maxPendingConnectionsPerIp: 8,
};

const GONE = new Set(['closed', 'aborted', 'reset']);

/** What per-IP counting keys an address by: the IPv4 address, or the /64 of an IPv6 address. */
export function ipKey(host: string): string {
  const parsed = parseIp(host, { zone: true });
  if (parsed === undefined) return host;
  const ip = unmapIp(parsed);
  if (ip.family === 4) return formatIPv4(ip.bytes);
  const groups = [0, 2, 4, 6].map((i) => (((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0)).toString(16));
  return `${groups.join(':')}::/64`;
}

/** The per-IP key of a remote address, or undefined when it has none of its own (a relayed connection). */
export function remoteIpKey(addr: Multiaddr): string | undefined {
  if (addr.getComponents().some((c) => c.name === 'p2p-circuit')) return undefined;
  if (!isNetworkAddress(addr)) return undefined;
  const cfg = getNetConfig(addr);
  return cfg.type === 'ip4' || cfg.type === 'ip6' ? ipKey(cfg.host) : undefined;
}

/** Live connections per key; a connection leaves its set when it closes. */
class Tally {
  readonly #sets = new Map<string, Set<MultiaddrConnection>>();

  count(key: string): number {
    const set = this.#sets.get(key);
    if (set === undefined) return 0;
    for (const c of set) if (GONE.has(c.status)) set.delete(c);
    if (set.size === 0) this.#sets.delete(key);
    return set.size;
  }

  add(key: string, conn: MultiaddrConnection): void {
    let set = this.#sets.get(key);
    if (set === undefined) {
      set = new Set();
      this.#sets.set(key, set);
    }
    if (set.has(conn)) return;
    set.add(conn);
    conn.addEventListener('close', () => this.remove(key, conn), { once: true });
  }

  remove(key: string, conn: MultiaddrConnection): void {
    const set = this.#sets.get(key);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.#sets.delete(key);
  }

  get keys(): number {
    return this.#sets.size;
  }
}

export class ConnectionGuard implements ConnectionGater {
  readonly #limits: ConnectionLimits;
  readonly #refusals: RefusalLog;
  readonly #byIp = new Tally();
  readonly #pendingByIp = new Tally();
  readonly #byPeer = new Tally();

  constructor(limits: ConnectionLimits, refusals: RefusalLog) {
    this.#limits = limits;
    this.#refusals = refusals;
  }

  /** Inbound connections (and handshakes) from the IP of `addr` now. */
  inboundFrom(addr: Multiaddr): number {
    const key = remoteIpKey(addr);
    return key === undefined ? 0 : this.#byIp.count(key);
  }

  /** Connections `peer` holds now, both directions. */
  connectionsOf(peer: PeerId): number {
    return this.#byPeer.count(peer.toString());
  }

  denyInboundConnection = (maConn: MultiaddrConnection): boolean => {
    const key = remoteIpKey(maConn.remoteAddr);
    if (key === undefined) return false;
    if (this.#byIp.count(key) >= this.#limits.maxConnectionsPerIp) {
      this.#refusals.refuse(
        'P2P_IP_CONNECTIONS',
        'refused a connection: one address holds p2p.maxConnectionsPerIp connections',
      );
      return true;
    }
    if (this.#pendingByIp.count(key) >= this.#limits.maxPendingConnectionsPerIp) {
      this.#refusals.refuse(
        'P2P_IP_HANDSHAKES',
        'refused a connection: one address has p2p.maxPendingConnectionsPerIp handshakes in progress',
      );
      return true;
    }
    this.#byIp.add(key, maConn);
    this.#pendingByIp.add(key, maConn);
    return false;
  };

  denyInboundEncryptedConnection = (peer: PeerId, maConn: MultiaddrConnection): boolean => {
    const id = peer.toString();
    if (this.#byPeer.count(id) >= this.#limits.maxConnectionsPerPeer) {
      this.#refusals.refuse(
        'P2P_PEER_CONNECTIONS',
        'refused a connection: one peer holds p2p.maxConnectionsPerPeer connections',
      );
      return true;
    }
    this.#byPeer.add(id, maConn);
    return false;
  };

  denyInboundUpgradedConnection = (_peer: PeerId, maConn: MultiaddrConnection): boolean => {
    const key = remoteIpKey(maConn.remoteAddr);
    if (key !== undefined) this.#pendingByIp.remove(key, maConn);
    return false;
  };

  denyOutboundEncryptedConnection = (peer: PeerId, maConn: MultiaddrConnection): boolean => {
    // Our own dials are not refused; they count towards the peer's connections.
    this.#byPeer.add(peer.toString(), maConn);
    return false;
  };
}
