// A channel: one libp2p stream between two adjacent nodes that carries the cells of many circuits,
// told apart by circuit id (as Tor's channels). Opening a libp2p stream costs more than the rest of a
// hop's build (multistream-select, peer-store updates on both ends: docs/performance.md), so circuits
// reuse the channel to a peer instead of opening a stream each.
//
// Only the node that opened a channel creates circuits on it (it picks the ids); the other end learns
// a circuit from its CREATE. A circuit leaves a channel with a DESTROY cell; cells for an id the
// channel does not know are dropped.
//
// Sending: each circuit has its own queue on the channel (cell-queue.ts), and a scheduler
// (circuit-mux.ts, EWMA as Tor's circuitmux) moves cells from the queues to the stream whenever the
// stream can take more, the quietest circuit first. A channel never stops reading because one circuit
// is slow: a circuit whose next hop does not read fills only its own queue, flow control bounds that
// queue for a well-behaved circuit, and a queue past `maxCircuitQueueCells` closes that circuit alone
// (RESOURCELIMIT). The node-wide bound on all queues (QueueMemory) closes the biggest holders first.
import type { CircuitId } from '../wire/cell.ts';
import {
  CELL_BYTES,
  CELL_COMMAND_OFFSET,
  cellCircuitId,
  DestroyReason,
  encodeCell,
  LinkCommand,
} from '../wire/cell.ts';
import { type CellLink, LinkProtocolError } from './cell-link.ts';
import { CellQueue, ownBytes, type QueueHolder, QueueMemory, type QueueSource } from './cell-queue.ts';
import type { ChannelLimits } from './channel-limits.ts';
import { CircuitMux, type MuxEntry, muxEntry } from './circuit-mux.ts';

/** Why a channel dropped a circuit's queue and closed the circuit. */
export type QueueOverflow = 'circuit-limit' | 'memory';

/** A circuit's queue passed its limit, or the node ran out of queue memory: the circuit is closed. */
export class CircuitQueueError extends Error {
  override readonly name = 'CircuitQueueError';
  readonly code = 'CIRCUIT_QUEUE';
  readonly why: QueueOverflow;
  constructor(why: QueueOverflow, message: string) {
    super(message);
    this.why = why;
  }
}

/** What a circuit needs from the link towards one neighbour. */
export interface CircuitLink {
  readonly closed: boolean;
  /**
   * Whether this circuit's own queue on the channel is short enough for locally produced cells (a
   * client's or an exit's streams); when false, such producers wait for onDrain. Forwarded cells
   * never wait: flow control bounds them.
   */
  readonly writable: boolean;
  /** Queues one cell; false once the circuit is closed (or was closed by this very cell). */
  send(cell: Uint8Array): boolean;
  /**
   * Calls `fn` once `writable` again (at once if it is). Never once the circuit is closed: its owner
   * tears its streams down, and a producer called back on a closed circuit would only ask again.
   */
  onDrain(fn: () => void): void;
  /** Sends what is queued, then a DESTROY (unless one was sent), and leaves the channel. */
  close(): void;
  /** Drops what is queued, sends DESTROY (PROTOCOL) unless one was sent, leaves, calls onClose(err). */
  abort(err: Error): void;
  /**
   * Drops what is queued for this circuit (it is being torn down; nothing queued matters now). A
   * circuit already closed keeps what its close queued (its DESTROY must still go out).
   */
  discard(): void;
  /**
   * The out-of-memory policy closes circuits, not queues: queues with one owner count together (a
   * relay's circuit owns one queue on each of its two channels).
   */
  owner: object;
  onCell: (cell: Uint8Array) => void;
  onClose: (err?: Error) => void;
  /**
   * The channel dropped this circuit's queue (its limit, or the node's memory bound), sent DESTROY
   * (RESOURCELIMIT) and let the circuit go: its owner tears down the rest. The default calls onClose
   * with a CircuitQueueError.
   */
  onQueueOverflow: (why: QueueOverflow) => void;
}

export interface ChannelOptions {
  /** The node's queue memory (bound, limits, out-of-memory policy); a private one when not given. */
  readonly memory?: QueueMemory;
  /** Close the channel once it has carried no circuit for this long (0: never). */
  readonly idleMs?: number;
}

export class Channel implements QueueSource {
  readonly #link: CellLink;
  readonly #circuits = new Map<number, ChannelCircuit>();
  readonly #memory: QueueMemory;
  readonly #limits: ChannelLimits;
  readonly #mux: CircuitMux<ChannelCircuit>;
  /** Cells of the channel itself (DESTROY answers to CREATEs not taken): they go first. */
  readonly #control = new CellQueue();
  #flushScheduled = false;
  #waitingForDrain = false;
  /** The stream was full after the last write: cells queued now will wait, so they must own their bytes. */
  #blocked = false;
  /** Set once we close it ourselves: the stream may take a moment to report closed. */
  #closing = false;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #idleMs: number;
  /** A cell for a circuit id the channel does not know (a CREATE, at the answering end). */
  onUnknown: (id: CircuitId, cell: Uint8Array) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  constructor(link: CellLink, opts: ChannelOptions = {}) {
    this.#link = link;
    this.#memory = opts.memory ?? new QueueMemory();
    this.#limits = this.#memory.limits;
    this.#idleMs = opts.idleMs ?? 0;
    this.#mux = new CircuitMux(this.#limits.ewmaHalfLifeMs, performance.now());
    this.#memory.register(this);
    link.onCell = (cell) => {
      const id = cellCircuitId(cell);
      // Circuit id 0 names no circuit (wire/cell.ts): a peer that uses it breaks the protocol, and
      // nothing may be attached under it (a DESTROY for id 0 cannot even be encoded).
      if (id === 0) throw new LinkProtocolError('a cell with circuit id 0');
      const c = this.#circuits.get(id);
      if (c !== undefined) c.onCell(cell);
      else this.onUnknown(id as CircuitId, cell);
    };
    link.onClose = (err) => {
      clearTimeout(this.#idleTimer);
      this.#memory.unregister(this);
      for (const c of [...this.#circuits.values()]) c.linkClosed(err);
      this.#circuits.clear();
      // Circuits that closed with cells still queued (their DESTROY among them) are dropped too.
      for (const e of [...this.#mux.entries()]) this.dropQueue(e.value);
      this.#memory.release(this.#control.clear());
      this.onClose(err);
    };
    this.#armIdle();
  }

  get closed(): boolean {
    return this.#closing || this.#link.closed;
  }

  get size(): number {
    return this.#circuits.size;
  }

  /** @internal See ChannelLimits.circuitHighWaterCells. */
  get highWaterCells(): number {
    return this.#limits.circuitHighWaterCells;
  }

  /** Cells queued on this channel now (every circuit's, and the channel's own). */
  get queuedCells(): number {
    let n = this.#control.length;
    for (const e of this.#mux.entries()) n += e.value.queuedCells;
    return n;
  }

  has(id: number): boolean {
    return this.#circuits.has(id);
  }

  /** Attaches circuit `id` (unused on this channel) and returns its view of the link. */
  attach(id: CircuitId): ChannelCircuit {
    if (id === 0) throw new LinkProtocolError('circuit id 0 cannot be attached');
    if (this.#circuits.has(id)) throw new Error(`circuit id ${id} already in use on this channel`);
    clearTimeout(this.#idleTimer);
    const c = new ChannelCircuit(this, id);
    this.#circuits.set(id, c);
    return c;
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    // What the stream takes now goes out before the close (a DESTROY of a circuit that just left).
    this.#flush();
    this.#link.close();
  }

  /** Answers a CREATE this end will not take: a DESTROY for that id, nothing attached. */
  refuse(id: CircuitId, reason: number): void {
    if (this.#link.closed) return;
    // A peer that sends CREATEs but reads nothing gets no more answers than this.
    if (this.#control.length >= this.#limits.maxControlCells) {
      this.#memory.stats.controlDropped++;
      return;
    }
    this.#control.push(destroyCell(id, reason));
    this.#memory.add(1);
    this.#schedule();
  }

  /** For the out-of-memory policy: every circuit with queued cells, those already closed included. */
  queueHolders(): Iterable<QueueHolder> {
    return this.#mux.entries().map((e) => e.value);
  }

  /** @internal Queues a cell of `c`; false when that overflowed (the circuit is gone). */
  enqueue(c: ChannelCircuit, cell: Uint8Array, force = false): boolean {
    const q = c.queue;
    if (q.length >= this.#limits.maxCircuitQueueCells && !force) {
      this.#memory.stats.overflowClosed++;
      this.#memory.refusals?.refuse(
        'CIRCUIT_QUEUE_LIMIT',
        'closed a circuit whose queue towards a neighbour passed channels.maxCircuitQueueCells: its peers ignore flow control (a buggy or hostile client or exit)',
        { queuedCells: q.length },
      );
      c.overflow('circuit-limit');
      return false;
    }
    q.push(this.#blocked ? ownBytes(cell) : cell);
    this.#memory.add(1);
    if (q.length === 1) this.#mux.add(c.entry);
    this.#schedule();
    return true;
  }

  /** @internal Drops every cell queued for `c`. */
  dropQueue(c: ChannelCircuit): void {
    this.#memory.release(c.queue.clear());
    this.#mux.remove(c.entry);
  }

  /** @internal */
  detach(c: ChannelCircuit): void {
    if (this.#circuits.get(c.id) === c) this.#circuits.delete(c.id);
    this.#armIdle();
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#waitingForDrain) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /**
   * The scheduler: while the stream takes more, batches of cells from the queues, the channel's own
   * cells first, then one cell at a time from the circuit with the lowest recent count.
   */
  #flush(): void {
    this.#flushScheduled = false;
    const link = this.#link;
    if (link.closed) return;
    const mux = this.#mux;
    const limits = this.#limits;
    const low = limits.circuitLowWaterCells;
    let drained: ChannelCircuit[] | undefined;
    if (mux.size > 0) mux.tick(performance.now());
    while (link.writable && (this.#control.length > 0 || mux.size > 0)) {
      const batch: Uint8Array[] = [];
      while (batch.length < limits.batchCells && this.#control.length > 0) batch.push(this.#control.shift()!);
      while (batch.length < limits.batchCells) {
        const e = mux.peek();
        if (e === undefined) break;
        const c = e.value;
        batch.push(c.queue.shift()!);
        if (c.queue.length === 0) mux.remove(e);
        mux.sent(e);
        if (c.waitingForRoom && c.queue.length <= low) {
          c.waitingForRoom = false;
          if (drained === undefined) drained = [c];
          else drained.push(c);
        }
      }
      this.#memory.release(batch.length);
      link.write(batch.length === 1 ? batch[0]! : concat(batch));
    }
    if (this.#control.length > 0 || mux.size > 0) {
      if (!link.closed && !this.#waitingForDrain) {
        // Cells that wait must not pin the chunks they were cut from (CellQueue.own).
        this.#blocked = true;
        this.#control.own();
        for (const e of mux.entries()) e.value.queue.own();
        this.#waitingForDrain = true;
        link.onDrain(() => {
          this.#waitingForDrain = false;
          this.#blocked = false;
          this.#schedule();
        });
      }
    } else this.#blocked = false;
    if (drained !== undefined) for (const c of drained) c.roomAgain();
  }

  #armIdle(): void {
    if (this.#idleMs <= 0 || this.#circuits.size > 0 || this.#link.closed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#circuits.size === 0) this.close();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}

function destroyCell(id: CircuitId, reason: number): Uint8Array {
  return encodeCell({ circuitId: id, command: LinkCommand.DESTROY, body: Uint8Array.of(reason) });
}

/** One write of whole cells (Buffer.concat: no zero-fill of a buffer about to be overwritten). */
function concat(cells: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(cells, cells.length * CELL_BYTES);
}

/** One circuit's view of a channel: its queue there, and its place in the channel's scheduler. */
export class ChannelCircuit implements CircuitLink, QueueHolder {
  readonly id: CircuitId;
  readonly #channel: Channel;
  /** @internal */
  readonly queue = new CellQueue();
  /** @internal */
  readonly entry: MuxEntry<ChannelCircuit> = muxEntry(this);
  /** @internal A producer waits in onDrain for the queue to come down to the low-water mark. */
  waitingForRoom = false;
  #waiters: Array<() => void> = [];
  readonly #highWater: number;
  #closed = false;
  #destroySent = false;
  owner: object = this;
  onCell: (cell: Uint8Array) => void = () => {};
  onClose: (err?: Error) => void = () => {};
  onQueueOverflow: (why: QueueOverflow) => void = (why) =>
    this.onClose(
      new CircuitQueueError(
        why,
        why === 'memory'
          ? 'circuit closed: the node ran short of queue memory and this circuit held the most'
          : 'circuit closed: its queue towards a neighbour passed its limit',
      ),
    );

  constructor(channel: Channel, id: CircuitId) {
    this.#channel = channel;
    this.id = id;
    this.#highWater = channel.highWaterCells;
  }

  get closed(): boolean {
    return this.#closed || this.#channel.closed;
  }

  get writable(): boolean {
    return !this.closed && this.queue.length < this.#highWater;
  }

  get queuedCells(): number {
    return this.queue.length;
  }

  send(cell: Uint8Array): boolean {
    if (this.closed) return false;
    if (cell[CELL_COMMAND_OFFSET] === LinkCommand.DESTROY) this.#destroySent = true;
    return this.#channel.enqueue(this, cell);
  }

  onDrain(fn: () => void): void {
    if (this.closed) return;
    if (this.writable) {
      fn();
      return;
    }
    this.#waiters.push(fn);
    this.waitingForRoom = true;
  }

  close(): void {
    this.#leave(DestroyReason.NONE, false);
  }

  abort(err: Error): void {
    if (this.#leave(DestroyReason.PROTOCOL, true)) this.onClose(err);
  }

  discard(): void {
    if (!this.#closed) this.#channel.dropQueue(this);
  }

  killForMemory(): void {
    if (!this.#closed) return this.overflow('memory');
    // Closed, with cells still queued: keep only the DESTROY they end with, so the neighbour still
    // learns that the circuit is gone.
    if (this.queue.length <= 1) return;
    this.#channel.dropQueue(this);
    if (this.#destroySent && !this.#channel.closed)
      this.#channel.enqueue(this, destroyCell(this.id, DestroyReason.RESOURCELIMIT), true);
  }

  /**
   * @internal The circuit must go for what it queued: the queue is dropped, DESTROY (RESOURCELIMIT)
   * goes out alone, the circuit leaves the channel, and then its owner hears why.
   */
  overflow(why: QueueOverflow): void {
    if (!this.#leave(DestroyReason.RESOURCELIMIT, true)) return;
    this.onQueueOverflow(why);
  }

  /** @internal The queue came down to the low-water mark. */
  roomAgain(): void {
    if (this.#closed) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** @internal The whole channel went down. */
  linkClosed(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters = [];
    this.#channel.dropQueue(this);
    this.onClose(err);
  }

  /**
   * Leaves the channel, sending DESTROY `reason` unless one went out already: after what is queued
   * (a TRUNCATED before it must arrive), or alone when `drop` (an error: nothing queued matters).
   */
  #leave(reason: number, drop: boolean): boolean {
    if (this.#closed) return false;
    if (drop) this.#channel.dropQueue(this);
    if (!this.#destroySent && !this.#channel.closed) {
      this.#destroySent = true;
      this.#channel.enqueue(this, destroyCell(this.id, reason), true);
    }
    this.#closed = true;
    this.#waiters = [];
    this.#channel.detach(this);
    return true;
  }
}
