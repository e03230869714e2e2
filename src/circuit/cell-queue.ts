// The cells waiting to go out on channels (src/circuit/channel.ts): one FIFO per circuit per channel,
// and the node-wide bound on all of them with its out-of-memory policy (Tor's MaxMemInQueues).
//
// A queue holds cells only while its channel's stream cannot take more. Flow control bounds what a
// well-behaved circuit has in flight (CIRCUIT_WINDOW DATA cells), so a queue past its limit means a
// peer ignores the protocol: the channel closes that circuit, never itself. The node-wide bound is for
// the sum over many circuits: above it, the circuits holding the most queued cells are closed first
// until the total is back under the low-water mark.
import type { RefusalLog } from '../log/refusals.ts';
import { CELL_BYTES } from '../wire/cell.ts';
import { type ChannelLimits, defaultChannelLimits } from './channel-limits.ts';

/** A FIFO of cells; shift() is O(1) (a head index, compacted now and then). */
export class CellQueue {
  #cells: Uint8Array[] = [];
  #head = 0;
  /** Cells before this index are known to own their memory (see own()). */
  #owned = 0;

  get length(): number {
    return this.#cells.length - this.#head;
  }

  push(cell: Uint8Array): void {
    this.#cells.push(cell);
  }

  shift(): Uint8Array | undefined {
    if (this.#head >= this.#cells.length) return undefined;
    const cell = this.#cells[this.#head]!;
    this.#cells[this.#head++] = EMPTY;
    if (this.#head === this.#cells.length) {
      this.#cells = [];
      this.#head = 0;
      this.#owned = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#cells.length) {
      this.#cells = this.#cells.slice(this.#head);
      this.#owned = Math.max(0, this.#owned - this.#head);
      this.#head = 0;
    }
    return cell;
  }

  /**
   * Makes every queued cell own its bytes. Forwarded cells are views into the chunk they arrived in;
   * one that waits would keep that whole chunk alive (up to a yamux frame for one 2 KiB cell), so the
   * memory bound would count a fraction of what it holds. Called when a channel stops being writable:
   * each cell is copied at most once, and only cells that wait are.
   */
  own(): void {
    for (let i = Math.max(this.#owned, this.#head); i < this.#cells.length; i++)
      this.#cells[i] = ownBytes(this.#cells[i]!);
    this.#owned = this.#cells.length;
  }

  /** Drops every cell; returns how many there were. */
  clear(): number {
    const n = this.length;
    this.#cells = [];
    this.#head = 0;
    this.#owned = 0;
    return n;
  }
}

const EMPTY = new Uint8Array(0);

/** `cell` itself when it is the whole of its buffer, else a copy. */
export function ownBytes(cell: Uint8Array): Uint8Array {
  return cell.byteOffset === 0 && cell.byteLength === cell.buffer.byteLength
    ? cell
    : Uint8Array.prototype.slice.call(cell);
}

/** One circuit's queue on one channel, as the out-of-memory policy sees it. */
export interface QueueHolder {
  /**
   * What the policy closes as one circuit: a relay's circuit has a queue on each of its two channels,
   * and both count towards it (the holder itself when it stands alone).
   */
  readonly owner: object;
  readonly queuedCells: number;
  /** Drops the queue and closes the circuit (RESOURCELIMIT). */
  killForMemory(): void;
}

/** A channel, as the out-of-memory policy sees it: the holders with queued cells. */
export interface QueueSource {
  queueHolders(): Iterable<QueueHolder>;
}

/** Running totals, for metrics and tests. */
export class QueueStats {
  /** Circuits closed because their own queue passed maxCircuitQueueCells. */
  overflowClosed = 0;
  /** Circuits closed by the out-of-memory policy. */
  oomClosed = 0;
  /** Times the out-of-memory policy ran. */
  oomRuns = 0;
  /** Channel-level cells (refusals) dropped because the peer was not reading them. */
  controlDropped = 0;
}

/**
 * Every queued cell of one node: the global bound and the out-of-memory policy. One per node (the
 * channel pool of its libp2p host holds it); every channel of the node counts its queues here.
 */
export class QueueMemory {
  readonly limits: ChannelLimits;
  readonly stats = new QueueStats();
  readonly refusals: RefusalLog | undefined;
  #bytes = 0;
  #peakBytes = 0;
  #reclaimScheduled = false;
  readonly #sources = new Set<QueueSource>();

  constructor(limits: ChannelLimits = defaultChannelLimits, refusals?: RefusalLog) {
    this.limits = limits;
    this.refusals = refusals;
  }

  /** Bytes of every cell queued on this node's channels now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The highest `bytes` seen since start (or the last resetPeak). */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  resetPeak(): void {
    this.#peakBytes = this.#bytes;
  }

  register(source: QueueSource): void {
    this.#sources.add(source);
  }

  unregister(source: QueueSource): void {
    this.#sources.delete(source);
  }

  /** `cells` cells were queued. Above the bound, the policy runs once the current task is done. */
  add(cells: number): void {
    this.#bytes += cells * CELL_BYTES;
    if (this.#bytes > this.#peakBytes) this.#peakBytes = this.#bytes;
    if (this.#bytes > this.limits.maxQueuedBytes && !this.#reclaimScheduled) {
      // Not from inside the send that crossed the bound: that send may be in the middle of forwarding
      // a cell of the very circuit the policy closes.
      this.#reclaimScheduled = true;
      queueMicrotask(() => this.reclaim());
    }
  }

  /** `cells` cells left their queue (sent or dropped). */
  release(cells: number): void {
    this.#bytes -= cells * CELL_BYTES;
  }

  /**
   * The out-of-memory policy: while queued bytes are above the low-water mark (a tenth under the
   * bound, so one run frees room for a while), close the circuit holding the most queued cells.
   * Returns the number of circuits closed.
   */
  reclaim(): number {
    this.#reclaimScheduled = false;
    if (this.#bytes <= this.limits.maxQueuedBytes) return 0;
    const lowWater = this.limits.maxQueuedBytes * OOM_LOW_WATER;
    const byOwner = new Map<object, { cells: number; holders: QueueHolder[] }>();
    for (const source of this.#sources)
      for (const h of source.queueHolders()) {
        if (h.queuedCells === 0) continue;
        const g = byOwner.get(h.owner);
        if (g === undefined) byOwner.set(h.owner, { cells: h.queuedCells, holders: [h] });
        else {
          g.cells += h.queuedCells;
          g.holders.push(h);
        }
      }
    const victims = [...byOwner.values()].sort((a, b) => b.cells - a.cells);
    const before = this.#bytes;
    let closed = 0;
    for (const v of victims) {
      if (this.#bytes <= lowWater) break;
      for (const h of v.holders) h.killForMemory();
      closed++;
    }
    this.stats.oomClosed += closed;
    this.stats.oomRuns++;
    this.refusals?.refuse(
      'CELL_QUEUE_OOM',
      'queued cells passed channels.maxQueuedMiB: closed the circuits holding the most queued cells (peers not reading, or too little memory for this load)',
      { circuitsClosed: closed, freedBytes: before - this.#bytes, limitBytes: this.limits.maxQueuedBytes },
    );
    return closed;
  }
}

/** The policy frees down to this share of maxQueuedBytes (Tor frees to 90% of MaxMemInQueues too). */
export const OOM_LOW_WATER = 0.9;
