// The libp2p host: transports, connection limits, the DHT with the record rules the layers above give.
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { Metrics } from '../metrics/registry.ts';
import { type DhtClient, dhtClient } from './dht-client.ts';
import { createHost, type Host, type HostInit } from './host.ts';
import { DHT_PROTOCOL, type P2pOptions } from './options.ts';

export type P2pSubsystemOptions = Omit<P2pOptions, 'dhtProtocol'> & {
  readonly agentVersion: string;
  /** Query the DHT without serving it (a client-only node: host.ts). */
  readonly dhtClientMode: boolean;
};

export interface P2pDeps {
  readonly log: Logger;
  readonly identitySeed: Uint8Array;
  readonly records: Pick<HostInit, 'validators' | 'selectors'>;
  readonly metrics: Metrics;
  readonly progress: { reach(phase: 'listening'): void };
}

/** The part of the node status the host owns. */
export interface P2pStatus {
  readonly peers: number;
  readonly listen: readonly string[];
  /** Connections open and refused or pruned, by refusal code (connection-limits.ts). */
  readonly connections: { readonly open: number; readonly refused: Record<string, number> };
}

export interface P2pSubsystem {
  readonly host: Host;
  readonly peerId: string;
  readonly dht: DhtClient;
  status(): P2pStatus;
  stop(): Promise<void>;
}

export async function createP2p(opts: P2pSubsystemOptions, deps: P2pDeps): Promise<P2pSubsystem> {
  const { agentVersion, dhtClientMode, ...options } = opts;
  const refusals = new RefusalLog(deps.log);
  const host = await createHost({
    refusals,
    identitySeed: deps.identitySeed,
    options: { ...options, dhtProtocol: DHT_PROTOCOL },
    ...deps.records,
    agentVersion,
    dhtClientMode,
  });
  deps.log.info({ listening: host.getMultiaddrs().length }, 'listening');
  deps.progress.reach('listening');
  deps.metrics.bind({ peersConnected: () => host.getPeers().length });
  return {
    host,
    peerId: host.peerId.toString(),
    dht: dhtClient(host.services.dht, deps.metrics),
    status: () => ({
      peers: host.getPeers().length,
      listen: host.getMultiaddrs().map(String),
      connections: { open: host.getConnections().length, refused: Object.fromEntries(refusals.counts) },
    }),
    stop: async () => {
      await host.stop();
    },
  };
}
