// Window-based flow control, as Tor's SENDME: a sender may have at most `size` DATA cells
// unacknowledged; the receiver sends one SENDME per `increment` cells it has passed on to its reader,
// which reopens the window by `increment`. A slow reader therefore slows the sender instead of
// making anyone buffer without bound.
//
// Circuit-level SENDMEs are authenticated (Tor proposal 289, AuthenticatedSendWindow): each names the
// digest of the DATA cell that made it due, which only a receiver that got that cell knows, so a
// client cannot acknowledge data it never received to make an exit pour data into the network.
import { timingSafeEqual } from 'node:crypto';
import { SENDME_DIGEST_BYTES, SENDME_VERSION_DIGEST, type SendmeAuth } from '../wire/cell.ts';
import { CodedError } from '../wire/coded-error.ts';

export const STREAM_WINDOW = 500;
export const STREAM_SENDME_EVERY = 50;
export const CIRCUIT_WINDOW = 1000;
export const CIRCUIT_SENDME_EVERY = 100;
/**
 * Random padding bytes, at least, in the DATA cell that makes a circuit SENDME due: its digest then
 * depends on bytes the receiver can only learn by receiving the cell, even when it knows the data.
 */
export const SENDME_RANDOM_BYTES = 16;

/**
 * FLOW_VIOLATION: a window was overrun. SENDME_UNEXPECTED: a circuit SENDME acknowledges data never
 * sent. SENDME_FORGED: a circuit SENDME without a version-1 authenticator, or naming another digest.
 */
export type FlowViolation = 'FLOW_VIOLATION' | 'SENDME_UNEXPECTED' | 'SENDME_FORGED';

export class FlowControlError extends CodedError<FlowViolation> {
  override readonly name = 'FlowControlError';

  constructor(message: string, code: FlowViolation = 'FLOW_VIOLATION') {
    super(code, message);
  }
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

/**
 * The data sender's circuit-level window with authenticated SENDMEs (Tor proposal 289). Every
 * `increment`-th DATA cell makes the receiver's SENDME due: take() then hands out a buffer for that
 * cell's digest field, which the sender fills while sealing the cell (and gives the cell at least
 * SENDME_RANDOM_BYTES of random padding). grant() accepts a SENDME only when it names the oldest such
 * digest not yet acknowledged. At most size / increment digests wait (10 by default): take() needs an
 * open window, so the queue is bounded by the window itself.
 */
export class AuthenticatedSendWindow {
  readonly #window: SendWindow;
  readonly #increment: number;
  readonly #expected: Uint8Array[] = [];
  /** DATA cells sent since the last one that made a SENDME due. */
  #sinceDue = 0;

  constructor(size: number, increment: number) {
    this.#window = new SendWindow(size, increment);
    this.#increment = increment;
  }

  get open(): boolean {
    return this.#window.open;
  }

  get left(): number {
    return this.#window.left;
  }

  /** Digests sent and not yet acknowledged. */
  get outstanding(): number {
    return this.#expected.length;
  }

  /** Whether the next DATA cell makes a SENDME due (it must leave room for the random padding). */
  get nextIsDue(): boolean {
    return this.#sinceDue + 1 >= this.#increment;
  }

  /**
   * Spends one cell of the window (the caller checked `open`). For the cell that makes a SENDME due,
   * returns the SENDME_DIGEST_BYTES buffer the sender must fill with that cell's digest field before
   * anything else runs; it is what the SENDME must name.
   */
  take(): Uint8Array | undefined {
    this.#window.take();
    if (++this.#sinceDue < this.#increment) return undefined;
    this.#sinceDue = 0;
    const digest = new Uint8Array(SENDME_DIGEST_BYTES);
    this.#expected.push(digest);
    return digest;
  }

  /** A circuit-level SENDME arrived with `auth`. Throws FlowControlError unless it is authentic. */
  grant(auth: SendmeAuth | undefined): void {
    const expected = this.#expected[0];
    if (expected === undefined)
      throw new FlowControlError('a circuit SENDME acknowledges data never sent', 'SENDME_UNEXPECTED');
    if (auth === undefined || auth.version !== SENDME_VERSION_DIGEST)
      throw new FlowControlError(
        `a circuit SENDME without a version-${SENDME_VERSION_DIGEST} authenticator`,
        'SENDME_FORGED',
      );
    if (auth.data.length !== SENDME_DIGEST_BYTES || !timingSafeEqual(auth.data, expected))
      throw new FlowControlError('a circuit SENDME names a cell that was not sent', 'SENDME_FORGED');
    this.#expected.shift();
    this.#window.grant();
  }

  whenOpen(fn: () => void): void {
    this.#window.whenOpen(fn);
  }

  clear(): void {
    this.#window.clear();
  }
}
