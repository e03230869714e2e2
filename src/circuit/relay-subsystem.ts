// The relay side: this node's channels (one bound on the cells all of them queue) and the service
// that accepts, extends and forwards other clients' circuits, handing their exit streams to the exit.
// A node without the relay role runs no relay service: it does not even speak the circuit protocol to
// peers that open it (the stream fails at protocol selection), and its own channels to its guards are
// the only ones it has.
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import { dialAddresses, type RelayView } from '../directory/relay-view.ts';
import type { CircuitEconomy } from '../economy/circuit-economy.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import { linkCounters } from './cell-link.ts';
import type { ChannelLimits } from './channel-limits.ts';
import { configureChannels } from './channel-pool.ts';
import { tampererFromEnv } from './fault-injection.ts';
import { type RelayLimits, RelayService, type RelayServiceInit } from './relay-service.ts';

export interface RelaySubsystemOptions {
  /** The relay role: accept other nodes' circuits. */
  readonly acceptCircuits: boolean;
  /** The channels' queues: memory bound, per-circuit queue, scheduling (channel-limits.ts). */
  readonly channels: ChannelLimits;
  readonly limits: Partial<RelayLimits>;
  // A loopback test network: all nodes may share 127.0.0.1, and test-only fault injection may arm.
  readonly allowPrivateAddresses: boolean;
  readonly allowSameSubnet: boolean;
  readonly allowLoopback: boolean;
}

export interface RelayDeps {
  readonly log: Logger;
  readonly host: Libp2p;
  /** This relay's identity key and its onion keys now. */
  readonly keys: {
    readonly identity: { readonly publicKey: Uint8Array };
    onionKeys(): readonly OnionKeyPair[];
  };
  readonly exit: { readonly exit: RelayServiceInit['exit'] };
  readonly view: Pick<RelayView, 'get'>;
  readonly metrics: Pick<Metrics, 'bind'>;
  readonly env?: NodeJS.ProcessEnv;
  /** Link receipts (docs/economy.md); none on a node that follows no ledger. */
  readonly economy?: CircuitEconomy | undefined;
}

/** The part of the node status the relay side owns. */
export interface RelayStatus {
  readonly relayedCircuits: number;
  readonly links: typeof linkCounters;
  /** Cells queued on this node's channels now, and circuits closed for what they queued. */
  readonly cellQueues: {
    readonly bytes: number;
    readonly overflowClosed: number;
    readonly oomClosed: number;
  };
}

export interface RelaySubsystem {
  status(): RelayStatus;
  stop(): Promise<void>;
}

export async function createRelay(opts: RelaySubsystemOptions, deps: RelayDeps): Promise<RelaySubsystem> {
  const { log, view } = deps;
  // Every channel of this node (ours to guards and next hops, and neighbours' to us) queues its
  // circuits' cells under one bound. Set before any channel opens.
  const cellQueues = configureChannels(deps.host, {
    limits: opts.channels,
    log,
  });
  const queueStatus = () => ({
    bytes: cellQueues.bytes,
    overflowClosed: cellQueues.stats.overflowClosed,
    oomClosed: cellQueues.stats.oomClosed,
  });
  if (!opts.acceptCircuits) {
    log.info('client only: no relay service, inbound circuits are refused');
    deps.metrics.bind({
      links: () => linkCounters,
      cellQueues: () => ({ bytes: cellQueues.bytes, ...cellQueues.stats }),
    });
    return {
      status: () => ({ relayedCircuits: 0, links: { ...linkCounters }, cellQueues: queueStatus() }),
      stop: async () => {},
    };
  }
  // Test-only fault injection (fault-injection.ts); refused outside loopback testnets.
  const tamperer = tampererFromEnv(
    deps.env ?? process.env,
    opts.allowPrivateAddresses && opts.allowSameSubnet && opts.allowLoopback,
  );
  if (tamperer) log.warn({}, 'test-only cell fault injection is armed');
  const relayService = new RelayService({
    ...(tamperer ? { tamper: tamperer.tamper } : {}),
    host: deps.host,
    identityKey: deps.keys.identity.publicKey,
    onionKeys: () => deps.keys.onionKeys(),
    exit: deps.exit.exit,
    economy: deps.economy,
    log,
    // On a test network (private addresses allowed) all nodes may share 127.0.0.1: loopback peers
    // are then held to their per-peer share only (ip-group.ts).
    limits: { ...opts.limits, exemptLoopbackFromIpShare: opts.allowPrivateAddresses },
    lookupRelay: (identityKey) => {
      let id: string;
      try {
        id = peerIdFromPublicKey(publicKeyFromRaw(identityKey)).toString();
      } catch {
        return undefined;
      }
      const entry = view.get(id);
      return entry && dialAddresses(entry);
    },
  });
  try {
    await relayService.start();
  } catch (err) {
    tamperer?.stop();
    throw err;
  }
  // Read when /metrics is scraped: the relay's cell path keeps its own counters, no extra work per cell.
  deps.metrics.bind({
    relay: () => ({ ...relayService.stats, circuitsOpen: relayService.circuits.size }),
    links: () => linkCounters,
    cellQueues: () => ({ bytes: cellQueues.bytes, ...cellQueues.stats }),
  });
  return {
    status: () => ({
      relayedCircuits: relayService.circuits.size,
      links: { ...linkCounters },
      cellQueues: queueStatus(),
    }),
    stop: async () => {
      await relayService.stop();
      tamperer?.stop();
    },
  };
}
