// This node's own circuits: its persistent entry guards and the circuit manager that builds, prebuilds
// and retires circuits for the proxies; each circuit built vouches for its relays in the relay view.
import { join } from 'node:path';
import type { Libp2p } from '@libp2p/interface';
import { type LedgerStateSource, relayListSource } from '../directory/ledger-relay-list.ts';
import type { RelayView } from '../directory/relay-view.ts';
import type { ReceiptSigner } from '../economy/receipt-counter.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import { CircuitManager, defaultCircuitManagerOptions } from './circuit-manager.ts';
import type { ClientStreamsFactory } from './circuit-streams.ts';
import { GuardSet } from './guards.ts';
import { measureRelay, type RelayMeasurement } from './measure-relay.ts';

export interface ClientOptions {
  readonly dataDir: string;
  /** The guards' file, inside dataDir. */
  readonly guardsFile: string;
  /** Entry guards kept. */
  readonly guards: number;
  readonly guardLifetimeMs: number;
  readonly hops: number;
  readonly prebuilt: number;
  readonly buildTimeoutMs: number;
  readonly buildAttempts: number;
  readonly maxDirtyMs: number;
  readonly allowSameSubnet: boolean;
  readonly unmeasuredWeightCap: number;
}

/** The values the config file does not set (yet). */
export const defaultClientOptions = {
  guardLifetimeMs: 60 * 24 * 3600_000,
  buildAttempts: defaultCircuitManagerOptions.buildAttempts,
  maxDirtyMs: defaultCircuitManagerOptions.maxDirtyMs,
} as const;

export interface ClientDeps {
  readonly log: Logger;
  readonly host: Libp2p;
  readonly view: RelayView;
  readonly metrics: Metrics;
  /** The streams of each circuit (src/stream/stream-table.ts: clientStreams; stream/ sits above). */
  readonly streams: ClientStreamsFactory;
  /** A receipt signer with a fresh key per circuit (docs/economy.md); none: no receipts. */
  readonly receipts?: (() => ReceiptSigner) | undefined;
  /**
   * The ledger's committed state: paths use only the relays its relay list holds, at its weights
   * (docs/economy.md). undefined: no ledger (a `--no-ledger` test network), every verified relay.
   */
  readonly ledger?: LedgerStateSource | undefined;
}

export interface ClientSubsystem {
  readonly circuits: CircuitManager;
  /**
   * Changes the number of clean circuits kept ready; takes effect at once. Lowering it aborts the
   * prebuilds in flight no longer wanted; clean circuits already built stay until used or closed.
   */
  setPrebuilt(count: number): void;
  /** Measures one relay's bandwidth and latency through a one-hop circuit (docs/economy.md). */
  measure(identityKey: Uint8Array, signal: AbortSignal): Promise<RelayMeasurement | undefined>;
  /** The part of the node status the client owns: its circuits open now. */
  status(): { readonly circuitsOpen: number };
  stop(): Promise<void>;
}

export function createClient(opts: ClientOptions, deps: ClientDeps): ClientSubsystem {
  const { view, metrics } = deps;
  const guards = new GuardSet(join(opts.dataDir, opts.guardsFile), {
    count: opts.guards,
    lifetimeMs: opts.guardLifetimeMs,
  });
  // Mutable: the control API may change `prebuilt` while running (the manager reads it at each top-up).
  const options = {
    hops: opts.hops,
    prebuilt: opts.prebuilt,
    buildTimeoutMs: opts.buildTimeoutMs,
    buildAttempts: opts.buildAttempts,
    maxDirtyMs: opts.maxDirtyMs,
    allowSameSubnet: opts.allowSameSubnet,
    unmeasuredWeightCap: opts.unmeasuredWeightCap,
  };
  const circuits = new CircuitManager({
    host: deps.host,
    view,
    guards,
    selfId: deps.host.peerId.toString(),
    log: deps.log,
    options,
    metrics,
    streams: deps.streams,
    receipts: deps.receipts,
    relayList: relayListSource(deps.ledger),
  });
  const offBuilt = circuits.onEvent((event, c) => {
    if (event === 'built') for (const hop of c.path) view.markCircuitBuilt(hop.peerId);
  });
  const open = () => circuits.list().filter((c) => c.state === 'open').length;
  metrics.bind({
    circuitsOpen: open,
    streamsOpen: () => circuits.list().reduce((n, c) => n + c.streams.streams.size, 0),
  });
  return {
    circuits,
    setPrebuilt: (count) => {
      options.prebuilt = count;
      circuits.maintain();
    },
    measure: (identityKey, signal) => measureRelay(deps.host, view, deps.streams, identityKey, signal),
    status: () => ({ circuitsOpen: open() }),
    stop: async () => {
      offBuilt();
      await circuits.stop();
    },
  };
}
