// A TCP-like stream carried by a circuit, as a Node Duplex: the same class at both ends (the client
// hands it to the proxy, the exit pipes it to a socket). Writes are cut into DATA cells and wait for
// the stream's and the circuit's flow-control windows; reads grant the peer more window only when the
// reader keeps up. Half-close: end() sends FIN, the peer's FIN ends our readable side.
import { Duplex } from 'node:stream';
import { type CircuitStream, StreamEndedError } from '../circuit/circuit-streams.ts';
import { ReceiveWindow, SendWindow, STREAM_SENDME_EVERY, STREAM_WINDOW } from '../circuit/flow.ts';

export interface StreamCarrier {
  readonly maxData: number;
  sendData(data: Uint8Array): void;
  sendFin(): void;
  sendEnd(reason: number): void;
  sendSendme(): void;
  /** Whether the circuit (its window and its link) can take another DATA cell now... */
  readonly writable: boolean;
  /** ...and if not, runs `fn` once it can. */
  onWritable(fn: () => void): void;
  /** The stream is gone from both sides: forget it. */
  closed(): void;
}

import { EndReason } from '../wire/cell.ts';

// Defined with the circuit's side of streams (the client's BEGIN fails with it too).
export { EndReason, StreamEndedError };

export class AnonStream extends Duplex implements CircuitStream {
  readonly streamId: number;
  readonly #carrier: StreamCarrier;
  readonly #sendWindow = new SendWindow(STREAM_WINDOW, STREAM_SENDME_EVERY);
  readonly #recvWindow = new ReceiveWindow(STREAM_WINDOW, STREAM_SENDME_EVERY);
  #sendmesOwed = 0;
  #incoming: Uint8Array[] = [];
  #finPending = false;
  #remoteEnded = false;
  #finSent = false;
  #endSent = false;
  #forgotten = false;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(streamId: number, carrier: StreamCarrier) {
    super({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    this.streamId = streamId;
    this.#carrier = carrier;
    this.once('end', () => this.#maybeDone());
    this.once('finish', () => this.#maybeDone());
  }

  // ---- from the circuit ----

  onData(data: Uint8Array): void {
    if (this.destroyed) return;
    this.#recvWindow.received();
    this.bytesRead += data.length;
    // Cells that arrive together are handed on together: one push, one write to the application's
    // socket, instead of one per 2 KiB cell.
    this.#incoming.push(data);
    if (this.#incoming.length === 1) queueMicrotask(() => this.#deliver());
  }

  #deliver(): void {
    const batch = this.#incoming;
    this.#incoming = [];
    if (this.destroyed || batch.length === 0) return;
    const roomLeft = this.push(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    for (let i = 0; i < batch.length; i++) {
      if (!this.#recvWindow.delivered()) continue;
      if (roomLeft) this.#sendSendme();
      else this.#sendmesOwed++;
    }
    if (this.#finPending) {
      this.#finPending = false;
      this.push(null);
    }
  }

  onFin(): void {
    if (this.readableEnded) return;
    if (this.#incoming.length > 0) this.#finPending = true;
    else this.push(null);
  }

  onSendme(): void {
    this.#sendWindow.grant();
  }

  /** The peer closed the whole stream (DONE) or refused/failed it (any other reason). */
  onEnd(reason: number): void {
    this.#remoteEnded = true;
    if (reason === EndReason.DONE) {
      // A clean end: what is buffered still reaches the reader, then 'end', then the stream goes.
      this.#deliver();
      this.#finPending = false;
      if (!this.readableEnded) this.push(null);
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
    } else {
      this.destroy(new StreamEndedError(reason, `stream ended by peer (reason ${reason})`));
    }
  }

  /** The circuit died under the stream. */
  onCircuitClosed(err: Error): void {
    this.#remoteEnded = true;
    this.destroy(err);
  }

  // ---- Duplex ----

  override _read(): void {
    while (this.#sendmesOwed > 0) {
      this.#sendmesOwed--;
      this.#sendSendme();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let off = 0;
    const next = (): void => {
      if (this.destroyed) return cb(new Error('stream destroyed'));
      while (off < chunk.length) {
        if (!this.#sendWindow.open) return this.#sendWindow.whenOpen(next);
        if (!this.#carrier.writable) return this.#carrier.onWritable(next);
        const n = Math.min(this.#carrier.maxData, chunk.length - off);
        this.#carrier.sendData(chunk.subarray(off, off + n));
        this.#sendWindow.take();
        this.bytesWritten += n;
        off += n;
      }
      cb();
    };
    next();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#finSent = true;
    this.#carrier.sendFin();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#sendWindow.clear();
    if (!this.#remoteEnded && !this.#endSent) {
      this.#endSent = true;
      // A StreamEndedError we raise ourselves names its reason (the exit's RESOURCELIMIT).
      this.#carrier.sendEnd(
        err instanceof StreamEndedError ? err.reason : err ? EndReason.MISC : EndReason.DONE,
      );
    }
    this.#forget();
    cb(err);
  }

  #sendSendme(): void {
    this.#recvWindow.acknowledged();
    this.#carrier.sendSendme();
  }

  #maybeDone(): void {
    if (this.readableEnded && this.writableFinished) {
      if (!this.#remoteEnded && !this.#endSent && this.#finSent) {
        this.#endSent = true;
        this.#carrier.sendEnd(EndReason.DONE);
      }
      this.destroy();
    }
  }

  #forget(): void {
    if (this.#forgotten) return;
    this.#forgotten = true;
    this.#carrier.closed();
  }
}
