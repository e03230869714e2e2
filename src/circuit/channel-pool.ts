// The channels of one node (src/circuit/channel.ts): those it opened, one per neighbour, which circuit
// builds and extends take (or open: concurrent requests share the opening), and those neighbours
// opened to it (the relay service's). A channel we opened that carries no circuit for IDLE_MS closes.
// All of them count their queued cells against one QueueMemory, the node's bound (cell-queue.ts).
// One pool per libp2p host.
import { randomBytes } from 'node:crypto';
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { CircuitId } from '../wire/cell.ts';
import { CellLink } from './cell-link.ts';
import { QueueMemory } from './cell-queue.ts';
import { Channel, type ChannelCircuit } from './channel.ts';
import { type ChannelLimits, defaultChannelLimits } from './channel-limits.ts';
import { openCircuitStream } from './open-link.ts';

export const CHANNEL_IDLE_MS = 60_000;

/** A random circuit id for a circuit we open (0 is not a circuit id). */
export function randomCircuitId(): CircuitId {
  for (;;) {
    const id = randomBytes(4).readUInt32BE(0);
    if (id !== 0) return id as CircuitId;
  }
}

export class ChannelPool {
  readonly #host: Libp2p;
  readonly #channels = new Map<string, Channel>();
  readonly #opening = new Map<string, Promise<Channel>>();
  #memory: QueueMemory;

  constructor(host: Libp2p, memory: QueueMemory = new QueueMemory()) {
    this.#host = host;
    this.#memory = memory;
  }

  /** The node's queued cells: bound, limits, out-of-memory policy, totals. */
  get memory(): QueueMemory {
    return this.#memory;
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

  /** A channel a neighbour opened to us (its circuits start with its CREATEs). */
  accept(stream: Stream): Channel {
    return new Channel(new CellLink(stream), { memory: this.#memory });
  }

  /** @internal configureChannels */
  setMemory(memory: QueueMemory): void {
    this.#memory = memory;
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
        const channel = new Channel(new CellLink(stream), { memory: this.#memory, idleMs: CHANNEL_IDLE_MS });
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

/** The pool of `host` (created on first use, with default limits unless configureChannels ran). */
export function channelPool(host: Libp2p): ChannelPool {
  let pool = pools.get(host);
  if (pool === undefined) {
    pool = new ChannelPool(host);
    pools.set(host, pool);
  }
  return pool;
}

export interface ChannelsInit {
  readonly limits?: ChannelLimits;
  /** Where the refusals of the channel layer (queue limits, out-of-memory policy) are logged. */
  readonly log?: Logger;
}

/**
 * Sets the limits of `host`'s channels and returns the node's QueueMemory. Call before the node opens
 * or accepts any channel (the composition root does, before the relay service starts).
 */
export function configureChannels(host: Libp2p, init: ChannelsInit): QueueMemory {
  const memory = new QueueMemory(
    init.limits ?? defaultChannelLimits,
    init.log === undefined ? undefined : new RefusalLog(init.log),
  );
  channelPool(host).setMemory(memory);
  return memory;
}
