// Bootstrap progress, like Tor's "Bootstrapped 45% (peers)": logged as it moves, and in its last
// phase driven by the relays known; once enough are, the client starts keeping circuits ready.
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import { BootstrapProgress, PHASES } from './progress.ts';

/** The node's progress, each step logged. */
export function createBootstrapProgress(deps: { readonly log: Logger }): BootstrapProgress {
  const progress = new BootstrapProgress();
  progress.onChange((e) =>
    deps.log.info(
      { percent: e.percent, phase: e.phase },
      `Bootstrapped ${e.percent}% (${e.phase}): ${e.summary}`,
    ),
  );
  return progress;
}

export interface RelayProgressOptions {
  /** Relays known before bootstrap is done. */
  readonly minRelays: number;
  /** Whether a proxy runs: then circuits are kept ready once bootstrap is done. */
  readonly keepCircuits: boolean;
}

export interface RelayProgressDeps {
  readonly log: Logger;
  readonly progress: BootstrapProgress;
  readonly view: {
    readonly size: number;
    onChange(listener: (event: 'added' | 'removed', peerId: string) => void): () => void;
  };
  readonly circuits: { maintain(): void };
  readonly peerCount: () => number;
  readonly metrics: Pick<Metrics, 'bind'>;
}

export interface RelayProgress {
  /** Catches up with the peers and relays known (called by the maintenance tick). */
  tick(): void;
  start(): void;
  stop(): void;
}

export function createRelayProgress(opts: RelayProgressOptions, deps: RelayProgressDeps): RelayProgress {
  const { progress, view } = deps;
  const update = () => {
    if (progress.current.percent < PHASES.dht.percent) return;
    const known = view.size;
    const share = Math.min(1, known / opts.minRelays);
    if (share >= 1) {
      progress.reach('done');
      if (opts.keepCircuits) deps.circuits.maintain();
    } else
      progress.reach(
        'relays',
        PHASES.relays.percent + share * (100 - PHASES.relays.percent) - 1,
        `Learning relays (${known}/${opts.minRelays})`,
      );
  };
  const offView = view.onChange((event, id) => {
    deps.log.debug({ peer: id, event }, 'relay view changed');
    update();
  });
  deps.metrics.bind({ bootstrapPercent: () => progress.current.percent });
  return {
    tick: () => {
      if (deps.peerCount() > 0) progress.reach('peers');
      update();
    },
    start: update,
    stop: offView,
  };
}
