// A circuit built by hand, as an attacker would: AnonNet's pure wire codecs and crypto over a raw
// libp2p stream, without the client's circuit code, so it can break every rule that code keeps
// (EXTEND outside RELAY_EARLY, paths that loop, SENDMEs for data it never read). The attack scripts
// and the in-process attack tests (test/integration/attacks/) both drive it.
import { randomBytes } from 'node:crypto';
import type { Stream } from '@libp2p/interface';
import { createHandshakeClient } from '../../../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto } from '../../../src/crypto/relay-crypto.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  type CircuitId,
  CREATED_MESSAGE_BYTES,
  decodeRelayBody,
  decodeRelayPayload,
  encodeCell,
  encodeRelayCell,
  encodeRelayPayload,
  LinkCommand,
  RELAY_DIGEST_OFFSET,
  RELAY_HEADER_BYTES,
  RelayCommand,
  SENDME_DIGEST_BYTES,
  SENDME_VERSION_DIGEST,
} from '../../../src/wire/cell.ts';

export interface HandHop {
  readonly identityKey: Uint8Array;
  readonly onionKey: { readonly x25519: Uint8Array; readonly mlkem768: Uint8Array };
}

/** How a hand-built circuit ended. */
export type HandEnd =
  | { readonly kind: 'destroy'; readonly reason: number }
  | { readonly kind: 'truncated'; readonly hop: number; readonly reason: number }
  | { readonly kind: 'integrity' }
  | { readonly kind: 'link-closed'; readonly error?: string };

export class HandEndError extends Error {
  override readonly name = 'HandEndError';
  readonly end: HandEnd;
  constructor(end: HandEnd) {
    super(`circuit ended: ${JSON.stringify(end)}`);
    this.end = end;
  }
}

/**
 * How the circuit answers DATA: honest SENDMEs (v1 circuit digests and stream SENDMEs), stream SENDMEs
 * only (which need no authenticator), or none at all.
 */
export type Acknowledge = 'honest' | 'streams' | 'none';

export interface RelayMessageIn {
  readonly hop: number;
  readonly streamId: number;
  readonly command: number;
  readonly data: Uint8Array;
  /** DATA only: the padding after the data (random in the cell that makes a circuit SENDME due). */
  readonly padding?: Uint8Array;
}

interface Waiter {
  readonly pred: (m: RelayMessageIn) => boolean;
  readonly resolve: (m: RelayMessageIn) => void;
  readonly reject: (err: Error) => void;
}

function randomCircuitId(): CircuitId {
  for (;;) {
    const id = randomBytes(4).readUInt32BE(0);
    if (id !== 0) return id as CircuitId;
  }
}

export class HandCircuit {
  readonly #stream: Stream;
  readonly #id = randomCircuitId();
  readonly #crypto = new ClientCircuitCrypto();
  #rest = new Uint8Array(0);
  #created: ((body: Uint8Array) => void) | undefined;
  readonly #waiters = new Set<Waiter>();
  readonly #endWaiters: Array<(end: HandEnd) => void> = [];
  acknowledge: Acknowledge = 'honest';
  ended: HandEnd | undefined;
  /** Link bytes and cells both ways, and what they carried. */
  bytesSent = 0;
  bytesReceived = 0;
  cellsSent = 0;
  cellsReceived = 0;
  earlySent = 0;
  dataCellsReceived = 0;
  dataBytesReceived = 0;
  #streamCells = new Map<number, number>();
  onMessage: (m: RelayMessageIn) => void = () => {};

  private constructor(stream: Stream) {
    this.#stream = stream;
    stream.addEventListener('message', (evt) => this.#receive(evt.data.subarray()));
    stream.addEventListener('close', (evt) =>
      this.#end(evt.error ? { kind: 'link-closed', error: evt.error.message } : { kind: 'link-closed' }),
    );
  }

  get hops(): number {
    return this.#crypto.hops;
  }

  /** CREATE to the relay at the other end of `stream`. */
  static async create(stream: Stream, first: HandHop, timeoutMs = 10_000): Promise<HandCircuit> {
    const c = new HandCircuit(stream);
    const hs = createHandshakeClient(first.identityKey, first.onionKey);
    const created = new Promise<Uint8Array>((resolve, reject) => {
      c.#created = resolve;
      c.#endWaiters.push((end) => reject(new HandEndError(end)));
      setTimeout(() => reject(new Error('no CREATED')), timeoutMs).unref();
    });
    c.#send(encodeCell({ circuitId: c.#id, command: LinkCommand.CREATE, body: hs.message }));
    c.#crypto.addHop(hs.finish((await created).subarray(0, CREATED_MESSAGE_BYTES)));
    return c;
  }

  /**
   * EXTEND from the last hop to `hop` (in RELAY_EARLY unless `early` is false). True when EXTENDED
   * came back; false when the circuit ended instead (see `ended`).
   */
  async extend(hop: HandHop, early = true, timeoutMs = 10_000): Promise<boolean> {
    const hs = createHandshakeClient(hop.identityKey, hop.onionKey);
    const payload = encodeRelayPayload({ kind: 'extend', identityKey: hop.identityKey, create: hs.message });
    const reply = this.next((m) => m.command === RelayCommand.EXTENDED && m.hop === this.hops - 1, timeoutMs);
    this.sendRelay(this.hops - 1, 0, RelayCommand.EXTEND, payload, early);
    try {
      const m = await reply;
      const d = decodeRelayPayload(RelayCommand.EXTENDED, m.data);
      if (d.kind !== 'ok' || d.value.kind !== 'extended') throw new Error('malformed EXTENDED');
      this.#crypto.addHop(hs.finish(d.value.created));
      return true;
    } catch (err) {
      if (err instanceof HandEndError) return false;
      throw err;
    }
  }

  /** BEGIN on `streamId` at the last hop; resolves true on CONNECTED, false on END. */
  async begin(streamId: number, host: string, port: number, timeoutMs = 10_000): Promise<boolean> {
    const reply = this.next(
      (m) =>
        m.streamId === streamId && (m.command === RelayCommand.CONNECTED || m.command === RelayCommand.END),
      timeoutMs,
    );
    this.sendRelay(
      this.hops - 1,
      streamId,
      RelayCommand.BEGIN,
      encodeRelayPayload({ kind: 'begin', host, port, flags: 0 }),
    );
    return (await reply).command === RelayCommand.CONNECTED;
  }

  /** Encrypts a relay message for `targetHop` and sends it (RELAY_EARLY when `early`). */
  sendRelay(targetHop: number, streamId: number, command: number, data: Uint8Array, early = false): void {
    if (this.ended !== undefined) return;
    const link = early ? LinkCommand.RELAY_EARLY : LinkCommand.RELAY;
    if (early) this.earlySent++;
    const cell = encodeRelayCell(this.#id, streamId, command, data, link);
    this.#crypto.encryptForward(cell.subarray(CELL_HEADER_BYTES), targetHop);
    this.#send(cell);
  }

  /** Whether the stream can take more now (false: wait for onDrain before sending more). */
  get writable(): boolean {
    return !this.#stream.writableNeedsDrain;
  }

  onDrain(): Promise<void> {
    if (this.writable || this.ended !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#stream.addEventListener('drain', () => resolve(), { once: true });
      this.#endWaiters.push(() => resolve());
    });
  }

  /** The next recognized relay message for which `pred` holds; rejects with HandEndError on the end. */
  next(pred: (m: RelayMessageIn) => boolean, timeoutMs = 10_000): Promise<RelayMessageIn> {
    if (this.ended !== undefined) return Promise.reject(new HandEndError(this.ended));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`no matching relay message in ${timeoutMs} ms`));
      }, timeoutMs);
      const w: Waiter = {
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.add(w);
    });
  }

  /** Resolves with how the circuit ended (at once if it has), or undefined after `timeoutMs`. */
  whenEnded(timeoutMs: number): Promise<HandEnd | undefined> {
    if (this.ended !== undefined) return Promise.resolve(this.ended);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.#endWaiters.push((end) => {
        clearTimeout(timer);
        resolve(end);
      });
    });
  }

  /** DESTROY and close the stream. */
  close(): void {
    if (this.ended === undefined)
      this.#send(encodeCell({ circuitId: this.#id, command: LinkCommand.DESTROY, body: Uint8Array.of(0) }));
    this.#end({ kind: 'destroy', reason: 0 });
    this.#stream.close().catch(() => this.#stream.abort(new Error('closed')));
  }

  #send(cell: Uint8Array): void {
    this.bytesSent += cell.length;
    this.cellsSent++;
    try {
      this.#stream.send(cell);
    } catch (err) {
      this.#end({ kind: 'link-closed', error: (err as Error).message });
    }
  }

  #receive(chunk: Uint8Array): void {
    const buf = new Uint8Array(this.#rest.length + chunk.length);
    buf.set(this.#rest);
    buf.set(chunk, this.#rest.length);
    this.bytesReceived += chunk.length;
    let off = 0;
    while (buf.length - off >= CELL_BYTES) {
      this.#onCell(buf.subarray(off, off + CELL_BYTES));
      off += CELL_BYTES;
    }
    this.#rest = buf.slice(off);
  }

  #onCell(cell: Uint8Array): void {
    this.cellsReceived++;
    if (this.ended !== undefined) return;
    if (new DataView(cell.buffer, cell.byteOffset, 4).getUint32(0) !== this.#id) return;
    const body = cell.subarray(CELL_HEADER_BYTES);
    switch (cell[4]) {
      case LinkCommand.CREATED:
        this.#created?.(Uint8Array.from(body));
        this.#created = undefined;
        return;
      case LinkCommand.DESTROY:
        return this.#end({ kind: 'destroy', reason: body[0] ?? 0 });
      case LinkCommand.RELAY:
        return this.#onRelay(body);
      default:
        return;
    }
  }

  #onRelay(body: Uint8Array): void {
    const hop = this.#crypto.decryptBackward(body);
    if (hop < 0) return this.#end({ kind: 'integrity' });
    const m = decodeRelayBody(body);
    if (m.kind !== 'ok') return this.#end({ kind: 'integrity' });
    const { streamId, command, data } = m.value;
    if (command === RelayCommand.TRUNCATED)
      return this.#end({ kind: 'truncated', hop, reason: data[0] ?? 0 });
    if (command === RelayCommand.DATA) this.#onData(hop, streamId, data, body);
    const msg: RelayMessageIn = {
      hop,
      streamId,
      command,
      data: Uint8Array.from(data),
      ...(command === RelayCommand.DATA ? { padding: body.slice(RELAY_HEADER_BYTES + data.length) } : {}),
    };
    this.onMessage(msg);
    for (const w of [...this.#waiters]) {
      if (!w.pred(msg)) continue;
      this.#waiters.delete(w);
      w.resolve(msg);
    }
  }

  #onData(hop: number, streamId: number, data: Uint8Array, body: Uint8Array): void {
    this.dataCellsReceived++;
    this.dataBytesReceived += data.length;
    if (this.acknowledge === 'none') return;
    // As an honest client: a v1 circuit SENDME naming this cell's digest every 100 cells, a stream
    // SENDME every 50 cells of a stream.
    if (this.acknowledge === 'honest' && this.dataCellsReceived % 100 === 0) {
      const digest = body.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + SENDME_DIGEST_BYTES);
      this.sendSendme(hop, 0, digest);
    }
    const n = (this.#streamCells.get(streamId) ?? 0) + 1;
    this.#streamCells.set(streamId, n);
    if (n % 50 === 0) this.sendRelay(hop, streamId, RelayCommand.SENDME, new Uint8Array(0));
  }

  /** A circuit SENDME (streamId 0) naming `digest` (v1), or an empty one when `digest` is undefined. */
  sendSendme(hop: number, streamId: number, digest: Uint8Array | undefined): void {
    const payload = encodeRelayPayload(
      digest === undefined
        ? { kind: 'sendme' }
        : { kind: 'sendme', auth: { version: SENDME_VERSION_DIGEST, data: digest } },
    );
    this.sendRelay(hop, streamId, RelayCommand.SENDME, payload);
  }

  #end(end: HandEnd): void {
    if (this.ended !== undefined) return;
    this.ended = end;
    const err = new HandEndError(end);
    for (const w of [...this.#waiters]) w.reject(err);
    this.#waiters.clear();
    for (const w of this.#endWaiters.splice(0)) w(end);
  }
}
