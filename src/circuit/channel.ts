// A channel: one libp2p stream between two adjacent nodes that carries the cells of many circuits,
// told apart by circuit id (as Tor's channels). Opening a libp2p stream costs more than the rest of a
// hop's build (multistream-select, peer-store updates on both ends: docs/performance.md), so circuits
// reuse the channel to a peer instead of opening a stream each.
//
// Only the node that opened a channel creates circuits on it (it picks the ids); the other end learns
// a circuit from its CREATE. A circuit leaves a channel with a DESTROY cell; cells for an id the
// channel does not know are dropped. Reading is paused while any circuit on the channel asks for it
// (the next hop of one circuit is slow), so one slow circuit slows the others on the same channel.
import type { CircuitId } from '../wire/cell.ts';
import { DestroyReason, encodeCell, LinkCommand } from '../wire/cell.ts';
import { type CellLink, LinkProtocolError } from './cell-link.ts';

const CIRC_ID_BYTES = 4;

function readCircId(cell: Uint8Array): number {
  return ((cell[0]! << 24) | (cell[1]! << 16) | (cell[2]! << 8) | cell[3]!) >>> 0;
}

/** What a circuit needs from the link towards one neighbour (a CellLink has the same surface). */
export interface CircuitLink {
  readonly closed: boolean;
  send(cell: Uint8Array): boolean;
  onDrain(fn: () => void): void;
  pauseReading(): void;
  resumeReading(): void;
  close(): void;
  abort(err: Error): void;
  onCell: (cell: Uint8Array) => void;
  onClose: (err?: Error) => void;
}

export class Channel {
  readonly #link: CellLink;
  readonly #circuits = new Map<number, ChannelCircuit>();
  #pauses = 0;
  /** Set once we close it ourselves: the stream may take a moment to report closed. */
  #closing = false;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #idleMs: number;
  /** A cell for a circuit id the channel does not know (a CREATE, at the answering end). */
  onUnknown: (id: CircuitId, cell: Uint8Array) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  /** `idleMs`: close the channel once it has carried no circuit for this long (0: never). */
  constructor(link: CellLink, idleMs = 0) {
    this.#link = link;
    this.#idleMs = idleMs;
    link.onCell = (cell) => {
      const id = readCircId(cell);
      // Circuit id 0 names no circuit (wire/cell.ts): a peer that uses it breaks the protocol, and
      // nothing may be attached under it (a DESTROY for id 0 cannot even be encoded).
      if (id === 0) throw new LinkProtocolError('a cell with circuit id 0');
      const c = this.#circuits.get(id);
      if (c !== undefined) c.onCell(cell);
      else this.onUnknown(id as CircuitId, cell);
    };
    link.onClose = (err) => {
      clearTimeout(this.#idleTimer);
      for (const c of [...this.#circuits.values()]) c.linkClosed(err);
      this.#circuits.clear();
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

  has(id: number): boolean {
    return this.#circuits.has(id);
  }

  /** Attaches circuit `id` (unused on this channel) and returns its view of the link. */
  attach(id: CircuitId): ChannelCircuit {
    if (id === 0) throw new LinkProtocolError('circuit id 0 cannot be attached');
    if (this.#circuits.has(id)) throw new Error(`circuit id ${id} already in use on this channel`);
    clearTimeout(this.#idleTimer);
    const c = new ChannelCircuit(this, this.#link, id);
    this.#circuits.set(id, c);
    return c;
  }

  close(): void {
    this.#closing = true;
    this.#link.close();
  }

  /** Answers a CREATE this end will not take: a DESTROY for that id, nothing attached. */
  refuse(id: CircuitId, reason: number): void {
    this.#link.send(encodeCell({ circuitId: id, command: LinkCommand.DESTROY, body: Uint8Array.of(reason) }));
  }

  /** @internal */
  detach(c: ChannelCircuit): void {
    if (this.#circuits.get(c.id) === c) this.#circuits.delete(c.id);
    this.#armIdle();
  }

  /** @internal */
  pause(): void {
    if (this.#pauses++ === 0) this.#link.pauseReading();
  }

  /** @internal */
  resume(): void {
    if (this.#pauses > 0 && --this.#pauses === 0) this.#link.resumeReading();
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

/** One circuit's view of a channel. Closing it sends DESTROY (unless one went out) and detaches. */
export class ChannelCircuit implements CircuitLink {
  readonly id: CircuitId;
  readonly #channel: Channel;
  readonly #link: CellLink;
  #closed = false;
  #paused = false;
  #destroySent = false;
  onCell: (cell: Uint8Array) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  constructor(channel: Channel, link: CellLink, id: CircuitId) {
    this.#channel = channel;
    this.#link = link;
    this.id = id;
  }

  get closed(): boolean {
    return this.#closed || this.#link.closed;
  }

  send(cell: Uint8Array): boolean {
    if (this.closed) return false;
    if (cell[CIRC_ID_BYTES] === LinkCommand.DESTROY) this.#destroySent = true;
    return this.#link.send(cell);
  }

  onDrain(fn: () => void): void {
    if (this.#closed) fn();
    else this.#link.onDrain(fn);
  }

  pauseReading(): void {
    if (this.#closed || this.#paused) return;
    this.#paused = true;
    this.#channel.pause();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#channel.resume();
  }

  close(): void {
    this.#leave(DestroyReason.NONE);
  }

  abort(err: Error): void {
    if (this.#leave(DestroyReason.PROTOCOL)) this.onClose(err);
  }

  /** @internal The whole channel went down. */
  linkClosed(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#paused = false;
    this.onClose(err);
  }

  #leave(reason: number): boolean {
    if (this.#closed) return false;
    if (!this.#destroySent && !this.#link.closed)
      this.#link.send(
        encodeCell({ circuitId: this.id, command: LinkCommand.DESTROY, body: Uint8Array.of(reason) }),
      );
    this.#destroySent = true;
    this.resumeReading();
    this.#closed = true;
    this.#channel.detach(this);
    return true;
  }
}
