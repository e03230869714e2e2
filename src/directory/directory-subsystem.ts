// The relay view and what keeps it honest: its store on disk, the direct connections that verify a
// relay's network, and the prober that checks relays this node has not met.
import { join } from 'node:path';
import type { Connection, Libp2p } from '@libp2p/interface';
import type { Logger } from '../log/logger.ts';
import { redactId } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import { directSubnet, probeRelay } from './probe-dial.ts';
import { RelayProber } from './prober.ts';
import { RelayView, type VerifyFn } from './relay-view.ts';
import { RelayViewStore } from './relay-view-store.ts';

export interface DirectoryOptions {
  readonly dataDir: string;
  /** The file of the view's store, inside dataDir. */
  readonly storeFile: string;
  readonly maxRelays: number;
  readonly maxRelaysPerSubnet: number;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly probeRetryBaseMs: number;
}

export interface DirectoryDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly host: Libp2p;
  readonly verify: VerifyFn;
  readonly metrics: Pick<Metrics, 'bind'>;
}

/** The part of the node status the relay view owns. */
export interface DirectoryStatus {
  readonly relaysKnown: number;
  readonly relays: readonly string[];
  readonly refusals: Record<string, number>;
  /** Relays that lost their place in the view to a higher-ranked one, by bound; probes made. */
  readonly relayView: {
    readonly evictions: Record<string, number>;
    readonly probes: number;
    readonly probeFailures: number;
  };
}

export interface DirectorySubsystem {
  readonly view: RelayView;
  /** Drops expired descriptors (called by the maintenance tick). */
  tick(): void;
  status(): DirectoryStatus;
  start(): void;
  stop(): void;
}

/** The relay view over its store, restored from disk. */
function openView(opts: DirectoryOptions, deps: DirectoryDeps, store: RelayViewStore): RelayView {
  const { host, log } = deps;
  // The relay view ranks relays by what this node saw of them (relay-view.ts): a direct connection
  // verifies a relay's network, a circuit through it shows it works.
  const view = new RelayView({
    verify: deps.verify,
    now: deps.now,
    store,
    log,
    selfId: host.peerId.toString(),
    limits: { maxRelays: opts.maxRelays, maxPerSubnet: opts.maxRelaysPerSubnet },
    connectedSubnet: (id) =>
      directSubnet(host.getConnections().filter((c) => c.remotePeer.toString() === id)),
  });
  const restored = view.load();
  if (restored > 0) log.info({ relays: restored }, 'relay view restored from disk');
  return view;
}

export function createDirectory(opts: DirectoryOptions, deps: DirectoryDeps): DirectorySubsystem {
  const { log, now, host } = deps;
  const selfId = host.peerId.toString();
  const store = new RelayViewStore(join(opts.dataDir, opts.storeFile));
  let view: RelayView;
  try {
    view = openView(opts, deps, store);
  } catch (err) {
    store.close();
    throw err;
  }
  const onConnectionOpen = (evt: CustomEvent<Connection>) => {
    const subnet = directSubnet([evt.detail]);
    if (subnet !== undefined) view.markConnected(evt.detail.remotePeer.toString(), subnet);
  };
  host.addEventListener('connection:open', onConnectionOpen);
  const prober = new RelayProber({
    view,
    selfId,
    now,
    log,
    options: {
      intervalMs: opts.probeIntervalMs,
      timeoutMs: opts.probeTimeoutMs,
      retryBaseMs: opts.probeRetryBaseMs,
    },
    probe: (id, addresses, signal) => probeRelay(host, id, addresses, signal),
  });
  deps.metrics.bind({ relaysKnown: () => view.size });
  return {
    view,
    tick: () => {
      const gone = view.sweep();
      if (gone.length > 0)
        log.info({ expired: gone.length, peer: gone.map(redactId) }, 'relay descriptors expired');
    },
    status: () => ({
      relaysKnown: view.size,
      relays: view.list().map((e) => e.peerId),
      refusals: Object.fromEntries(view.refusals),
      relayView: {
        evictions: Object.fromEntries(view.evictions),
        probes: prober.probes,
        probeFailures: prober.failed,
      },
    }),
    start: () => prober.start(),
    stop: () => {
      prober.stop();
      host.removeEventListener('connection:open', onConnectionOpen);
      store.close();
    },
  };
}
