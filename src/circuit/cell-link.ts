// One libp2p stream carrying fixed-size cells between two adjacent nodes (a channel, channel.ts, puts
// the cells of many circuits on it). Reads are framed into whole cells. Writes are whole batches the
// channel's scheduler made; `write` answers false once the stream's buffer is full, and the channel
// waits for `onDrain` before it writes again. Reading is never paused: a full next hop is the business
// of the circuits' queues (cell-queue.ts), never a reason to stop every circuit on a link.
import type { Stream } from '@libp2p/interface';
import { CELL_BYTES } from '../wire/cell.ts';

/** A peer broke the cell protocol on this link; the link is closed with it as the reason. */
export class LinkProtocolError extends Error {
  override readonly name = 'LinkProtocolError';
  readonly code = 'LINK_PROTOCOL';
}

/** Process-wide link counters (cells and sends both ways), for metrics and batching diagnostics. */
export const linkCounters = { cellsOut: 0, sendsOut: 0, cellsIn: 0, chunksIn: 0 };

export class CellLink {
  readonly #stream: Stream;
  #rest: Uint8Array = new Uint8Array(0);
  #full = false;
  #closed = false;
  readonly #drainWaiters: Array<() => void> = [];
  onCell: (cell: Uint8Array) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  constructor(stream: Stream) {
    this.#stream = stream;
    stream.addEventListener('message', (evt) => this.#receive(evt.data.subarray()));
    // A connection-level drain reaches every stream of the connection, a stream whose own window is
    // still shut too: look once libp2p has tried to send what it buffered (its own drain listener
    // queued that first), so a neighbour that does not read cannot make us buffer a batch per drain.
    stream.addEventListener('drain', () => queueMicrotask(() => this.#drained()));
    stream.addEventListener('close', (evt) => this.#finish(evt.error));
    stream.addEventListener('remoteCloseWrite', () => this.abort(new Error('link closed by peer')));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the stream takes more now (false: wait for onDrain). */
  get writable(): boolean {
    return !this.#closed && !this.#full;
  }

  /** Sends `bytes` (whole cells) now; false means "buffer full: write nothing more until onDrain". */
  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    linkCounters.cellsOut += bytes.length / CELL_BYTES;
    linkCounters.sendsOut++;
    try {
      if (!this.#stream.send(bytes)) this.#full = true;
    } catch (err) {
      this.abort(err as Error);
      return false;
    }
    return !this.#full;
  }

  /** Calls `fn` once the link can take more (at once if it can now, or if it is closed). */
  onDrain(fn: () => void): void {
    if (!this.#full || this.#closed) fn();
    else this.#drainWaiters.push(fn);
  }

  /** Closes once what was written has gone out. */
  close(): void {
    if (this.#closed) return;
    this.#stream.close().catch((err: unknown) => this.#stream.abort(err as Error));
  }

  abort(err: Error): void {
    if (this.#closed) return;
    this.#stream.abort(err);
    this.#finish(err);
  }

  #receive(chunk: Uint8Array): void {
    // Own the bytes: cells are decrypted in place and may sit in another link's queue for a while.
    // Always a plain Uint8Array, never a Buffer (so no Buffer.concat): Buffer#slice is a view, and the
    // relay digest check once copied a field with slice(), rejecting good cells cut from a chunk that
    // began mid-cell (yamux cuts frames at its window) and tearing circuits down at random. It copies
    // with copyBytes now; plain bytes here keep any other slice() honest.
    let buf: Uint8Array;
    if (this.#rest.length > 0) {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest);
      buf.set(chunk, this.#rest.length);
    } else {
      buf = new Uint8Array(chunk);
    }
    linkCounters.chunksIn++;
    let off = 0;
    while (buf.length - off >= CELL_BYTES && !this.#closed) {
      linkCounters.cellsIn++;
      try {
        this.onCell(buf.subarray(off, off + CELL_BYTES));
      } catch (err) {
        // Whatever a peer sends, a handler that throws closes this link, never the process: the throw
        // would otherwise escape the stream's event listener as an uncaught exception.
        this.abort(new LinkProtocolError(`cell handler failed: ${(err as Error).message}`));
        return;
      }
      off += CELL_BYTES;
    }
    this.#rest = off === buf.length ? new Uint8Array(0) : buf.subarray(off);
  }

  #drained(): void {
    if (this.#closed || !this.#full || this.#stream.writableNeedsDrain) return;
    this.#full = false;
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#drainWaiters.splice(0)) w();
    this.onClose(err);
  }
}
