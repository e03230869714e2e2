// The channels this node opened, one per neighbour (src/circuit/channel.ts): circuit builds and
// extends take the open channel to a peer, or open one (concurrent requests share the opening).
// A channel that carries no circuit for IDLE_MS closes. One pool per libp2p host.
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { CellLink } from './cell-link.ts';
import { Channel, type ChannelCircuit } from './channel.ts';
import { randomCircuitId } from './client-circuit.ts';
import { openCircuitStream } from './open-link.ts';

export const CHANNEL_IDLE_MS = 60_000;

export class ChannelPool {
  readonly #host: Libp2p;
  readonly #channels = new Map<string, Channel>();
  readonly #opening = new Map<string, Promise<Channel>>();

  constructor(host: Libp2p) {
    this.#host = host;
  }

  /** A new circuit on the channel to `peer`, opening the channel if there is none. */
  async attach(
    peer: PeerId | undefined,
    addresses: readonly Multiaddr[],
    signal: AbortSignal,
  ): Promise<ChannelCircuit> {
    const channel = await this.#channel(peer, addresses, signal);
    signal.throwIfAborted();
    for (;;) {
      const id = randomCircuitId();
      if (!channel.has(id)) return channel.attach(id);
    }
  }

  async #channel(
    peer: PeerId | undefined,
    addresses: readonly Multiaddr[],
    signal: AbortSignal,
  ): Promise<Channel> {
    const key = peer?.toString() ?? addresses.map((a) => a.toString()).join(' ');
    const open = this.#channels.get(key);
    if (open !== undefined && !open.closed) return open;
    let opening = this.#opening.get(key);
    if (opening === undefined) {
      opening = openCircuitStream(this.#host, peer, addresses, signal).then((stream) => {
        const channel = new Channel(new CellLink(stream), CHANNEL_IDLE_MS);
        this.#channels.set(key, channel);
        channel.onClose = () => {
          if (this.#channels.get(key) === channel) this.#channels.delete(key);
        };
        return channel;
      });
      this.#opening.set(key, opening);
      const forget = () => this.#opening.delete(key);
      opening.then(forget, forget);
    }
    return opening;
  }
}

const pools = new WeakMap<Libp2p, ChannelPool>();

/** The pool of `host` (created on first use). */
export function channelPool(host: Libp2p): ChannelPool {
  let pool = pools.get(host);
  if (pool === undefined) {
    pool = new ChannelPool(host);
    pools.set(host, pool);
  }
  return pool;
}
