// Window-based flow control, as Tor's SENDME: a sender may have at most `size` DATA cells
// unacknowledged; the receiver sends one SENDME per `increment` cells it has passed on to its reader,
// which reopens the window by `increment`. A slow reader therefore slows the sender instead of
// making anyone buffer without bound.

export const STREAM_WINDOW = 500;
export const STREAM_SENDME_EVERY = 50;
export const CIRCUIT_WINDOW = 1000;
export const CIRCUIT_SENDME_EVERY = 100;

export class FlowControlError extends Error {
  override readonly name = 'FlowControlError';
  readonly code = 'FLOW_VIOLATION';
}

export class SendWindow {
  #left: number;
  readonly #size: number;
  readonly #increment: number;
  #waiters: Array<() => void> = [];

  constructor(size: number, increment: number) {
    this.#left = size;
    this.#size = size;
    this.#increment = increment;
  }

  get open(): boolean {
    return this.#left > 0;
  }

  get left(): number {
    return this.#left;
  }

  /** Spends one cell of the window; the caller checked `open`. */
  take(): void {
    this.#left--;
  }

  /** A SENDME arrived. More credit than was ever spent is a protocol violation. */
  grant(): void {
    if (this.#left + this.#increment > this.#size) throw new FlowControlError('SENDME beyond the window');
    this.#left += this.#increment;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Runs `fn` once the window is open (at once if it is). */
  whenOpen(fn: () => void): void {
    if (this.open) fn();
    else this.#waiters.push(fn);
  }

  /** Drops waiters (the circuit or stream is gone). */
  clear(): void {
    this.#waiters = [];
  }
}

/** Counts cells delivered to the reader; says when a SENDME is due. */
export class ReceiveWindow {
  #unacked = 0;
  #received = 0;
  readonly #size: number;
  readonly #increment: number;

  constructor(size: number, increment: number) {
    this.#size = size;
    this.#increment = increment;
  }

  /** A DATA cell arrived; more than the window allows is a protocol violation. */
  received(): void {
    this.#received++;
    if (this.#received > this.#size) throw new FlowControlError('peer sent beyond its window');
  }

  /** A DATA cell was passed on to the reader; true when a SENDME is due (send it, then acknowledged()). */
  delivered(): boolean {
    this.#unacked++;
    if (this.#unacked < this.#increment) return false;
    this.#unacked -= this.#increment;
    return true;
  }

  /**
   * A SENDME went out: only now may the peer send `increment` more. A SENDME held back because the
   * reader is behind grants nothing, so a peer that ignores the window is caught, not buffered.
   */
  acknowledged(): void {
    this.#received -= this.#increment;
  }
}
