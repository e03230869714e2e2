// One typed Prometheus registry for the daemon: every metric is defined here, once, with its unit in its
// name. Components take an optional `metrics?` and count events (`metrics?.circuits.built.inc()`);
// totals that already exist elsewhere (relay stats, link counters, the open circuits) are read at
// scrape time through `bind`, so the relay's cell path does no extra work per cell.
// No label ever names a peer, relay, circuit or destination: such labels leak who talks to whom and
// grow without bound. The labels used are closed sets (see LABEL_VALUES).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every label this registry defines, with its closed set of values. */
export const LABEL_VALUES = {
  op: ['get', 'put', 'walk'],
  direction: ['in', 'out'],
} as const;

export type DhtOp = (typeof LABEL_VALUES.op)[number];

/** Totals read at scrape time; each source is optional (a node without a relay side has none). */
export interface MetricSources {
  /** Client circuits that are open now. */
  circuitsOpen(): number;
  /** Client streams open now, over all circuits. */
  streamsOpen(): number;
  peersConnected(): number;
  relaysKnown(): number;
  bootstrapPercent(): number;
  /** The relay side's running totals (RelayService.stats) and its circuits open now. */
  relay(): {
    readonly circuitsOpen: number;
    readonly circuitsCreated: number;
    readonly circuitsRefused: number;
    readonly cellsRelayed: number;
    readonly bytesRelayed: number;
    readonly integrityFailures: number;
  };
  /** Process-wide cell-link totals (cell-link.ts `linkCounters`). */
  links(): { readonly cellsIn: number; readonly cellsOut: number };
  /** Cells queued on the node's channels (cell-queue.ts QueueMemory) and circuits closed for them. */
  cellQueues(): { readonly bytes: number; readonly overflowClosed: number; readonly oomClosed: number };
  /** The economy's running totals (economy/economy-subsystem.ts). */
  economy(): EconomyTotals;
}

/** What the economy has done since start (docs/economy.md). */
export interface EconomyTotals {
  readonly receiptsSigned: number;
  readonly receiptsAccepted: number;
  readonly receiptsRefused: number;
  readonly claimsSubmitted: number;
  readonly claimsRefused: number;
  readonly auditsAnswered: number;
  readonly auditsPassed: number;
  readonly auditsFailed: number;
  readonly measurements: number;
  /** Claims the ledger penalised (any relay's), seen at the epoch ends this node followed. */
  readonly penalties: number;
}

export const CIRCUIT_BUILD_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
export const BLOCK_INTERVAL_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop, handles); on by default. */
  readonly processMetrics?: boolean;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  let sources: Partial<MetricSources> = {};
  const def = definer(registry, () => sources);
  const metrics = {
    registry,
    circuits: circuitMetrics(def),
    streams: streamMetrics(def),
    relay: relayMetrics(def),
    cellQueues: cellQueueMetrics(def),
    links: linkMetrics(def),
    dht: dhtMetrics(def),
    peers: peerMetrics(def),
    bootstrap: {
      percent: def.gauge('anonnet_bootstrap_percent', 'Bootstrap progress, 0 to 100.', (s) =>
        s.bootstrapPercent?.(),
      ),
    },
    ledger: ledgerMetrics(def),
    economy: economyMetrics(def),
    /** Tells the registry where to read the totals it reports at scrape time (replaces earlier ones). */
    bind(next: Partial<MetricSources>): void {
      sources = { ...sources, ...next };
    },
  };
  // Labelled series exist from the start (at 0), so rates and alerts see them before the first event.
  for (const op of LABEL_VALUES.op) {
    metrics.dht.lookups.inc({ op }, 0);
    metrics.dht.failures.inc({ op }, 0);
  }
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return metrics;
}

type Read = (s: Partial<MetricSources>) => number | undefined;

/** The helpers each group of metrics is defined with: one registry, scrape-time reads of the bound sources. */
function definer(registry: Registry, sources: () => Partial<MetricSources>) {
  const registers = [registry];

  /** Grows `counter` by the increase of a running total kept elsewhere, read at scrape time. */
  const mirror = <L extends string>(read: Read, labels: Partial<Record<L, string>> = {}) => {
    let seen = 0;
    return (counter: Counter<L>) => {
      const now = read(sources());
      if (now === undefined) return;
      // A source rebound (or restarted) below what we saw: count from its new base.
      if (now < seen) seen = 0;
      if (now > seen) counter.inc(labels, now - seen);
      seen = now;
    };
  };

  return {
    registers,
    mirror,
    /** A gauge set at scrape time from a source (0 when the source is not bound). */
    gauge: (name: string, help: string, read: Read) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(sources()) ?? 0);
        },
      }),
    /** A counter with no labels whose value mirrors a running total kept elsewhere. */
    mirrored: (name: string, help: string, read: Read) => {
      const update = mirror(read);
      return new Counter({
        name,
        help,
        registers,
        collect() {
          update(this);
        },
      });
    },
  };
}

type Definer = ReturnType<typeof definer>;

function circuitMetrics({ registers, gauge }: Definer) {
  return {
    open: gauge('anonnet_circuits_open', 'Client circuits open now.', (s) => s.circuitsOpen?.()),
    built: new Counter({
      name: 'anonnet_circuits_built_total',
      help: 'Client circuits built (every hop extended).',
      registers,
    }),
    failed: new Counter({
      name: 'anonnet_circuits_failed_total',
      help: 'Client circuit build attempts that failed (timeout, refusal, unreachable hop).',
      registers,
    }),
    closed: new Counter({
      name: 'anonnet_circuits_closed_total',
      help: 'Client circuits closed (retired, destroyed or failed after being built).',
      registers,
    }),
    buildSeconds: new Histogram({
      name: 'anonnet_circuit_build_seconds',
      help: 'Time to build one client circuit, CREATE to the last EXTENDED.',
      buckets: CIRCUIT_BUILD_BUCKETS_SECONDS,
      registers,
    }),
  };
}

function streamMetrics({ registers, gauge }: Definer) {
  return {
    open: gauge('anonnet_streams_open', 'Client streams open now.', (s) => s.streamsOpen?.()),
    opened: new Counter({
      name: 'anonnet_streams_opened_total',
      help: 'Client streams the exit accepted (CONNECTED).',
      registers,
    }),
  };
}

/** The relay side: totals kept by RelayService, read at scrape time. */
function relayMetrics({ gauge, mirrored }: Definer) {
  return {
    circuitsOpen: gauge(
      'anonnet_relay_circuits_open',
      'Circuits this relay carries now.',
      (s) => s.relay?.().circuitsOpen,
    ),
    circuitsCreated: mirrored(
      'anonnet_relay_circuits_created_total',
      'Circuits this relay accepted (CREATE answered).',
      (s) => s.relay?.().circuitsCreated,
    ),
    circuitsRefused: mirrored(
      'anonnet_relay_circuits_refused_total',
      'CREATEs this relay refused (circuit limit, a peer or address share, a CREATE rate, the handshake queue).',
      (s) => s.relay?.().circuitsRefused,
    ),
    cells: mirrored(
      'anonnet_relay_cells_total',
      'Relay cells this relay passed on, both directions.',
      (s) => s.relay?.().cellsRelayed,
    ),
    bytes: mirrored(
      'anonnet_relay_bytes_total',
      'Relay cell body bytes this relay passed on, both directions.',
      (s) => s.relay?.().bytesRelayed,
    ),
    integrityFailures: mirrored(
      'anonnet_relay_integrity_failures_total',
      'Cells that were neither for this relay nor forwardable (tampered or replayed).',
      (s) => s.relay?.().integrityFailures,
    ),
  };
}

function cellQueueMetrics({ gauge, mirrored }: Definer) {
  return {
    bytes: gauge(
      'anonnet_cell_queue_bytes',
      'Bytes of cells queued on all channels, waiting for a neighbour to read (bounded by channels.maxQueuedMiB).',
      (s) => s.cellQueues?.().bytes,
    ),
    overflowClosed: mirrored(
      'anonnet_cell_queue_overflow_circuits_closed_total',
      'Circuits closed because their queue towards a neighbour passed channels.maxCircuitQueueCells.',
      (s) => s.cellQueues?.().overflowClosed,
    ),
    oomClosed: mirrored(
      'anonnet_cell_queue_oom_circuits_closed_total',
      'Circuits closed by the out-of-memory policy (queued cells over channels.maxQueuedMiB).',
      (s) => s.cellQueues?.().oomClosed,
    ),
  };
}

function linkMetrics({ registers, mirror }: Definer) {
  const linkIn = mirror<'direction'>((s) => s.links?.().cellsIn, { direction: 'in' });
  const linkOut = mirror<'direction'>((s) => s.links?.().cellsOut, { direction: 'out' });
  return {
    cells: new Counter({
      name: 'anonnet_link_cells_total',
      help: 'Fixed-size cells sent and received on circuit links (client and relay), per direction.',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        linkIn(this);
        linkOut(this);
      },
    }),
  };
}

function dhtMetrics({ registers }: Definer) {
  return {
    lookups: new Counter({
      name: 'anonnet_dht_lookups_total',
      help: 'DHT queries started, by operation (get a record, put a record, random walk).',
      labelNames: ['op'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'anonnet_dht_lookup_failures_total',
      help: 'DHT queries that failed or found nothing, by operation.',
      labelNames: ['op'] as const,
      registers,
    }),
  };
}

function peerMetrics({ gauge }: Definer) {
  return {
    connected: gauge('anonnet_peers_connected', 'Peers with an open libp2p connection.', (s) =>
      s.peersConnected?.(),
    ),
    relaysKnown: gauge('anonnet_relays_known', 'Relays in the verified relay view.', (s) =>
      s.relaysKnown?.(),
    ),
  };
}

function economyMetrics({ mirrored }: Definer) {
  const m = (name: string, help: string, key: keyof EconomyTotals) =>
    mirrored(`anonnet_economy_${name}_total`, help, (s) => s.economy?.()[key]);
  return {
    receiptsSigned: m(
      'receipts_signed',
      'Link receipts this node signed for its neighbours.',
      'receiptsSigned',
    ),
    receiptsAccepted: m(
      'receipts_accepted',
      "Link receipts for this relay's own cells, kept.",
      'receiptsAccepted',
    ),
    receiptsRefused: m(
      'receipts_refused',
      'Link receipts refused (malformed, bad signature, not ours, wrong epoch, stale, book full).',
      'receiptsRefused',
    ),
    claimsSubmitted: m('claims_submitted', 'Relay claims this relay got committed.', 'claimsSubmitted'),
    claimsRefused: m('claims_refused', 'Relay claims the ledger refused or dropped.', 'claimsRefused'),
    auditsAnswered: m('audits_answered', 'Audits of our claims we answered.', 'auditsAnswered'),
    auditsPassed: m('audits_passed', 'Claims this validator audited and found good.', 'auditsPassed'),
    auditsFailed: m('audits_failed', 'Claims this validator failed (a bad answer or none).', 'auditsFailed'),
    measurements: m('measurements', 'Relays this validator measured and reported.', 'measurements'),
    penalties: m(
      'penalties',
      'Claims the ledger penalised, at the epoch ends this node followed.',
      'penalties',
    ),
  };
}

/** The daemon's LedgerNode calls observeBlock on every commit; a node without a ledger leaves them at 0. */
function ledgerMetrics({ registers }: Definer) {
  const height = new Gauge({
    name: 'anonnet_ledger_height',
    help: 'Height of the last committed ledger block (0 until the ledger runs).',
    registers,
  });
  const lastBlockTimestampSeconds = new Gauge({
    name: 'anonnet_ledger_last_block_timestamp_seconds',
    help: 'Unix time at which the last ledger block was committed here (0 until the ledger runs).',
    registers,
  });
  const blockIntervalSeconds = new Histogram({
    name: 'anonnet_ledger_block_interval_seconds',
    help: 'Time between consecutive committed ledger blocks.',
    buckets: BLOCK_INTERVAL_BUCKETS_SECONDS,
    registers,
  });
  return {
    height,
    lastBlockTimestampSeconds,
    blockIntervalSeconds,
    /** Call once per committed block: its height and the seconds since the previous block. */
    observeBlock(blockHeight: number, seconds: number): void {
      height.set(blockHeight);
      lastBlockTimestampSeconds.set(Date.now() / 1000);
      if (Number.isFinite(seconds) && seconds >= 0) blockIntervalSeconds.observe(seconds);
    },
  };
}
