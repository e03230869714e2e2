// One stream of a fuzzing session, seen from the attacker: what the victim sent (buffered, bounded),
// whether it closed its side or reset the stream, and small waits with deadlines so a session can
// follow the conversation ("send CREATE, wait for CREATED or DESTROY") without ever hanging.
import type { Stream } from '@libp2p/interface';

/** The attacker keeps at most this much unread victim output per stream (the rest is counted, dropped). */
const MAX_BUFFERED = 4 * 1024 * 1024;

export class Conversation {
  readonly stream: Stream;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Every byte the victim sent on this stream. */
  received = 0;
  sent = 0;
  /** The victim closed its writing side. */
  remoteEnded = false;
  /** The stream is gone (either side closed or reset it). */
  closed = false;
  /** Set when the stream closed with an error (a reset by the victim, or our abort). */
  closeError: Error | undefined;
  #aborted = false;
  readonly #waiters = new Set<() => void>();

  constructor(stream: Stream) {
    this.stream = stream;
    stream.addEventListener('message', (evt) => {
      const bytes = evt.data.subarray();
      this.received += bytes.length;
      if (this.#buffered + bytes.length <= MAX_BUFFERED) {
        this.#chunks.push(bytes);
        this.#buffered += bytes.length;
      }
      this.#wake();
    });
    stream.addEventListener('remoteCloseWrite', () => {
      this.remoteEnded = true;
      this.#wake();
    });
    stream.addEventListener('close', (evt) => {
      this.closed = true;
      this.closeError = evt.error;
      this.#wake();
    });
  }

  /** The victim reset or closed the stream on us (not our own abort). */
  get closedByVictim(): boolean {
    return (this.closed && !this.#aborted) || this.remoteEnded;
  }

  get available(): number {
    return this.#buffered;
  }

  /** Writes bytes; false once the stream cannot take them (closed, reset, or over its buffer). */
  send(bytes: Uint8Array): boolean {
    if (this.closed || this.stream.writeStatus !== 'writable') return false;
    try {
      this.stream.send(bytes);
      this.sent += bytes.length;
      return true;
    } catch {
      return false;
    }
  }

  /** Waits (up to `ms`) until the stream can take more after a send that filled its buffer. */
  async whenWritable(ms: number): Promise<void> {
    if (!this.stream.writableNeedsDrain || this.closed) return;
    let drained = false;
    const onDrain = (): void => {
      drained = true;
      this.#wake();
    };
    this.stream.addEventListener('drain', onDrain, { once: true });
    await this.#until(() => drained || this.closed, ms);
    this.stream.removeEventListener('drain', onDrain);
  }

  /** Waits until `n` bytes are buffered; false on close or timeout. */
  async waitBytes(n: number, ms: number): Promise<boolean> {
    await this.#until(() => this.#buffered >= n || this.closed || this.remoteEnded, ms);
    return this.#buffered >= n;
  }

  /** Waits until the stream is closed (either side); false on timeout. */
  async waitClosed(ms: number): Promise<boolean> {
    await this.#until(() => this.closed, ms);
    return this.closed;
  }

  /** Takes exactly `n` buffered bytes (undefined when fewer are buffered). */
  take(n: number): Uint8Array | undefined {
    if (this.#buffered < n) return undefined;
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }

  /** The first `n` buffered bytes (fewer when fewer are buffered), without taking them. */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.#buffered));
    let at = 0;
    for (const c of this.#chunks) {
      if (at >= out.length) break;
      const k = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, k), at);
      at += k;
    }
    return out;
  }

  /** Everything buffered, as one array. */
  takeAll(): Uint8Array {
    return this.take(this.#buffered) ?? new Uint8Array(0);
  }

  /** Closes our writing side (a half-closed stream); the victim may still answer. */
  halfClose(): void {
    if (this.closed) return;
    this.stream.close({ signal: AbortSignal.timeout(5_000) }).catch(() => {});
  }

  abort(): void {
    if (this.closed) return;
    this.#aborted = true;
    this.stream.abort(new Error('fuzzer abort'));
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #until(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#waiters.add(check);
    });
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
