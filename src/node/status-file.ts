// The daemon's maintenance tick: once a second each subsystem's periodic step runs (expiry sweep,
// bootstrap progress, onion key rotation, bandwidth sample), and every other second status.json is
// rewritten for `anonnet status` and the testnet supervisor.
import { join } from 'node:path';
import { writeFileAtomic } from '../daemon/atomic-file.ts';
import { files } from '../daemon/data-dir.ts';
import type { Logger } from '../log/logger.ts';
import type { NodeStatus } from './status.ts';

export const TICK_MS = 1_000;
const STATUS_EVERY_TICKS = 2;

export interface StatusTickerDeps {
  readonly log: Logger;
  /** Run in order on every tick; a step that throws skips the rest of that tick (it is logged). */
  readonly steps: ReadonlyArray<{ tick(): void }>;
  readonly status: () => NodeStatus;
}

export interface StatusTicker {
  start(): void;
  stop(): void;
}

export function createStatusTicker(opts: { readonly dataDir: string }, deps: StatusTickerDeps): StatusTicker {
  const statusPath = join(opts.dataDir, files.status);
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    try {
      for (const step of deps.steps) step.tick();
      if (++ticks % STATUS_EVERY_TICKS === 0)
        writeFileAtomic(statusPath, `${JSON.stringify(deps.status())}\n`, 0o600);
    } catch (err) {
      deps.log.warn({ err: (err as Error).message }, 'maintenance tick failed');
    }
  };
  return {
    start: () => {
      timer ??= setInterval(tick, TICK_MS);
    },
    stop: () => clearInterval(timer),
  };
}
