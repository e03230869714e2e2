// The streams of one circuit at one of its ends (client or exit): stream ids, the circuit-level
// flow-control windows, and the dispatch of stream messages (DATA, FIN, END, SENDME).
import { CIRCUIT_SENDME_EVERY, CIRCUIT_WINDOW, ReceiveWindow, SendWindow } from '../circuit/flow.ts';
import { RelayCommand } from '../wire/cell.ts';
import { AnonStream, type StreamCarrier } from './anon-stream.ts';

export interface CircuitSender {
  /** Encrypts and sends one relay message on the circuit. */
  sendRelay(streamId: number, command: number, data: Uint8Array): void;
  readonly linkWritable: boolean;
  onLinkWritable(fn: () => void): void;
  readonly maxData: number;
}

const EMPTY = new Uint8Array(0);

export class StreamTable {
  readonly streams = new Map<number, AnonStream>();
  readonly #sender: CircuitSender;
  readonly #send = new SendWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
  readonly #recv = new ReceiveWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
  readonly maxStreams: number;
  /** Streams ever opened on this circuit, and bytes both ways. */
  opened = 0;
  bytesIn = 0;
  bytesOut = 0;

  constructor(sender: CircuitSender, maxStreams = 256) {
    this.#sender = sender;
    this.maxStreams = maxStreams;
  }

  get full(): boolean {
    return this.streams.size >= this.maxStreams;
  }

  /** A stream id not in use, chosen at random (1..65535). */
  freeId(): number | undefined {
    if (this.streams.size >= 65535) return undefined;
    for (;;) {
      const id = 1 + Math.floor(Math.random() * 65535);
      if (!this.streams.has(id)) return id;
    }
  }

  create(streamId: number): AnonStream {
    const sender = this.#sender;
    const send = this.#send;
    const carrier: StreamCarrier = {
      maxData: sender.maxData,
      get writable() {
        return send.open && sender.linkWritable;
      },
      onWritable: (fn) => {
        if (!send.open) send.whenOpen(() => carrier.onWritable(fn));
        else sender.onLinkWritable(fn);
      },
      sendData: (data) => {
        send.take();
        this.bytesOut += data.length;
        sender.sendRelay(streamId, RelayCommand.DATA, data);
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
   * Handles a stream message; false when the command is not a stream message (the caller handles it).
   * Throws FlowControlError on a window violation: the caller tears the circuit down.
   */
  handle(streamId: number, command: number, data: Uint8Array): boolean {
    if (command === RelayCommand.SENDME && streamId === 0) {
      this.#send.grant();
      return true;
    }
    const stream = this.streams.get(streamId);
    switch (command) {
      case RelayCommand.DATA:
        this.#recv.received();
        this.bytesIn += data.length;
        // Cells for a stream we already closed still count for the circuit window.
        stream?.onData(data);
        if (this.#recv.delivered()) {
          this.#recv.acknowledged();
          this.#sender.sendRelay(0, RelayCommand.SENDME, EMPTY);
        }
        return true;
      case RelayCommand.FIN:
        stream?.onFin();
        return true;
      case RelayCommand.END:
        stream?.onEnd(data[0] ?? 1);
        return true;
      case RelayCommand.SENDME:
        stream?.onSendme();
        return true;
      default:
        return false;
    }
  }

  closeAll(err: Error): void {
    this.#send.clear();
    for (const s of [...this.streams.values()]) s.onCircuitClosed(err);
    this.streams.clear();
  }
}
