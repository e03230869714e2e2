// What a circuit needs of the streams it carries. stream/ sits above circuit/ (DESIGN.md, Layers):
// the circuit hands stream messages to these interfaces, and src/stream/ implements them (StreamTable
// at the client, Exit.open at the last hop). The circuit never names the classes behind them.
import type { Duplex } from 'node:stream';
import type { RelayMessage } from '../wire/cell.ts';

export interface CircuitSender {
  /**
   * Encrypts and sends one relay message on the circuit. `sendmeDigest` is given for the DATA cell
   * that makes the peer's circuit SENDME due: the sender fills the cell's padding with random bytes
   * (the data leaves at least SENDME_RANDOM_BYTES) and copies the cell's digest field into it.
   */
  sendRelay(streamId: number, command: number, data: Uint8Array, sendmeDigest?: Uint8Array): void;
  readonly linkWritable: boolean;
  onLinkWritable(fn: () => void): void;
  readonly maxData: number;
}

/** A stream as the circuit's users see it (AnonStream, src/stream/anon-stream.ts). */
export interface CircuitStream extends Duplex {
  readonly streamId: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** The streams at one end of one circuit. */
export interface CircuitStreams {
  /** No room for another stream. */
  readonly full: boolean;
  /**
   * Handles a stream message (DATA, FIN, END, SENDME), decoded once by wire/cell.ts; false when it is
   * not one (the circuit handles it). `body` is the plaintext relay body it came in. Throws
   * FlowControlError (flow.ts) on a window violation or an unauthentic circuit SENDME: the circuit is
   * torn down.
   */
  handle(streamId: number, m: RelayMessage, body: Uint8Array): boolean;
  /** The circuit is gone: every stream ends with `err`. */
  closeAll(err: Error): void;
}

/** The client's end: it opens streams on ids it picks, and counts what they carry. */
export interface ClientStreams extends CircuitStreams {
  readonly streams: ReadonlyMap<number, CircuitStream>;
  /** Streams ever opened on this circuit, and bytes both ways. */
  readonly opened: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** A stream id not in use, or undefined when none is left. */
  freeId(): number | undefined;
  create(streamId: number): CircuitStream;
}

/** Builds the streams of a client circuit (src/stream/stream-table.ts: clientStreams). */
export type ClientStreamsFactory = (sender: CircuitSender) => ClientStreams;

/** The exit's end of one circuit that reaches it as its last hop: stream messages, BEGIN, RESOLVE. */
export interface ExitStreams extends CircuitStreams {
  /** Answers BEGIN (already decoded): CONNECTED and a stream, or END with a reason. */
  begin(streamId: number, host: string, port: number): Promise<void>;
  /** Answers RESOLVE (already decoded): RESOLVED, or END with a reason. */
  resolve(streamId: number, host: string): Promise<void>;
}

export interface ExitStreamsContext {
  readonly sender: CircuitSender;
  readonly maxStreams: number;
  /** Tears the circuit down (a protocol violation, or a circuit refused too often). */
  readonly closeCircuit: (reason: number) => void;
  /** Aborts when the circuit is gone. */
  readonly signal: AbortSignal;
}

/** The exit side of the relay's circuits (Exit, src/stream/exit.ts). */
export interface ExitHandler {
  open(ctx: ExitStreamsContext): ExitStreams;
}

/** A stream ended by the peer or refused by the exit, with the END reason (wire/cell.ts EndReason). */
export class StreamEndedError extends Error {
  override readonly name = 'StreamEndedError';
  readonly code = 'STREAM_ENDED';
  readonly reason: number;
  constructor(reason: number, message: string) {
    super(message);
    this.reason = reason;
  }
}
