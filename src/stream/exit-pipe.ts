// Joins an exit stream and its TCP socket, with back-pressure both ways: a socket that does not take
// data pauses the stream (whose withheld SENDMEs then slow the client), a circuit that does not take
// data pauses the socket. What either side holds is readable in `buffered`, so the exit can bound what
// one circuit buffers across all its streams.
import type { Socket } from 'node:net';
import type { AnonStream } from './anon-stream.ts';

export interface PipeWatcher {
  /** The pipe's buffers may have grown (data arrived from the destination). */
  grew(pipe: ExitPipe): void;
  /** The destination stopped taking data (true) or took it again (false). */
  backedUp(pipe: ExitPipe, backedUp: boolean): void;
  /** The stream and its socket are gone. */
  closed(pipe: ExitPipe): void;
}

export class ExitPipe {
  readonly stream: AnonStream;
  readonly socket: Socket;
  #backedUp = false;
  #socketPaused = false;
  #closed = false;

  constructor(stream: AnonStream, socket: Socket, watcher: PipeWatcher) {
    this.stream = stream;
    this.socket = socket;
    // Towards the destination.
    stream.on('data', (chunk: Buffer) => {
      if (socket.write(chunk) || this.#backedUp) return;
      this.#backedUp = true;
      stream.pause();
      watcher.backedUp(this, true);
    });
    socket.on('drain', () => {
      if (!this.#backedUp) return;
      this.#backedUp = false;
      stream.resume();
      watcher.backedUp(this, false);
    });
    stream.on('end', () => socket.end());
    // Towards the circuit.
    socket.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk) && !this.#socketPaused) {
        this.#socketPaused = true;
        socket.pause();
        stream.once('drain', () => {
          this.#socketPaused = false;
          socket.resume();
        });
      }
      watcher.grew(this);
    });
    socket.on('end', () => {
      if (!stream.writableEnded) stream.end();
    });
    // Either side failing or closing takes the other with it.
    socket.on('error', (err) => stream.destroy(err));
    stream.on('error', () => socket.destroy());
    let gone = 0;
    // Forgotten once both the stream and the socket are closed (the socket usually goes first).
    const close = () => {
      if (++gone < 2 || this.#closed) return;
      this.#closed = true;
      if (this.#backedUp) watcher.backedUp(this, false);
      this.#backedUp = false;
      watcher.closed(this);
    };
    stream.on('close', () => {
      socket.destroy();
      close();
    });
    socket.on('close', () => {
      if (!stream.writableEnded) stream.end();
      close();
    });
  }

  /** Bytes this stream holds at the exit, both ways. */
  get buffered(): number {
    return (
      this.stream.readableLength +
      this.socket.writableLength +
      this.stream.writableLength +
      this.socket.readableLength
    );
  }
}
