// The relay side of circuits: accepts `/anonnet/circuit/1.0.0` streams, answers CREATE with the
// onion-key handshake, removes one layer from every cell going out and adds one to every cell coming
// back, extends circuits to the next hop on request, and, at the last hop, hands stream messages to
// the exit. A relay knows only the previous and the next hop of each circuit.
import type { Libp2p, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { respondHandshake } from '../crypto/circuit-handshake.ts';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import { RelayHopCrypto } from '../crypto/relay-crypto.ts';
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { Exit } from '../stream/exit.ts';
import { StreamTable } from '../stream/stream-table.ts';
import {
  CELL_HEADER_BYTES,
  type CircuitId,
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  DestroyReason,
  decodeCell,
  encodeCell,
  encodeRelayCell,
  LinkCommand,
  MAX_RELAY_DATA,
  RelayCommand,
  streamIdAllowed,
} from '../wire/cell.ts';
import { CellLink, LinkProtocolError } from './cell-link.ts';
import { Channel, type CircuitLink } from './channel.ts';
import { channelPool } from './channel-pool.ts';
import * as msg from './messages.ts';
import { peerIdOfIdentity } from './open-link.ts';
import { CIRCUIT_PROTOCOL } from './protocol.ts';
import { decodeRelayBody } from './relay-body.ts';

export interface RelayLimits {
  readonly maxCircuits: number;
  readonly maxStreamsPerCircuit: number;
  readonly createTimeoutMs: number;
  readonly extendTimeoutMs: number;
}

export const defaultRelayLimits: RelayLimits = {
  maxCircuits: 2000,
  maxStreamsPerCircuit: 256,
  createTimeoutMs: 10_000,
  extendTimeoutMs: 10_000,
};

export interface RelayServiceInit {
  readonly host: Libp2p;
  readonly identityKey: Uint8Array;
  readonly onionKeys: () => readonly OnionKeyPair[];
  /** Where a relay named by its identity key can be dialled (from the relay view). */
  readonly lookupRelay: (identityKey: Uint8Array) => readonly Multiaddr[] | undefined;
  readonly exit: Exit;
  readonly limits?: RelayLimits;
  readonly log: Logger;
  /**
   * Fault injection for tests: may modify the cell in place. Called on every RELAY cell this relay
   * passes on, just before it is sent to the next hop (forward) or the previous one (backward).
   */
  readonly tamper?: (cell: Uint8Array, direction: 'forward' | 'backward') => void;
}

export class RelayStats {
  circuitsCreated = 0;
  circuitsRefused = 0;
  cellsRelayed = 0;
  bytesRelayed = 0;
  integrityFailures = 0;
}

export class RelayService {
  readonly #init: RelayServiceInit;
  readonly #limits: RelayLimits;
  readonly circuits = new Set<RelayCircuit>();
  readonly stats = new RelayStats();
  readonly refusals: RefusalLog;
  #stopped = false;

  constructor(init: RelayServiceInit) {
    this.#init = init;
    this.#limits = init.limits ?? defaultRelayLimits;
    this.refusals = new RefusalLog(init.log);
  }

  async start(): Promise<void> {
    await this.#init.host.handle(CIRCUIT_PROTOCOL, (stream) => this.#accept(stream), {
      maxInboundStreams: this.#limits.maxCircuits,
      maxOutboundStreams: this.#limits.maxCircuits,
      runOnLimitedConnection: false,
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#init.host.unhandle(CIRCUIT_PROTOCOL);
    for (const c of [...this.circuits]) c.destroy(DestroyReason.FINISHED);
  }

  /** A channel from a neighbour nearer the client: each CREATE on it starts a circuit. */
  #accept(stream: Stream): void {
    const channel = new Channel(new CellLink(stream));
    channel.onClose = (err) => {
      if (err instanceof LinkProtocolError)
        this.refusals.refuse(
          err.code,
          'closed a channel from a neighbour that broke the circuit protocol (a buggy or hostile peer)',
          { reason: err.message },
        );
    };
    channel.onUnknown = (id, cell) => {
      // Anything but CREATE for an unknown id is a straggler of a circuit already gone: dropped.
      if (cell[CIRC_ID_BYTES] !== LinkCommand.CREATE) return;
      if (this.#stopped || this.circuits.size >= this.#limits.maxCircuits) {
        this.stats.circuitsRefused++;
        channel.refuse(id, this.#stopped ? DestroyReason.HIBERNATING : DestroyReason.RESOURCELIMIT);
        return;
      }
      const link = channel.attach(id);
      const circuit = new RelayCircuit(link, this.#init, this.#limits, this.stats, () =>
        this.circuits.delete(circuit),
      );
      this.circuits.add(circuit);
      link.onCell(cell);
    };
  }
}

const CIRC_ID_BYTES = 4;

function readCircId(cell: Uint8Array): number {
  return ((cell[0]! << 24) | (cell[1]! << 16) | (cell[2]! << 8) | cell[3]!) >>> 0;
}

function writeCircId(cell: Uint8Array, id: number): void {
  cell[0] = id >>> 24;
  cell[1] = (id >>> 16) & 0xff;
  cell[2] = (id >>> 8) & 0xff;
  cell[3] = id & 0xff;
}

class RelayCircuit {
  readonly #prev: CircuitLink;
  #prevId: CircuitId | undefined;
  #next: CircuitLink | undefined;
  #nextId: CircuitId | undefined;
  #hop: RelayHopCrypto | undefined;
  #streams: StreamTable | undefined;
  #extending = false;
  #pendingCreated: ((body: Uint8Array) => void) | undefined;
  #closed = false;
  readonly #init: RelayServiceInit;
  readonly #limits: RelayLimits;
  readonly #stats: RelayStats;
  readonly #onGone: () => void;
  readonly #createTimer: NodeJS.Timeout;

  constructor(
    prev: CircuitLink,
    init: RelayServiceInit,
    limits: RelayLimits,
    stats: RelayStats,
    onGone: () => void,
  ) {
    this.#prev = prev;
    this.#init = init;
    this.#limits = limits;
    this.#stats = stats;
    this.#onGone = onGone;
    prev.onCell = (cell) => this.#fromPrev(cell);
    prev.onClose = () => this.destroy(DestroyReason.NONE, false);
    // A circuit that never sends CREATE is dropped: no open streams for free.
    this.#createTimer = setTimeout(() => {
      if (this.#hop === undefined) this.destroy(DestroyReason.PROTOCOL);
    }, limits.createTimeoutMs);
    this.#createTimer.unref();
  }

  destroy(reason: number, toPrev = true, toNext = true): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#createTimer);
    this.#streams?.closeAll(new Error('circuit destroyed'));
    const destroyCell = (id: CircuitId | undefined) =>
      encodeCell({
        circuitId: id ?? (1 as CircuitId),
        command: LinkCommand.DESTROY,
        body: Uint8Array.of(reason),
      });
    if (toPrev && !this.#prev.closed && this.#prevId !== undefined)
      this.#prev.send(destroyCell(this.#prevId));
    this.#prev.close();
    if (this.#next) {
      if (toNext && !this.#next.closed) this.#next.send(destroyCell(this.#nextId));
      this.#next.close();
    }
    this.#onGone();
  }

  #fromPrev(bytes: Uint8Array): void {
    // The hot path first: a RELAY cell of this circuit is decrypted and forwarded in place, with no
    // decoding into objects and no copy (the link gave us bytes we own).
    if (
      this.#prevId !== undefined &&
      bytes[CIRC_ID_BYTES] === LinkCommand.RELAY &&
      readCircId(bytes) === this.#prevId
    ) {
      return this.#relayForward(bytes);
    }
    const decoded = decodeCell(bytes);
    if (decoded.kind !== 'ok') return this.destroy(DestroyReason.PROTOCOL);
    const cell = decoded.value;
    if (this.#prevId === undefined) {
      if (cell.command !== LinkCommand.CREATE) return this.destroy(DestroyReason.PROTOCOL);
      this.#prevId = cell.circuitId;
      const answer = respondHandshake(
        cell.body.subarray(0, CREATE_MESSAGE_BYTES),
        this.#init.identityKey,
        this.#init.onionKeys(),
      );
      if ('error' in answer) {
        this.#init.log.debug({ error: answer.error }, 'CREATE refused');
        return this.destroy(DestroyReason.PROTOCOL);
      }
      this.#hop = new RelayHopCrypto(answer.keys);
      this.#stats.circuitsCreated++;
      clearTimeout(this.#createTimer);
      this.#prev.send(
        encodeCell({ circuitId: cell.circuitId, command: LinkCommand.CREATED, body: answer.reply }),
      );
      return;
    }
    if (cell.circuitId !== this.#prevId) return this.destroy(DestroyReason.PROTOCOL);
    // RELAY cells of this circuit never get here: the hot path above takes them.
    switch (cell.command) {
      case LinkCommand.DESTROY:
        return this.destroy(cell.body[0] ?? 0, false);
      case LinkCommand.PADDING:
        return;
      default:
        return this.destroy(DestroyReason.PROTOCOL);
    }
  }

  #relayForward(cell: Uint8Array): void {
    const hop = this.#hop!;
    const body = cell.subarray(CELL_HEADER_BYTES);
    if (hop.forward(body)) return this.#local(body);
    const next = this.#next;
    if (next === undefined || this.#extending) {
      // Not for us and nowhere to go: a modified or replayed cell. Tear down.
      this.#stats.integrityFailures++;
      return this.destroy(DestroyReason.PROTOCOL);
    }
    this.#stats.cellsRelayed++;
    this.#stats.bytesRelayed += body.length;
    writeCircId(cell, this.#nextId!);
    this.#init.tamper?.(cell, 'forward');
    if (!next.send(cell)) {
      this.#prev.pauseReading();
      next.onDrain(() => this.#prev.resumeReading());
    }
  }

  #fromNext(bytes: Uint8Array): void {
    // The hot path first, as in #fromPrev: a RELAY cell of this circuit gets our layer in place.
    if (bytes[CIRC_ID_BYTES] === LinkCommand.RELAY && readCircId(bytes) === this.#nextId) {
      return this.#relayBackward(bytes);
    }
    const decoded = decodeCell(bytes);
    if (decoded.kind !== 'ok' || decoded.value.circuitId !== this.#nextId)
      return this.destroy(DestroyReason.PROTOCOL);
    const cell = decoded.value;
    switch (cell.command) {
      case LinkCommand.CREATED: {
        const p = this.#pendingCreated;
        this.#pendingCreated = undefined;
        if (p) p(cell.body);
        else this.destroy(DestroyReason.PROTOCOL);
        return;
      }
      case LinkCommand.DESTROY:
        return this.destroy(cell.body[0] ?? 0, true, false);
      case LinkCommand.PADDING:
        return;
      default:
        return this.destroy(DestroyReason.PROTOCOL);
    }
  }

  /** A cell from the next hop towards the client: add our layer and pass it back, in place. */
  #relayBackward(cell: Uint8Array): void {
    // A next hop exists only after our CREATE was answered, so the previous circuit id is known.
    this.#hop!.backwardRelay(cell.subarray(CELL_HEADER_BYTES));
    this.#stats.cellsRelayed++;
    this.#stats.bytesRelayed += cell.length - CELL_HEADER_BYTES;
    writeCircId(cell, this.#prevId!);
    this.#init.tamper?.(cell, 'backward');
    if (!this.#prev.send(cell)) {
      this.#next!.pauseReading();
      this.#prev.onDrain(() => this.#next?.resumeReading());
    }
  }

  /** Sends a relay message that this hop originates (towards the client). */
  #originate(streamId: number, command: number, data: Uint8Array): void {
    if (this.#closed) return;
    const cell = encodeRelayCell(this.#prevId!, streamId, command, data);
    this.#hop!.backwardOriginate(cell.subarray(CELL_HEADER_BYTES));
    this.#prev.send(cell);
  }

  #local(body: Uint8Array): void {
    const m = decodeRelayBody(body);
    if (m === undefined) return this.destroy(DestroyReason.PROTOCOL);
    // The codec's stream-id rule: stream commands on a stream, circuit commands on stream 0. (A
    // RESOLVE on stream 0 was answered with a RESOLVED no client can decode: protocol fuzzer.)
    if (!streamIdAllowed(m.command, m.streamId)) return this.destroy(DestroyReason.PROTOCOL);
    if (m.command === RelayCommand.EXTEND) {
      void this.#extend(m.data);
      return;
    }
    if (this.#next !== undefined) return this.destroy(DestroyReason.PROTOCOL);
    const table = this.#table();
    try {
      if (table.handle(m.streamId, m.command, m.data)) return;
    } catch {
      return this.destroy(DestroyReason.PROTOCOL);
    }
    const ctx = {
      table,
      sendRelay: (s: number, c: number, d: Uint8Array) => this.#originate(s, c, d),
      log: this.#init.log,
    };
    switch (m.command) {
      case RelayCommand.BEGIN:
        void this.#init.exit.begin(ctx, m.streamId, m.data);
        return;
      case RelayCommand.RESOLVE:
        void this.#init.exit.resolve(ctx, m.streamId, m.data);
        return;
      case RelayCommand.DROP:
        return;
      default:
        return;
    }
  }

  #table(): StreamTable {
    const prev = this.#prev;
    this.#streams ??= new StreamTable(
      {
        maxData: MAX_RELAY_DATA,
        get linkWritable() {
          return !prev.closed;
        },
        onLinkWritable: (fn) => prev.onDrain(fn),
        sendRelay: (s, c, d) => this.#originate(s, c, d),
      },
      this.#limits.maxStreamsPerCircuit,
    );
    return this.#streams;
  }

  async #extend(data: Uint8Array): Promise<void> {
    const req = msg.decodeExtendData(data);
    if (req === undefined || this.#next !== undefined || this.#extending || this.#streams !== undefined) {
      return this.destroy(DestroyReason.PROTOCOL);
    }
    const addresses = this.#init.lookupRelay(req.identityKey);
    if (addresses === undefined || addresses.length === 0) return this.destroy(DestroyReason.CONNECTFAILED);
    this.#extending = true;
    const signal = AbortSignal.timeout(this.#limits.extendTimeoutMs);
    try {
      const next = await channelPool(this.#init.host).attach(
        peerIdOfIdentity(req.identityKey),
        addresses,
        signal,
      );
      if (this.#closed) {
        next.close();
        return;
      }
      this.#next = next;
      this.#nextId = next.id;
      next.onCell = (cell) => this.#fromNext(cell);
      next.onClose = () => this.#truncate(DestroyReason.CHANNEL_CLOSED);
      const created = new Promise<Uint8Array>((resolve, reject) => {
        this.#pendingCreated = resolve;
        signal.addEventListener('abort', () => reject(new Error('extend timed out')), { once: true });
      });
      next.send(encodeCell({ circuitId: this.#nextId, command: LinkCommand.CREATE, body: req.create }));
      const body = await created;
      this.#extending = false;
      this.#originate(
        0,
        RelayCommand.EXTENDED,
        msg.encodeExtendedData(body.subarray(0, CREATED_MESSAGE_BYTES)),
      );
    } catch (err) {
      this.#init.log.debug({ err: (err as Error).message }, 'extend failed');
      this.#truncate(DestroyReason.CONNECTFAILED);
    }
  }

  /**
   * The next relay is lost (its link closed) or could not be reached (EXTEND failed): TRUNCATED, which
   * the client recognises at our layer and so knows which relay was lost, then DESTROY both ways.
   */
  #truncate(reason: number): void {
    this.#originate(0, RelayCommand.TRUNCATED, Uint8Array.of(reason));
    this.destroy(reason);
  }
}
