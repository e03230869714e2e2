// A circuit seen from the client that built it: telescoping construction (CREATE to the first hop,
// then EXTEND through the circuit for every further hop), layered encryption of every relay cell,
// and the streams it carries. Only the client knows the whole path; each relay knows its neighbours.
import { randomFillSync, randomUUID } from 'node:crypto';
import type { Libp2p } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createHandshakeClient } from '../crypto/circuit-handshake.ts';
import { ClientCircuitCrypto } from '../crypto/relay-crypto.ts';
import { ReceiptCounter, type ReceiptSigner } from '../economy/receipt-counter.ts';
import {
  CELL_HEADER_BYTES,
  type CircuitId,
  CREATED_MESSAGE_BYTES,
  DestroyReason,
  decodeCell,
  decodeRelayMessage,
  EndReason,
  encodeCell,
  encodeRelayCell,
  encodeRelayPayload,
  LinkCommand,
  MAX_RELAY_DATA,
  MAX_RELAY_EARLY_CELLS,
  RelayCommand,
  type RelayMessage,
  relayCellPadding,
} from '../wire/cell.ts';
import type { OnionKey } from '../wire/descriptor-types.ts';
import type { SignedReceipt } from '../wire/receipt.ts';
import type { ChannelCircuit, CircuitLink } from './channel.ts';
import { channelPool } from './channel-pool.ts';
import {
  type CircuitStream,
  type ClientStreams,
  type ClientStreamsFactory,
  StreamEndedError,
} from './circuit-streams.ts';
import { CircuitError } from './errors.ts';
import { peerIdOfIdentity } from './open-link.ts';
import { RelayEarlyBudget } from './relay-early.ts';
import { type ResolvedAnswer, resolvedAnswerOf } from './resolved-answer.ts';

export interface PathHop {
  readonly peerId: string;
  readonly identityKey: Uint8Array;
  readonly onionKey: OnionKey;
  readonly addresses: readonly Multiaddr[];
}

export type CircuitState = 'building' | 'open' | 'closed';

/** The longest circuit: every extend needs one of the circuit's RELAY_EARLY cells. */
export const MAX_CIRCUIT_HOPS = MAX_RELAY_EARLY_CELLS + 1;

/** TRUNCATED reasons that mean the next relay could not be reached (rather than refused). */
const LOST_LINK_REASONS = new Set<number>([
  DestroyReason.CONNECTFAILED,
  DestroyReason.CHANNEL_CLOSED,
  DestroyReason.TIMEOUT,
]);

function timedOut(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError';
}

/**
 * A client sends a DROP cell to the last hop of a circuit that sent nothing for this long, and one right
 * after the build. Relays close circuits that carry no RELAY cell from the client's side soon after
 * CREATED and ones idle for long (relay.limits.unusedCircuitTimeoutMs, idleCircuitTimeoutMs: 30 s and
 * 15 min by default); the last hop of a prebuilt circuit sees nothing else until its first stream.
 */
export const CIRCUIT_KEEPALIVE_MS = 4 * 60_000;

export interface BuildOptions {
  /** Default CIRCUIT_KEEPALIVE_MS. */
  readonly keepaliveMs?: number;
  /** The circuit's streams (src/stream/stream-table.ts: clientStreams). */
  readonly streams: ClientStreamsFactory;
  /**
   * Signs the receipts this client gives its first hop for the cells it delivers (docs/economy.md):
   * a signer with a key made for this circuit alone. None: no receipts.
   */
  readonly receipts?: ReceiptSigner | undefined;
}

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

export class ClientCircuit {
  readonly id = randomUUID();
  readonly path: readonly PathHop[];
  readonly createdAt = Date.now();
  state: CircuitState = 'building';
  builtAt: number | undefined;
  closeReason: string | undefined;
  readonly #link: CircuitLink;
  readonly #circId: CircuitId;
  readonly #crypto = new ClientCircuitCrypto();
  readonly streams: ClientStreams;
  #pendingCreated: Pending<Uint8Array> | undefined;
  #pendingExtended: Pending<Uint8Array> | undefined;
  /** Streams waiting for CONNECTED or RESOLVED. */
  readonly #pendingStreams = new Map<number, Pending<RelayMessage>>();
  readonly #closeListeners = new Set<(c: ClientCircuit, err: Error) => void>();
  /** Cells the client could not recognise: each one is a tampering or bug signal. */
  integrityFailures = 0;
  /** A relay cell went out since the last keepalive tick. */
  #sentRelay = false;
  #keepalive: NodeJS.Timeout | undefined;
  readonly #early = new RelayEarlyBudget();
  /** A bandwidth measurement under way (measure()). */
  #measuring: { sentAt: number; firstAt: number; bytes: number; done: Pending<void> } | undefined;
  /** Receipts for the cells the first hop delivers to us. */
  readonly #rx: ReceiptCounter | undefined;

  private constructor(
    path: readonly PathHop[],
    link: CircuitLink,
    circId: CircuitId,
    streams: ClientStreamsFactory,
    receipts: ReceiptSigner | undefined,
  ) {
    this.path = path;
    this.#link = link;
    this.#circId = circId;
    const guard = path[0]?.identityKey;
    this.#rx =
      receipts === undefined || guard === undefined ? undefined : new ReceiptCounter(receipts, guard);
    this.streams = streams({
      maxData: MAX_RELAY_DATA,
      // Our own queue on the guard channel, not the channel: one circuit that fills its queue makes
      // only its own streams wait (channel.ts), the others sharing the guard channel go on.
      get linkWritable() {
        return link.writable;
      },
      onLinkWritable: (fn) => link.onDrain(fn),
      sendRelay: (streamId, command, data, sendmeDigest) =>
        this.#sendRelay(this.#crypto.hops - 1, streamId, command, data, sendmeDigest),
    });
    link.onCell = (cell) => this.#onCell(cell);
    // The channel to the first hop went away under open circuits: the guard is suspect (a guard that
    // is alive is found again when its backoff ends).
    link.onClose = (err) =>
      this.#closed(
        new CircuitError('LINK_CLOSED', err?.message ?? 'link to the first hop closed', path[0]?.peerId),
      );
    // Our queue towards the guard passed its limit, or this node ran short of queue memory: the
    // channel sent DESTROY (RESOURCELIMIT). Nothing says the guard is at fault.
    link.onQueueOverflow = (why) =>
      this.#closed(
        new CircuitError(
          'LIMIT',
          why === 'memory'
            ? 'circuit closed: this node ran short of queue memory and the circuit held the most'
            : 'circuit closed: its queue towards the first hop passed its limit',
        ),
      );
  }

  /** Builds a circuit along `path` (first hop first). Tears down what it built on failure. */
  static async build(
    host: Libp2p,
    path: readonly PathHop[],
    signal: AbortSignal,
    opts: BuildOptions,
  ): Promise<ClientCircuit> {
    const first = path[0];
    if (first === undefined) throw new CircuitError('NO_PATH', 'empty path');
    if (path.length > MAX_CIRCUIT_HOPS)
      throw new CircuitError('LIMIT', `a circuit has at most ${MAX_CIRCUIT_HOPS} hops, not ${path.length}`);
    // The channel to the first hop is shared with our other circuits through it (channel.ts).
    let link: ChannelCircuit;
    try {
      link = await channelPool(host).attach(peerIdOfIdentity(first.identityKey), first.addresses, signal);
    } catch (err) {
      if (signal.aborted && !timedOut(signal)) throw err;
      throw new CircuitError(
        timedOut(signal) ? 'BUILD_TIMEOUT' : 'UNREACHABLE',
        `the first relay is unreachable: ${(err as Error).message}`,
        first.peerId,
      );
    }
    const circuit = new ClientCircuit(path, link, link.id, opts.streams, opts.receipts);
    // A build that times out stalled at the hop it was creating: that relay is the one to suspect.
    // One the caller aborted says nothing about the relays.
    const onAbort = () =>
      circuit.close(
        new CircuitError(
          'BUILD_TIMEOUT',
          'circuit build aborted or timed out',
          timedOut(signal) ? path[circuit.hops]?.peerId : undefined,
        ),
      );
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await circuit.#create(first);
      for (const hop of path.slice(1)) await circuit.#extend(hop);
      circuit.state = 'open';
      circuit.builtAt = Date.now();
      circuit.#keepAlive(opts.keepaliveMs ?? CIRCUIT_KEEPALIVE_MS);
      return circuit;
    } catch (err) {
      const failure =
        err instanceof CircuitError ? err : new CircuitError('BUILD_FAILED', (err as Error).message);
      circuit.close(failure);
      throw failure;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  get hops(): number {
    return this.#crypto.hops;
  }

  onClose(listener: (c: ClientCircuit, err: Error) => void): void {
    this.#closeListeners.add(listener);
  }

  /** Opens a stream to host:port at the exit (the last hop); the exit resolves the name. */
  async openStream(host: string, port: number, signal: AbortSignal): Promise<CircuitStream> {
    // The common case sends at once, in the caller's turn.
    if (this.state === 'open' && !this.#link.writable) await this.#linkRoom(signal);
    if (this.state !== 'open') throw new CircuitError('CLOSED', 'circuit is not open');
    const id = this.streams.freeId();
    if (id === undefined || this.streams.full)
      throw new CircuitError('LIMIT', 'too many streams on this circuit');
    const stream = this.streams.create(id);
    const reply = this.#awaitStreamReply(id, signal);
    this.#sendRelay(
      this.#crypto.hops - 1,
      id,
      RelayCommand.BEGIN,
      encodeRelayPayload({ kind: 'begin', host, port, flags: 0 }),
    );
    try {
      await reply;
      return stream;
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }

  /** Asks the exit to resolve a hostname (no local DNS). */
  async resolve(host: string, signal: AbortSignal): Promise<ResolvedAnswer> {
    if (this.state === 'open' && !this.#link.writable) await this.#linkRoom(signal);
    if (this.state !== 'open') throw new CircuitError('CLOSED', 'circuit is not open');
    const id = this.streams.freeId();
    if (id === undefined) throw new CircuitError('LIMIT', 'too many streams on this circuit');
    const reply = this.#awaitStreamReply(id, signal);
    this.#sendRelay(
      this.#crypto.hops - 1,
      id,
      RelayCommand.RESOLVE,
      encodeRelayPayload({ kind: 'resolve', host }),
    );
    const m = await reply;
    return m.kind === 'resolved' ? resolvedAnswerOf(m) : { ok: false, addresses: [] };
  }

  close(err: Error = new CircuitError('CLOSED', 'closed by client')): void {
    if (this.state === 'closed') return;
    if (!this.#link.closed) {
      this.#sendReceipts(this.#rx?.flush());
      this.#link.send(
        encodeCell({ circuitId: this.#circId, command: LinkCommand.DESTROY, body: Uint8Array.of(0) }),
      );
      this.#link.close();
    }
    this.#closed(err);
  }

  /**
   * Waits until our queue towards the first hop has room (at once when it has), as DATA from streams
   * does: a burst of BEGINs or RESOLVEs on a busy circuit must not grow the queue past its high-water
   * mark (and, past its limit, get the circuit closed). Rejects when `signal` aborts first; returns
   * when the circuit closes (the caller's state check answers CLOSED). SENDME, END, FIN and DESTROY
   * never wait.
   */
  async #linkRoom(signal: AbortSignal): Promise<void> {
    while (this.state === 'open' && !this.#link.writable) {
      if (signal.aborted) throw new StreamEndedError(EndReason.TIMEOUT, 'stream open aborted or timed out');
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          signal.removeEventListener('abort', onAbort);
          this.#closeListeners.delete(done);
          resolve();
        };
        const onAbort = () => {
          this.#closeListeners.delete(done);
          reject(new StreamEndedError(EndReason.TIMEOUT, 'stream open aborted or timed out'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.#closeListeners.add(done);
        this.#link.onDrain(done);
      });
    }
  }

  #awaitStreamReply(id: number, signal: AbortSignal): Promise<RelayMessage> {
    return new Promise<RelayMessage>((resolve, reject) => {
      const onAbort = () => {
        this.#pendingStreams.delete(id);
        reject(new StreamEndedError(EndReason.TIMEOUT, 'stream open aborted or timed out'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pendingStreams.set(id, {
        resolve: (d) => {
          signal.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
    });
  }

  async #create(hop: PathHop): Promise<void> {
    const hs = createHandshakeClient(hop.identityKey, hop.onionKey);
    const created = new Promise<Uint8Array>((resolve, reject) => {
      this.#pendingCreated = { resolve, reject };
    });
    this.#link.send(encodeCell({ circuitId: this.#circId, command: LinkCommand.CREATE, body: hs.message }));
    this.#crypto.addHop(hs.finish((await created).subarray(0, CREATED_MESSAGE_BYTES)));
  }

  async #extend(hop: PathHop): Promise<void> {
    const hs = createHandshakeClient(hop.identityKey, hop.onionKey);
    const extended = new Promise<Uint8Array>((resolve, reject) => {
      this.#pendingExtended = { resolve, reject };
    });
    this.#sendRelay(
      this.#crypto.hops - 1,
      0,
      RelayCommand.EXTEND,
      encodeRelayPayload({ kind: 'extend', identityKey: hop.identityKey, create: hs.message }),
    );
    this.#crypto.addHop(hs.finish(await extended));
  }

  /** A DROP to the last hop now, and again whenever a keepalive period passed without a relay cell. */
  #keepAlive(everyMs: number): void {
    const drop = () => this.#sendRelay(this.#crypto.hops - 1, 0, RelayCommand.DROP, new Uint8Array(0));
    drop();
    this.#sentRelay = false;
    this.#keepalive = setInterval(() => {
      if (!this.#sentRelay) drop();
      this.#sentRelay = false;
    }, everyMs);
    this.#keepalive.unref();
  }

  #sendRelay(
    targetHop: number,
    streamId: number,
    command: number,
    data: Uint8Array,
    sendmeDigest?: Uint8Array,
  ): void {
    if (this.state === 'closed') return;
    this.#sentRelay = true;
    const cell = encodeRelayCell(
      this.#circId,
      streamId,
      command,
      data,
      this.#linkCommand(targetHop, command),
    );
    if (sendmeDigest !== undefined) randomFillSync(relayCellPadding(cell));
    this.#crypto.encryptForward(cell.subarray(CELL_HEADER_BYTES), targetHop, sendmeDigest);
    this.#link.send(cell);
  }

  /** RELAY_EARLY or RELAY (relay-early.ts). build() refuses paths too long for the budget first. */
  #linkCommand(targetHop: number, command: number): number {
    const link = this.#early.linkCommand(targetHop, command);
    if (link === undefined) throw new CircuitError('LIMIT', 'no RELAY_EARLY cell left for another EXTEND');
    return link;
  }

  /** Sends receipts to the first hop in RECEIPT cells. */
  #sendReceipts(receipts: SignedReceipt | readonly SignedReceipt[] | undefined): void {
    if (receipts === undefined || this.#link.closed) return;
    for (const r of Array.isArray(receipts) ? receipts : [receipts as SignedReceipt]) {
      this.#link.send(encodeCell({ circuitId: this.#circId, command: LinkCommand.RECEIPT, body: r.bytes }));
    }
  }

  #onCell(bytes: Uint8Array): void {
    const decoded = decodeCell(bytes);
    if (decoded.kind !== 'ok' || decoded.value.circuitId !== this.#circId) {
      return this.close(new CircuitError('PROTOCOL', 'bad cell from the first hop'));
    }
    const cell = decoded.value;
    switch (cell.command) {
      case LinkCommand.CREATED: {
        const p = this.#pendingCreated;
        this.#pendingCreated = undefined;
        if (p) p.resolve(cell.body);
        else this.close(new CircuitError('PROTOCOL', 'unexpected CREATED'));
        return;
      }
      case LinkCommand.DESTROY:
        return this.#closed(
          new CircuitError('DESTROYED', `circuit destroyed by a relay (reason ${cell.body[0] ?? 0})`),
        );
      case LinkCommand.RELAY:
        if (this.#rx !== undefined) this.#sendReceipts(this.#rx.count());
        return this.#onRelay(cell.body);
      case LinkCommand.PADDING:
      // The first hop confirming our own cells: a client is paid nothing, so it keeps none.
      case LinkCommand.RECEIPT:
        return;
      default:
        return this.close(new CircuitError('PROTOCOL', `unknown link command ${cell.command}`));
    }
  }

  #onRelay(body: Uint8Array): void {
    const hop = this.#crypto.decryptBackward(body);
    if (hop < 0) {
      this.integrityFailures++;
      return this.close(
        new CircuitError('INTEGRITY', 'a relay cell failed its integrity check: circuit torn down'),
      );
    }
    // The one decoder (wire/cell.ts): a message it refuses, stream-id rule included, is a violation.
    const decoded = decodeRelayMessage(body);
    if (decoded.kind !== 'ok') return this.close(new CircuitError('PROTOCOL', 'malformed relay message'));
    const { streamId, message: m } = decoded.value;
    try {
      if (this.streams.handle(streamId, m, body)) {
        if (m.kind === 'end') this.#failPending(streamId, m.reason);
        return;
      }
    } catch (err) {
      return this.close(new CircuitError('PROTOCOL', (err as Error).message));
    }
    switch (m.kind) {
      case 'extended': {
        const p = this.#pendingExtended;
        this.#pendingExtended = undefined;
        if (p) p.resolve(m.created);
        else this.close(new CircuitError('PROTOCOL', 'unexpected EXTENDED'));
        return;
      }
      case 'connected':
      case 'resolved': {
        const p = this.#pendingStreams.get(streamId);
        this.#pendingStreams.delete(streamId);
        p?.resolve(m);
        return;
      }
      case 'truncated':
        return this.#truncated(hop, m.reason);
      case 'drop': {
        const ms = this.#measuring;
        if (ms !== undefined && hop === 0) {
          if (ms.firstAt === 0) ms.firstAt = performance.now();
          else ms.bytes += m.data.length;
        }
        return;
      }
      case 'measured':
        this.#measuring?.done.resolve();
        return;
      default:
        // Unknown relay commands from a recognised hop are ignored (forward compatibility).
        return;
    }
  }

  /**
   * Measures the relay of this one-hop circuit (docs/economy.md, "Measurement"): asks it for `bytes`
   * of DROP cells. Latency: from the request to the first cell; bandwidth: the bytes after the first
   * cell over the time after it. Undefined when the relay sent nothing (it refused or is over budget).
   */
  async measure(
    bytes: number,
    signal: AbortSignal,
  ): Promise<{ readonly bandwidth: number; readonly latencyMs: number } | undefined> {
    if (this.state !== 'open' || this.hops !== 1)
      throw new CircuitError('CLOSED', 'not an open one-hop circuit');
    if (this.#measuring !== undefined) throw new CircuitError('LIMIT', 'one measurement at a time');
    let done!: Pending<void>;
    const finished = new Promise<void>((resolve, reject) => {
      done = { resolve, reject };
    });
    const onAbort = () => done.reject(new CircuitError('BUILD_TIMEOUT', 'measurement aborted or timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    const onClose = (_c: ClientCircuit, err: Error) => done.reject(err);
    this.onClose(onClose);
    const ms = { sentAt: performance.now(), firstAt: 0, bytes: 0, done };
    this.#measuring = ms;
    try {
      this.#sendRelay(0, 0, RelayCommand.MEASURE, encodeRelayPayload({ kind: 'measure', bytes }));
      await finished;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#closeListeners.delete(onClose);
      this.#measuring = undefined;
    }
    if (ms.firstAt === 0) return undefined;
    const seconds = Math.max(1e-3, (performance.now() - ms.firstAt) / 1000);
    return { bandwidth: Math.round(ms.bytes / seconds), latencyMs: Math.round(ms.firstAt - ms.sentAt) };
  }

  /**
   * Hop `hop` lost (or could not reach) the relay after it. AnonNet does not re-extend a truncated
   * circuit: it is torn down, and the lost relay is named when the reason says it was unreachable.
   */
  #truncated(hop: number, reason: number): void {
    const lost = LOST_LINK_REASONS.has(reason) ? this.path[hop + 1]?.peerId : undefined;
    this.close(
      new CircuitError('TRUNCATED', `circuit truncated after hop ${hop + 1} (reason ${reason})`, lost),
    );
  }

  #failPending(streamId: number, reason: number): void {
    const p = this.#pendingStreams.get(streamId);
    if (p === undefined) return;
    this.#pendingStreams.delete(streamId);
    p.reject(new StreamEndedError(reason, `stream refused by the exit (reason ${reason})`));
  }

  #closed(err: Error): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = err.message;
    clearInterval(this.#keepalive);
    this.#pendingCreated?.reject(err);
    this.#pendingExtended?.reject(err);
    for (const p of this.#pendingStreams.values()) p.reject(err);
    this.#pendingStreams.clear();
    this.streams.closeAll(err);
    if (!this.#link.closed) this.#link.abort(err);
    for (const l of this.#closeListeners) l(this, err);
  }
}
