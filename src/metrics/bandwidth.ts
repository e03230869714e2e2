// Bytes read and written per second, from cumulative counters sampled once a second by the daemon's
// tick. Keeps the last minute, for the API's Bandwidth and the dashboard's graph.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { BandwidthSchema } from '../api/gen/anonnet/v1/node_pb.js';

/** The API's Bandwidth message (the same type as api/source.ts's BandwidthInit). */
type BandwidthInit = MessageInitShape<typeof BandwidthSchema>;

export interface ByteCounters {
  readonly read: number;
  readonly written: number;
}

export const BANDWIDTH_HISTORY = 60;

export class BandwidthMeter {
  readonly #counters: () => ByteCounters;
  readonly #history: Array<{ at: number; readBytesPerSecond: number; writtenBytesPerSecond: number }> = [];
  #last: { at: number; read: number; written: number } | undefined;

  constructor(counters: () => ByteCounters) {
    this.#counters = counters;
  }

  /** Takes one sample; call about once a second (the rate uses the real interval). */
  sample(at: number): void {
    const c = this.#counters();
    const last = this.#last;
    this.#last = { at, read: c.read, written: c.written };
    if (last === undefined || at <= last.at) return;
    const secs = (at - last.at) / 1000;
    this.#history.push({
      at,
      readBytesPerSecond: Math.max(0, Math.round((c.read - last.read) / secs)),
      writtenBytesPerSecond: Math.max(0, Math.round((c.written - last.written) / secs)),
    });
    if (this.#history.length > BANDWIDTH_HISTORY) this.#history.shift();
  }

  snapshot(): BandwidthInit {
    const c = this.#counters();
    const latest = this.#history.at(-1);
    return {
      readBytesPerSecond: latest?.readBytesPerSecond ?? 0,
      writtenBytesPerSecond: latest?.writtenBytesPerSecond ?? 0,
      readBytesTotal: c.read,
      writtenBytesTotal: c.written,
      history: this.#history.map((h) => ({ ...h })),
    };
  }
}
