// The bandwidth graph's data: the daemon answers its last minute; the page keeps a longer window by
// merging each answer in by timestamp. Bounded to `max` samples.
import type { BandwidthPoint } from './model.ts';

export interface BandwidthSeries {
  /** Seconds (uPlot's time scale). */
  readonly t: number[];
  readonly inBps: number[];
  readonly outBps: number[];
}

export class BandwidthWindow {
  readonly #max: number;
  readonly series: BandwidthSeries = { t: [], inBps: [], outBps: [] };

  constructor(max = 300) {
    this.#max = max;
  }

  /** Adds the samples newer than the last one kept; true when any was added. */
  merge(points: readonly BandwidthPoint[]): boolean {
    const s = this.series;
    let added = false;
    for (const p of points) {
      const t = p.at / 1000;
      const last = s.t.at(-1);
      if (last !== undefined && t <= last) continue;
      s.t.push(t);
      s.inBps.push(p.readBps);
      s.outBps.push(p.writtenBps);
      added = true;
    }
    const excess = s.t.length - this.#max;
    if (excess > 0) {
      s.t.splice(0, excess);
      s.inBps.splice(0, excess);
      s.outBps.splice(0, excess);
    }
    return added;
  }
}
