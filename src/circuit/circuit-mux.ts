// Which circuit of a channel sends next: the one that sent the fewest cells recently, counted as an
// exponentially weighted moving average (EWMA) with a half-life (Tor's circuitmux_ewma). A quiet
// circuit (a web page, an SSH session) goes ahead of a bulk download on a busy channel; bulk circuits
// among themselves take turns cell by cell, since every cell sent raises the sender's count. The
// choice matters only while the channel's stream is full: until then every queued cell goes out in
// the same turn of the event loop.
//
// Decay without touching every circuit: a cell sent at time t adds 2^((t - epoch) / halfLife) instead
// of 1, which ranks circuits exactly as decaying every count by 2^(-Δt / halfLife) would. When that
// weight grows large the epoch moves forward and the active counts are scaled down by the same factor;
// idle circuits catch up when they next become active (`bits` records which epoch a count is in).

/** One circuit's place in the scheduler. */
export interface MuxEntry<T> {
  readonly value: T;
  /** Cells sent recently, in units of the epoch's weight. */
  ewma: number;
  /** Index in the heap, -1 while the circuit has nothing queued. */
  index: number;
  /** The epoch shift (in half-lives) `ewma` is expressed in. */
  bits: number;
}

export function muxEntry<T>(value: T): MuxEntry<T> {
  return { value, ewma: 0, index: -1, bits: 0 };
}

/** Epochs move on once a cell weighs this many half-lives (2^32): far inside double precision. */
const RESCALE_AFTER_HALF_LIVES = 32;

export class CircuitMux<T> {
  readonly #heap: MuxEntry<T>[] = [];
  readonly #halfLifeMs: number;
  #epochMs: number;
  /** Half-lives the epoch has moved since start. */
  #bits = 0;
  /** What one cell adds now: 2^((now - epoch) / halfLife). */
  #weight = 1;

  constructor(halfLifeMs: number, now: number) {
    this.#halfLifeMs = halfLifeMs;
    this.#epochMs = now;
  }

  /** Circuits with queued cells. */
  get size(): number {
    return this.#heap.length;
  }

  /** The circuits with queued cells, in no particular order. */
  entries(): readonly MuxEntry<T>[] {
    return this.#heap;
  }

  /** Sets the weight of the cells sent from now on (call once per scheduling round). */
  tick(now: number): void {
    const halfLives = (now - this.#epochMs) / this.#halfLifeMs;
    if (halfLives >= RESCALE_AFTER_HALF_LIVES) {
      const shift = Math.floor(halfLives);
      this.#epochMs += shift * this.#halfLifeMs;
      this.#bits += shift;
      for (const e of this.#heap) this.#normalize(e);
    }
    this.#weight = 2 ** ((now - this.#epochMs) / this.#halfLifeMs);
  }

  /** The circuit got its first queued cell. */
  add(e: MuxEntry<T>): void {
    if (e.index >= 0) return;
    this.#normalize(e);
    e.index = this.#heap.length;
    this.#heap.push(e);
    this.#up(e.index);
  }

  /** The circuit has nothing queued any more (or is gone). */
  remove(e: MuxEntry<T>): void {
    const i = e.index;
    if (i < 0) return;
    const last = this.#heap.pop()!;
    e.index = -1;
    if (last === e) return;
    this.#heap[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  /** The circuit that sends next: the lowest count. */
  peek(): MuxEntry<T> | undefined {
    return this.#heap[0];
  }

  /** `e` (the one peek() gave) sent one cell. */
  sent(e: MuxEntry<T>): void {
    e.ewma += this.#weight;
    if (e.index >= 0) this.#down(e.index);
  }

  #normalize(e: MuxEntry<T>): void {
    if (e.bits === this.#bits) return;
    e.ewma *= 2 ** (e.bits - this.#bits);
    e.bits = this.#bits;
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.ewma <= e.ewma) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.ewma < h[l]!.ewma ? r : l;
      const child = h[c]!;
      if (child.ewma >= e.ewma) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
