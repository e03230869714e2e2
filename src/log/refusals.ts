// One log line an operator can act on per kind of refusal, however hard a peer pushes: a hostile peer
// that makes us refuse a thousand times a second must not also fill the disk with our log. Each kind
// (a stable code such as `CIRCUIT_PROTOCOL`) logs at most once per interval at warn; the lines in
// between are counted and the count rides on the next line. Detail (never keys, payloads, addresses or
// paths) goes to debug every time.
import type { Logger } from './logger.ts';

export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class RefusalLog {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  /** Refusals per code since start (for tests and metrics). */
  readonly counts = new Map<string, number>();

  constructor(log: Logger, intervalMs = REFUSAL_LOG_INTERVAL_MS, now: () => number = Date.now) {
    this.#log = log;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Records one refusal. `message` says what happened and what an operator can do; it must not carry
   * identifiers or addresses (they go in `detail`, logged at debug only).
   */
  refuse(code: string, message: string, detail?: Record<string, unknown>): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    if (detail !== undefined) this.#log.debug({ code, ...detail }, message);
    const now = this.#now();
    const last = this.#last.get(code);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    this.#log.warn({ code, suppressed: last?.suppressed ?? 0 }, message);
    this.#last.set(code, { at: now, suppressed: 0 });
  }

  count(code: string): number {
    return this.counts.get(code) ?? 0;
  }
}
