// The streams of one circuit at one of its ends (client or exit): stream ids, the circuit-level
// flow-control windows, and the dispatch of stream messages (DATA, FIN, END, SENDME). Circuit-level
// SENDMEs are authenticated both ways (flow.ts, AuthenticatedSendWindow); stream-level ones are not, as
// in Tor: every DATA cell also needs room in the circuit window, so forged stream SENDMEs cannot move
// more than the circuit window allows. The exit reserves a stream's slot when BEGIN arrives, before any
// name lookup or connect: a reservation counts against the limit like an open stream, and is aborted
// when the peer ends that stream or the circuit closes.
import type {
  CircuitSender,
  CircuitStreams,
  ClientStreams,
  ClientStreamsFactory,
} from '../circuit/circuit-streams.ts';
import {
  AuthenticatedSendWindow,
  CIRCUIT_SENDME_EVERY,
  CIRCUIT_WINDOW,
  ReceiveWindow,
  SENDME_RANDOM_BYTES,
} from '../circuit/flow.ts';
import {
  encodeRelayPayload,
  RELAY_DIGEST_OFFSET,
  RelayCommand,
  type RelayMessage,
  SENDME_DIGEST_BYTES,
  SENDME_VERSION_DIGEST,
} from '../wire/cell.ts';
import { AnonStream, type StreamCarrier } from './anon-stream.ts';

export type { CircuitSender };

const EMPTY = new Uint8Array(0);

/** A stream slot held while the exit resolves and connects; `signal` aborts when the slot is lost. */
export interface StreamReservation {
  readonly signal: AbortSignal;
  /** Gives the slot back (idempotent; create() takes it over instead). */
  release(): void;
}

export class StreamGoneError extends Error {
  override readonly name = 'StreamGoneError';
  readonly code = 'STREAM_GONE';
}

/** The streams of one circuit at either end: circuit/'s ClientStreams, and the exit's CircuitStreams. */
export class StreamTable implements ClientStreams, CircuitStreams {
  readonly streams = new Map<number, AnonStream>();
  readonly #reserved = new Map<number, AbortController>();
  readonly #sender: CircuitSender;
  readonly #send = new AuthenticatedSendWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
  readonly #recv = new ReceiveWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
  readonly maxStreams: number;
  /** Streams ever opened on this circuit, and bytes both ways. */
  opened = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Called after a DATA cell was handed to its stream (the exit watches what its streams buffer). */
  onData: ((stream: AnonStream) => void) | undefined;

  constructor(sender: CircuitSender, maxStreams = 256) {
    this.#sender = sender;
    this.maxStreams = maxStreams;
  }

  /** Open streams and reservations together reach the limit. */
  get full(): boolean {
    return this.streams.size + this.#reserved.size >= this.maxStreams;
  }

  /** Whether `streamId` is open or reserved. */
  has(streamId: number): boolean {
    return this.streams.has(streamId) || this.#reserved.has(streamId);
  }

  get reserved(): number {
    return this.#reserved.size;
  }

  /**
   * Holds a slot for `streamId` before the stream exists (the exit's lookup and connect); undefined
   * when the id is in use or the table is full. END from the peer for that id, or closeAll(), aborts it.
   */
  reserve(streamId: number): StreamReservation | undefined {
    if (this.has(streamId) || this.full) return undefined;
    const ac = new AbortController();
    this.#reserved.set(streamId, ac);
    return {
      signal: ac.signal,
      release: () => {
        if (this.#reserved.get(streamId) === ac) this.#reserved.delete(streamId);
      },
    };
  }

  /** A stream id not in use, chosen at random (1..65535). */
  freeId(): number | undefined {
    if (this.streams.size + this.#reserved.size >= 65535) return undefined;
    for (;;) {
      const id = 1 + Math.floor(Math.random() * 65535);
      if (!this.has(id)) return id;
    }
  }

  /** Opens the stream `streamId`, taking over its reservation if it has one. */
  create(streamId: number): AnonStream {
    this.#reserved.delete(streamId);
    const sender = this.#sender;
    const send = this.#send;
    const carrier: StreamCarrier = {
      // The cell that makes the peer's SENDME due leaves room for its random padding.
      get maxData() {
        return send.nextIsDue ? sender.maxData - SENDME_RANDOM_BYTES : sender.maxData;
      },
      get writable() {
        return send.open && sender.linkWritable;
      },
      onWritable: (fn) => {
        if (!send.open) send.whenOpen(() => carrier.onWritable(fn));
        else sender.onLinkWritable(fn);
      },
      sendData: (data) => {
        const sendmeDigest = send.take();
        if (sendmeDigest !== undefined && data.length > sender.maxData - SENDME_RANDOM_BYTES)
          throw new Error('the cell that makes a SENDME due has no room for its random padding');
        this.bytesOut += data.length;
        sender.sendRelay(streamId, RelayCommand.DATA, data, sendmeDigest);
      },
      sendFin: () => sender.sendRelay(streamId, RelayCommand.FIN, EMPTY),
      sendEnd: (reason) => sender.sendRelay(streamId, RelayCommand.END, Uint8Array.of(reason)),
      sendSendme: () => sender.sendRelay(streamId, RelayCommand.SENDME, EMPTY),
      closed: () => {
        if (this.streams.get(streamId) === stream) this.streams.delete(streamId);
      },
    };
    const stream = new AnonStream(streamId, carrier);
    // A stream the peer ends with an error must never take the process down, whether or not its
    // user listens for 'error' yet (a refused BEGIN ends the stream before anyone holds it).
    stream.on('error', () => {});
    this.streams.set(streamId, stream);
    this.opened++;
    return stream;
  }

  /**
   * Handles a stream message (decoded by the circuit: wire/cell.ts decodeRelayMessage); false when it is
   * not a stream message (the caller handles it). `body` is the plaintext relay body it came in (a
   * circuit SENDME names a DATA cell's digest field). Throws FlowControlError on a window violation or
   * an unauthentic circuit SENDME: the caller tears the circuit down.
   */
  handle(streamId: number, m: RelayMessage, body: Uint8Array): boolean {
    if (m.kind === 'sendme' && streamId === 0) {
      this.#send.grant(m.auth);
      return true;
    }
    const stream = this.streams.get(streamId);
    switch (m.kind) {
      case 'data':
        this.#recv.received();
        this.bytesIn += m.data.length;
        // Cells for a stream we already closed still count for the circuit window.
        if (stream !== undefined) {
          stream.onData(m.data);
          this.onData?.(stream);
        }
        if (this.#recv.delivered()) {
          this.#recv.acknowledged();
          this.#sender.sendRelay(0, RelayCommand.SENDME, circuitSendmePayload(body));
        }
        return true;
      case 'fin':
        stream?.onFin();
        return true;
      case 'end':
        stream?.onEnd(m.reason);
        this.#abortReservation(streamId, new StreamGoneError('the peer ended the stream'));
        return true;
      case 'sendme':
        stream?.onSendme();
        return true;
      default:
        return false;
    }
  }

  #abortReservation(streamId: number, err: Error): void {
    const ac = this.#reserved.get(streamId);
    if (ac === undefined) return;
    this.#reserved.delete(streamId);
    ac.abort(err);
  }

  closeAll(err: Error): void {
    this.#send.clear();
    for (const id of [...this.#reserved.keys()]) this.#abortReservation(id, err);
    for (const s of [...this.streams.values()]) s.onCircuitClosed(err);
    this.streams.clear();
  }
}

/** The payload of a circuit SENDME for the DATA cell in `body`: version 1, that cell's digest field. */
function circuitSendmePayload(body: Uint8Array): Uint8Array {
  const data = body.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + SENDME_DIGEST_BYTES);
  return encodeRelayPayload({ kind: 'sendme', auth: { version: SENDME_VERSION_DIGEST, data } });
}

/** The client's streams on a new circuit (circuit/'s ClientStreamsFactory). */
export const clientStreams: ClientStreamsFactory = (sender) => new StreamTable(sender);
