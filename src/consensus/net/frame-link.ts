// Length-prefixed frames over one libp2p stream, one direction: a sender side with a bounded queue and
// a receiver side that reassembles frames. Every frame is `length u32 (big-endian) | payload`.
//
// Back-pressure: while the stream's buffer is full, frames wait in a queue bounded by bytes; a peer so
// slow that the queue overflows is cut off (the ledger's sync catches it up later) rather than letting
// its backlog grow without limit.
import type { Stream } from '@libp2p/interface';

export const FRAME_HEADER_BYTES = 4;

export class FrameError extends Error {
  override readonly name = 'FrameError';
  readonly code: 'FRAME_TOO_LARGE' | 'QUEUE_FULL' | 'CLOSED';
  constructor(code: 'FRAME_TOO_LARGE' | 'QUEUE_FULL' | 'CLOSED', message: string) {
    super(message);
    this.code = code;
  }
}

export interface FrameLimits {
  /** Largest payload accepted or sent. */
  readonly maxFrameBytes: number;
  /** Largest backlog of unsent bytes before the link is cut. */
  readonly maxQueuedBytes: number;
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Reassembles frames from stream chunks; throws FrameError on an oversized length. */
export class FrameReader {
  readonly #max: number;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Feeds a chunk; returns the complete frames it finished. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: Uint8Array[] = [];
    let off = 0;
    while (this.#buf.length - off >= FRAME_HEADER_BYTES) {
      const len = new DataView(this.#buf.buffer, this.#buf.byteOffset + off, 4).getUint32(0);
      if (len > this.#max) throw new FrameError('FRAME_TOO_LARGE', `frame of ${len} bytes`);
      if (this.#buf.length - off - FRAME_HEADER_BYTES < len) break;
      frames.push(
        new Uint8Array(this.#buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len)),
      );
      off += FRAME_HEADER_BYTES + len;
    }
    this.#buf = off === this.#buf.length ? new Uint8Array(0) : this.#buf.subarray(off);
    return frames;
  }
}

/** The sending half: frames out, in order, with a bounded backlog. */
export class FrameSender {
  readonly #stream: Stream;
  readonly #limits: FrameLimits;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #waiting = false;
  #closed = false;
  #reported = false;
  onClose: (err?: Error) => void = () => {};

  constructor(stream: Stream, limits: FrameLimits) {
    this.#stream = stream;
    this.#limits = limits;
    stream.addEventListener('drain', () => {
      this.#waiting = false;
      this.#pump();
    });
    stream.addEventListener('close', (evt) => this.#finish(evt.error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one frame; false when the link is closed or was cut for falling too far behind. */
  send(payload: Uint8Array): boolean {
    if (this.#closed) return false;
    if (payload.length > this.#limits.maxFrameBytes) return false;
    const frame = encodeFrame(payload);
    if (this.#queued + frame.length > this.#limits.maxQueuedBytes) {
      this.abort(new FrameError('QUEUE_FULL', 'peer too slow: send backlog over its limit'));
      return false;
    }
    this.#queue.push(frame);
    this.#queued += frame.length;
    this.#pump();
    return true;
  }

  abort(err: Error): void {
    if (this.#closed) return;
    this.#stream.abort(err);
    this.#finish(err);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close().catch((err: unknown) => this.#stream.abort(err as Error));
  }

  #pump(): void {
    while (!this.#waiting && !this.#closed && this.#queue.length > 0) {
      const frame = this.#queue.shift() as Uint8Array;
      this.#queued -= frame.length;
      try {
        if (!this.#stream.send(frame)) this.#waiting = true;
      } catch (err) {
        this.abort(err as Error);
      }
    }
  }

  #finish(err?: Error): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#closed = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.onClose(err);
  }
}
