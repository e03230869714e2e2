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
import { CodedError } from '../../wire/coded-error.ts';

export const FRAME_HEADER_BYTES = 4;

/** Frames queued together are joined into writes of at most this many bytes (a larger frame goes alone). */
export const COALESCE_BYTES = 64 * 1024;

export class FrameError extends CodedError<'FRAME_TOO_LARGE' | 'QUEUE_FULL' | 'CLOSED'> {
  override readonly name = 'FrameError';
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

/**
 * Reassembles frames from stream chunks; throws FrameError on an oversized length. Chunks wait in a
 * list until a frame is complete and each byte is copied once, into its frame: a large frame that
 * trickles in as many small chunks costs its length, not its length times the number of chunks.
 */
export class FrameReader {
  readonly #max: number;
  readonly #chunks: Uint8Array[] = [];
  /** Bytes of #chunks[0] already consumed. */
  #offset = 0;
  /** Unconsumed bytes in #chunks. */
  #have = 0;
  /** Payload length of the frame being read, or -1 while its header is not complete. */
  #need = -1;

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** Bytes held for frames not yet complete. */
  get buffered(): number {
    return this.#have;
  }

  /** Feeds a chunk; returns the complete frames it finished. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#have += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#need < 0) {
        if (this.#have < FRAME_HEADER_BYTES) break;
        const header = this.#take(FRAME_HEADER_BYTES);
        const len = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0);
        if (len > this.#max) throw new FrameError('FRAME_TOO_LARGE', `frame of ${len} bytes`);
        this.#need = len;
      }
      if (this.#have < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = -1;
    }
    return frames;
  }

  /** The next `n` buffered bytes as a new array (the caller checked that they are there). */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0] as Uint8Array;
      const k = Math.min(n - filled, c.length - this.#offset);
      out.set(c.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      this.#offset += k;
      if (this.#offset === c.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#have -= n;
    return out;
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
