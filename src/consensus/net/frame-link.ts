// Length-prefixed frames over one libp2p stream, one direction: a sender side with a bounded queue and
// a receiver side that reassembles frames. Every frame is `length u32 (big-endian) | payload`.
//
// Frames queued in one turn of the event loop go out as one write (up to COALESCE_BYTES): flooding a
// transaction or a vote to every peer would otherwise cost one yamux frame, one Noise message and one
// socket write per small frame (the ledger benchmark's validators spent more time in socket writes
// than in checking signatures). The receiver sees the same byte stream either way.
//
// Back-pressure: while the stream's buffer is full, frames wait in a queue bounded by bytes; a peer so
// slow that the queue overflows is cut off (the ledger's sync catches it up later) rather than letting
// its backlog grow without limit.
import type { Stream } from '@libp2p/interface';

export const FRAME_HEADER_BYTES = 4;

/** Frames queued together are joined into writes of at most this many bytes (a larger frame goes alone). */
export const COALESCE_BYTES = 64 * 1024;

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
  #scheduled = false;
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
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
    return true;
  }

  abort(err: Error): void {
    if (this.#closed) return;
    this.#stream.abort(err);
    this.#finish(err);
  }

  /** Hands every queued frame to the stream (its own buffer absorbs them), then closes it. */
  close(): void {
    if (this.#closed) return;
    this.#waiting = false;
    this.#pump(true);
    this.#closed = true;
    this.#stream.close().catch((err: unknown) => this.#stream.abort(err as Error));
  }

  #pump(all = false): void {
    while ((all || !this.#waiting) && !this.#closed && this.#queue.length > 0) {
      const batch = this.#takeBatch();
      try {
        if (!this.#stream.send(batch)) this.#waiting = true;
      } catch (err) {
        this.abort(err as Error);
      }
    }
  }

  /** The next frames in order, joined up to COALESCE_BYTES; a frame larger than that goes alone. */
  #takeBatch(): Uint8Array {
    let count = 0;
    let bytes = 0;
    for (const f of this.#queue) {
      if (count > 0 && bytes + f.length > COALESCE_BYTES) break;
      count++;
      bytes += f.length;
    }
    const frames = this.#queue.splice(0, count);
    this.#queued -= bytes;
    return frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames, bytes);
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
