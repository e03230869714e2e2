// The control API: its token, its event feed (bootstrap, circuits, peers; the ledger adds its blocks),
// the bandwidth meter it graphs, and the REST + gRPC server with the dashboard and /metrics.

import { linkCounters } from '../circuit/cell-link.ts';
import type { CircuitManager } from '../circuit/circuit-manager.ts';
import { EventBus } from '../daemon/events.ts';
import type { BootstrapProgress } from '../daemon/progress.ts';
import type { Logger } from '../log/logger.ts';
import { BandwidthMeter } from '../metrics/bandwidth.ts';
import type { Metrics } from '../metrics/registry.ts';
import { CELL_BYTES } from '../wire/cell.ts';
import { registerDashboardRoutes } from './dashboard-route.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import { publishNodeEvents } from './node-events.ts';
import { buildApi } from './server.ts';
import type { ApiSource } from './source.ts';
import { createApiToken } from './token.ts';

export interface ApiFeeds {
  /** The API's bearer token (also in DATA_DIR/api-token). */
  readonly token: string;
  readonly events: EventBus;
  readonly bandwidth: BandwidthMeter;
  /** Samples the bandwidth (called by the maintenance tick, once a second). */
  tick(): void;
  stop(): void;
}

export interface ApiFeedsDeps {
  readonly now: () => number;
  readonly progress: BootstrapProgress;
  readonly circuits: CircuitManager;
  readonly peerCount: () => number;
}

/** What the API serves besides the node's state; made whether or not the API listens. */
export function createApiFeeds(opts: { readonly dataDir: string }, deps: ApiFeedsDeps): ApiFeeds {
  const token = createApiToken(opts.dataDir);
  const events = new EventBus({ now: deps.now });
  const offNodeEvents = publishNodeEvents(events, deps);
  // Every cell on a link is CELL_BYTES long: cells counted are bytes on the wire (before Noise/Yamux).
  const bandwidth = new BandwidthMeter(() => ({
    read: linkCounters.cellsIn * CELL_BYTES,
    written: linkCounters.cellsOut * CELL_BYTES,
  }));
  return {
    token,
    events,
    bandwidth,
    tick: () => bandwidth.sample(deps.now()),
    stop: () => {
      offNodeEvents();
      events.close();
    },
  };
}

export interface ApiServerOptions {
  readonly host: string;
  /** null: no API. */
  readonly port: number | null;
}

export interface ApiServer {
  /** The part of the node status the API owns: where it listens ("host:port"). */
  status(): { readonly api: string | undefined };
  stop(): Promise<void>;
}

export interface ApiServerDeps {
  readonly log: Logger;
  readonly token: string;
  readonly events: EventBus;
  readonly metrics: Metrics;
  /** The node as the API reads it; given the server, whose own address is part of the node's status. */
  readonly source: (server: ApiServer) => ApiSource;
}

const isLoopbackHost = (host: string) =>
  ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.');

export async function createApiServer(opts: ApiServerOptions, deps: ApiServerDeps): Promise<ApiServer> {
  let address: string | undefined;
  let close = async () => {};
  const server: ApiServer = { status: () => ({ api: address }), stop: () => close() };
  if (opts.port === null) return server;
  const app = buildApi(deps.source(server), deps.token, {
    bus: deps.events,
    log: deps.log,
    extraRoutes: (a) => {
      registerMetricsRoute(a, deps.metrics);
      registerDashboardRoutes(a);
    },
  });
  if (!isLoopbackHost(opts.host)) {
    deps.log.warn(
      { host: opts.host },
      'the control API listens on a non-loopback address: anyone who can reach it and has the token controls this node',
    );
  }
  address = await app.listen({ host: opts.host, port: opts.port });
  close = async () => {
    await app.close();
  };
  return server;
}
