// Feeds the daemon's own events into the API's event bus: bootstrap progress, circuits built and
// closed, the peer count. (Ledger blocks are published by whoever runs the ledger.)
import type { CircuitManager } from '../circuit/circuit-manager.ts';
import type { EventBus } from '../daemon/events.ts';
import type { BootstrapProgress } from '../daemon/progress.ts';

export interface NodeEventSources {
  readonly progress: BootstrapProgress;
  readonly circuits: CircuitManager;
  readonly peerCount: () => number;
  /** How often the peer count is looked at (default 1 s). */
  readonly pollMs?: number;
}

/** Starts publishing; the returned function stops it. */
export function publishNodeEvents(bus: EventBus, src: NodeEventSources): () => void {
  bus.publish({ case: 'bootstrap', value: src.progress.current });
  const offProgress = src.progress.onChange((e) => bus.publish({ case: 'bootstrap', value: e }));
  const offCircuits = src.circuits.onEvent((event, c) => {
    if (event === 'built') {
      bus.publish({
        case: 'circuitBuilt',
        value: {
          id: c.id,
          hops: c.path.map((h) => h.peerId),
          buildMs: c.builtAt !== undefined ? c.builtAt - c.createdAt : 0,
        },
      });
    } else {
      bus.publish({
        case: 'circuitClosed',
        value: {
          id: c.id,
          reason: c.closeReason ?? '',
          bytesIn: c.streams.bytesIn,
          bytesOut: c.streams.bytesOut,
        },
      });
    }
  });
  let lastPeers = -1;
  const poll = () => {
    const peers = src.peerCount();
    if (peers !== lastPeers) {
      lastPeers = peers;
      bus.publish({ case: 'peerCount', value: { peers } });
    }
  };
  poll();
  const timer = setInterval(poll, src.pollMs ?? 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    offProgress();
    offCircuits();
  };
}
