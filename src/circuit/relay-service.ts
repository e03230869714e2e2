// The relay side of circuits: accepts `/anonnet/circuit/2.0.0` streams, answers CREATE with the
// onion-key handshake, removes one layer from every cell going out and adds one to every cell coming
// back, extends circuits to the next hop on request, and, at the last hop, hands stream messages to
// the exit. A relay knows only the previous and the next hop of each circuit.
//
// Circuit length is bounded as in Tor: EXTEND is accepted only in a RELAY_EARLY cell, RELAY_EARLY
// cells are passed on as RELAY_EARLY and a circuit that carries more than MAX_RELAY_EARLY_CELLS of
// them is destroyed, so the first hop sees every extend of a circuit however it loops; and no circuit
// extends back to the hop it came from or to this relay itself.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { respondHandshake } from '../crypto/circuit-handshake.ts';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import { RelayHopCrypto } from '../crypto/relay-crypto.ts';
import type { CircuitEconomy } from '../economy/circuit-economy.ts';
import { ReceiptCounter } from '../economy/receipt-counter.ts';
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import {
  CELL_COMMAND_OFFSET,
  CELL_HEADER_BYTES,
  type CircuitId,
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  cellCircuitId,
  DestroyReason,
  decodeCell,
  decodeRelayMessage,
  encodeCell,
  encodeRelayCell,
  encodeRelayPayload,
  LinkCommand,
  MAX_RELAY_DATA,
  MAX_RELAY_EARLY_CELLS,
  RelayCommand,
  type RelayMessage,
  relayCellPadding,
  setCellCircuitId,
} from '../wire/cell.ts';
import { RECEIPT_BYTES, type SignedReceipt } from '../wire/receipt.ts';
import { ADMISSION_MESSAGES, type AdmissionCode, CircuitAdmission } from './admission.ts';
import { type AdmissionLimits, defaultAdmissionLimits } from './admission-limits.ts';
import { LinkProtocolError } from './cell-link.ts';
import type { CircuitLink, QueueOverflow } from './channel.ts';
import { channelPool } from './channel-pool.ts';
import { CircuitActivity, sweepIntervalMs } from './circuit-activity.ts';
import type { ExitHandler, ExitStreams } from './circuit-streams.ts';
import { FlowControlError } from './flow.ts';
import { eventLoopClock, HandshakeQueue, type QueuedHandshake } from './handshake-queue.ts';
import { ipGroupOfMultiaddr } from './ip-group.ts';
import { identityOfPeer, peerIdOfIdentity } from './open-link.ts';
import { CIRCUIT_PROTOCOL } from './protocol.ts';
import { RelayEarlyCounter } from './relay-early.ts';
import { TokenBucket } from './token-bucket.ts';

/** The admission limits (admission-limits.ts: circuit shares, CREATE rates, handshake queue) and more. */
export interface RelayLimits extends AdmissionLimits {
  readonly maxStreamsPerCircuit: number;
  readonly createTimeoutMs: number;
  readonly extendTimeoutMs: number;
}

export const defaultRelayLimits: RelayLimits = {
  ...defaultAdmissionLimits,
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
  /** The exit side of circuits that end here (src/stream/exit.ts: Exit). */
  readonly exit: ExitHandler;
  /** Over defaultRelayLimits. */
  readonly limits?: Partial<RelayLimits>;
  readonly log: Logger;
  /**
   * Fault injection for tests: may modify the cell in place. Called on every RELAY cell this relay
   * passes on, just before it is sent to the next hop (forward) or the previous one (backward).
   */
  readonly tamper?: (cell: Uint8Array, direction: 'forward' | 'backward') => undefined | 'drop';
  /** Link receipts (docs/economy.md): none without it (a node that follows no ledger). */
  readonly economy?: CircuitEconomy | undefined;
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
  /** Measurements answered: one a second, eight at once (validators measure a few relays an epoch). */
  readonly #measurements = new TokenBucket(1, 8, performance.now());
  readonly stats = new RelayStats();
  readonly refusals: RefusalLog;
  /** CREATEs waiting for their handshake (handshake-queue.ts). */
  readonly handshakes: HandshakeQueue;
  readonly #admission: CircuitAdmission;
  #sweeper: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(init: RelayServiceInit) {
    this.#init = init;
    this.#limits = { ...defaultRelayLimits, ...init.limits };
    this.refusals = new RefusalLog(init.log);
    this.#admission = new CircuitAdmission(this.#limits, performance.now());
    this.handshakes = new HandshakeQueue(this.#limits, eventLoopClock, (err) =>
      init.log.error({ err: (err as Error).message }, 'a circuit handshake failed unexpectedly'),
    );
  }

  /** Circuits held per previous-hop peer and address group (for tests and diagnostics). */
  get admission(): Pick<CircuitAdmission, 'total' | 'heldByPeer' | 'heldByIp' | 'trackedPeers'> {
    return this.#admission;
  }

  async start(): Promise<void> {
    await this.#init.host.handle(CIRCUIT_PROTOCOL, (stream, connection) => this.#accept(stream, connection), {
      // A neighbour needs one channel (channel-pool.ts), a few while one closes and the next opens.
      maxInboundStreams: this.#limits.maxChannelsPerConnection,
      maxOutboundStreams: this.#limits.maxCircuits,
      runOnLimitedConnection: false,
    });
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs(this.#limits));
    this.#sweeper.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sweeper);
    this.handshakes.clear();
    await this.#init.host.unhandle(CIRCUIT_PROTOCOL);
    for (const c of [...this.circuits]) c.destroy(DestroyReason.FINISHED);
  }

  /** Closes the circuits that carried nothing too long; forgets rate state that is full again. */
  #sweep(): void {
    const now = performance.now();
    for (const c of this.circuits) c.expireIfIdle(now);
    this.#admission.prune(now);
  }

  #refused(code: AdmissionCode): void {
    this.refusals.refuse(code, ADMISSION_MESSAGES[code]);
  }

  /**
   * A channel from a neighbour nearer the client: each CREATE on it starts a circuit, if the
   * neighbour's peer id and the address group of the connection it came on (not anything the peer
   * says) have room (admission.ts), and its handshake waits its turn (handshake-queue.ts).
   */
  #accept(stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString();
    const ipGroup = ipGroupOfMultiaddr(connection.remoteAddr, {
      ipv4PrefixBits: this.#limits.ipv4PrefixBits,
      ipv6PrefixBits: this.#limits.ipv6PrefixBits,
      exemptLoopback: this.#limits.exemptLoopbackFromIpShare,
    });
    const admittedBy: AdmittedBy = {
      peer,
      handshakes: this.handshakes,
      refused: (code) => this.#refused(code),
    };
    const channel = channelPool(this.#init.host).accept(stream);
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
      if (cell[CELL_COMMAND_OFFSET] !== LinkCommand.CREATE) return;
      if (this.#stopped) {
        this.stats.circuitsRefused++;
        channel.refuse(id, DestroyReason.HIBERNATING);
        return;
      }
      const ticket = this.#admission.admit(peer, ipGroup, performance.now());
      if (typeof ticket === 'string') {
        this.stats.circuitsRefused++;
        this.#refused(ticket);
        channel.refuse(id, DestroyReason.RESOURCELIMIT);
        return;
      }
      const link = channel.attach(id);
      const circuit = new RelayCircuit(
        link,
        this.#init,
        this.#limits,
        this.stats,
        () => {
          this.circuits.delete(circuit);
          this.#admission.release(ticket);
        },
        admittedBy,
        { prevPeer: connection.remotePeer, refusals: this.refusals, measurements: this.#measurements },
      );
      this.circuits.add(circuit);
      link.onCell(cell);
    };
  }
}

/** What a circuit needs of the admission that let it in: its handshake's queue and the refusal log. */
interface AdmittedBy {
  /** The previous hop's peer id: whose queue share the handshake counts against. */
  readonly peer: string;
  readonly handshakes: HandshakeQueue;
  readonly refused: (code: AdmissionCode) => void;
}

/** What a circuit knows of where it came from, and where it reports refusals. */
interface CircuitOrigin {
  /** The neighbour the circuit came from (an EXTEND back to it is refused). */
  readonly prevPeer: PeerId;
  readonly refusals: RefusalLog;
  /** The relay's budget of bandwidth measurements it answers (all circuits together). */
  readonly measurements: TokenBucket;
}

class RelayCircuit {
  readonly #prev: CircuitLink;
  readonly #origin: CircuitOrigin;
  readonly #early = new RelayEarlyCounter();
  #prevId: CircuitId | undefined;
  #next: CircuitLink | undefined;
  #nextId: CircuitId | undefined;
  #hop: RelayHopCrypto | undefined;
  /** This hop's streams, once the circuit carries a stream message to it (as its last hop). */
  #streams: ExitStreams | undefined;
  /** Aborted when the circuit goes: the exit's pending lookups and connects for it stop. */
  readonly #gone = new AbortController();
  #extending = false;
  #pendingCreated: ((body: Uint8Array) => void) | undefined;
  /** The CREATE's place in the handshake queue while it waits. */
  #queued: QueuedHandshake | undefined;
  /** Set once CREATED is sent: when the circuit last carried a RELAY cell from its previous hop. */
  #activity: CircuitActivity | undefined;
  readonly #admittedBy: AdmittedBy;
  #closed = false;
  readonly #init: RelayServiceInit;
  readonly #limits: RelayLimits;
  readonly #stats: RelayStats;
  readonly #onGone: () => void;
  readonly #createTimer: NodeJS.Timeout;
  /** A bandwidth measurement is being answered (one per circuit, ever). */
  #measured = false;
  /** Receipts we give the previous and the next hop for the cells they sent us. */
  #rxPrev: ReceiptCounter | undefined;
  #rxNext: ReceiptCounter | undefined;
  /** RELAY cells we sent each neighbour, and the RECEIPT cells it sent us (receiptAllowed). */
  readonly #toSide = { prev: 0, next: 0 };
  readonly #receiptsFrom = { prev: 0, next: 0 };

  constructor(
    prev: CircuitLink,
    init: RelayServiceInit,
    limits: RelayLimits,
    stats: RelayStats,
    onGone: () => void,
    admittedBy: AdmittedBy,
    origin: CircuitOrigin,
  ) {
    this.#prev = prev;
    this.#origin = origin;
    this.#init = init;
    this.#limits = limits;
    this.#stats = stats;
    this.#onGone = onGone;
    this.#admittedBy = admittedBy;
    prev.onCell = (cell) => {
      if (
        this.#activity !== undefined &&
        (cell[CELL_COMMAND_OFFSET] === LinkCommand.RELAY ||
          cell[CELL_COMMAND_OFFSET] === LinkCommand.RELAY_EARLY)
      )
        this.#activity.touched = true;
      this.#fromPrev(cell);
    };
    prev.onClose = () => this.destroy(DestroyReason.NONE, false);
    // Both queues of this circuit (towards each neighbour) count as one for the out-of-memory policy.
    prev.owner = this;
    prev.onQueueOverflow = (why) => this.#queueOverflow('prev', why);
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
    if (this.#queued !== undefined) this.#admittedBy.handshakes.cancel(this.#queued);
    this.#queued = undefined;
    this.#gone.abort(new Error('circuit destroyed'));
    this.#streams?.closeAll(new Error('circuit destroyed'));
    const destroyCell = (id: CircuitId | undefined) =>
      encodeCell({
        circuitId: id ?? (1 as CircuitId),
        command: LinkCommand.DESTROY,
        body: Uint8Array.of(reason),
      });
    // The last receipts go out before the DESTROY, so the cells of a closing circuit are confirmed too.
    this.#sendReceipts(this.#prev, this.#prevId, this.#rxPrev?.flush());
    if (this.#next !== undefined) this.#sendReceipts(this.#next, this.#nextId, this.#rxNext?.flush());
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
      bytes[CELL_COMMAND_OFFSET] === LinkCommand.RELAY &&
      cellCircuitId(bytes) === this.#prevId
    ) {
      return this.#relayForward(bytes);
    }
    if (
      bytes[CELL_COMMAND_OFFSET] === LinkCommand.RELAY_EARLY &&
      this.#prevId !== undefined &&
      cellCircuitId(bytes) === this.#prevId
    ) {
      return this.#relayEarly(bytes);
    }
    const decoded = decodeCell(bytes);
    if (decoded.kind !== 'ok') return this.destroy(DestroyReason.PROTOCOL);
    const cell = decoded.value;
    if (this.#prevId === undefined) {
      if (cell.command === LinkCommand.CREATE && this.#queued === undefined)
        return this.#queueCreate(cell.circuitId, cell.body);
      // Nothing but one CREATE before CREATED; a DESTROY while the handshake waits ends it quietly.
      if (cell.command === LinkCommand.DESTROY) return this.destroy(cell.body[0] ?? 0, false);
      this.#prevId = cell.circuitId;
      return this.destroy(DestroyReason.PROTOCOL);
    }
    if (cell.circuitId !== this.#prevId) return this.destroy(DestroyReason.PROTOCOL);
    // RELAY cells of this circuit never get here: the hot path above takes them.
    switch (cell.command) {
      case LinkCommand.DESTROY:
        return this.destroy(cell.body[0] ?? 0, false);
      case LinkCommand.PADDING:
        return;
      case LinkCommand.RECEIPT:
        return this.#takeReceipt('prev', cell.body);
      default:
        return this.destroy(DestroyReason.PROTOCOL);
    }
  }

  /**
   * A receipt from a neighbour, for the cells we sent it. An honest neighbour sends one per 512 cells
   * (and a last one per epoch change and at close), so more than one per 256 cells we sent it, plus a
   * few, is dropped unread: a neighbour cannot make us verify signatures or keep receipts faster than
   * we carry its traffic.
   */
  #takeReceipt(side: 'prev' | 'next', body: Uint8Array): void {
    const economy = this.#init.economy;
    if (economy === undefined) return;
    this.#receiptsFrom[side]++;
    if (this.#receiptsFrom[side] > this.#toSide[side] / 256 + 4) return;
    economy.accept(body.subarray(0, RECEIPT_BYTES));
  }

  /** The CREATE waits its turn for the handshake (handshake-queue.ts), or is refused RESOURCELIMIT. */
  #queueCreate(id: CircuitId, body: Uint8Array): void {
    // A copy: the cell's buffer is the link's, and the handshake runs on a later turn.
    const message = body.slice(0, CREATE_MESSAGE_BYTES);
    this.#queued = this.#admittedBy.handshakes.submit({
      peer: this.#admittedBy.peer,
      run: () => this.#answerCreate(id, message),
      shed: (reason) => {
        this.#queued = undefined;
        this.#stats.circuitsRefused++;
        this.#admittedBy.refused(reason);
        this.#prevId = id;
        this.destroy(DestroyReason.RESOURCELIMIT);
      },
    });
  }

  #answerCreate(id: CircuitId, message: Uint8Array): void {
    this.#queued = undefined;
    if (this.#closed) return;
    this.#prevId = id;
    const answer = respondHandshake(message, this.#init.identityKey, this.#init.onionKeys());
    if ('error' in answer) {
      this.#init.log.debug({ error: answer.error }, 'CREATE refused');
      return this.destroy(DestroyReason.PROTOCOL);
    }
    this.#hop = new RelayHopCrypto(answer.keys);
    this.#rxPrev = this.#receiptCounter(identityOfPeer(this.#origin.prevPeer));
    this.#activity = new CircuitActivity(performance.now());
    this.#stats.circuitsCreated++;
    clearTimeout(this.#createTimer);
    this.#prev.send(encodeCell({ circuitId: id, command: LinkCommand.CREATED, body: answer.reply }));
  }

  /** Called by the relay's sweep: closes the circuit once unused or idle past its timeout. */
  expireIfIdle(now: number): void {
    const verdict = this.#activity?.check(now, this.#limits);
    if (verdict === undefined || this.#closed) return;
    this.#admittedBy.refused(verdict === 'unused' ? 'CIRCUIT_UNUSED' : 'CIRCUIT_IDLE');
    this.destroy(DestroyReason.TIMEOUT);
  }

  /** A RELAY_EARLY cell: counted, then handled as RELAY (and passed on as RELAY_EARLY). */
  #relayEarly(cell: Uint8Array): void {
    if (!this.#early.accept()) {
      this.#origin.refusals.refuse(
        'RELAY_EARLY_EXCEEDED',
        `destroyed a circuit that sent more than ${MAX_RELAY_EARLY_CELLS} RELAY_EARLY cells (a circuit longer than ${MAX_RELAY_EARLY_CELLS + 1} hops: a looping or amplifying client)`,
      );
      return this.destroy(DestroyReason.PROTOCOL);
    }
    this.#relayForward(cell);
  }

  #relayForward(cell: Uint8Array): void {
    if (this.#rxPrev !== undefined) this.#sendReceipts(this.#prev, this.#prevId, this.#rxPrev.count());
    const hop = this.#hop!;
    const body = cell.subarray(CELL_HEADER_BYTES);
    if (hop.forward(body)) return this.#local(body, cell[CELL_COMMAND_OFFSET] === LinkCommand.RELAY_EARLY);
    const next = this.#next;
    if (next === undefined || this.#extending) {
      // Not for us and nowhere to go: a modified or replayed cell. Tear down.
      this.#stats.integrityFailures++;
      return this.destroy(DestroyReason.PROTOCOL);
    }
    this.#stats.cellsRelayed++;
    this.#stats.bytesRelayed += body.length;
    setCellCircuitId(cell, this.#nextId!);
    if (this.#init.tamper?.(cell, 'forward') === 'drop') return;
    // Into this circuit's queue on the next channel: never a reason to stop reading the previous
    // channel, which other circuits share. Flow control bounds the queue; a cheat overflows it and
    // the channel closes this circuit (#queueOverflow).
    this.#toSide.next++;
    next.send(cell);
  }

  #fromNext(bytes: Uint8Array): void {
    // The hot path first, as in #fromPrev: a RELAY cell of this circuit gets our layer in place.
    if (bytes[CELL_COMMAND_OFFSET] === LinkCommand.RELAY && cellCircuitId(bytes) === this.#nextId) {
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
      case LinkCommand.RECEIPT:
        return this.#takeReceipt('next', cell.body);
      default:
        return this.destroy(DestroyReason.PROTOCOL);
    }
  }

  /** A cell from the next hop towards the client: add our layer and pass it back, in place. */
  #relayBackward(cell: Uint8Array): void {
    if (this.#rxNext !== undefined) this.#sendReceipts(this.#next!, this.#nextId, this.#rxNext.count());
    // A next hop exists only after our CREATE was answered, so the previous circuit id is known.
    this.#hop!.backwardRelay(cell.subarray(CELL_HEADER_BYTES));
    this.#stats.cellsRelayed++;
    this.#stats.bytesRelayed += cell.length - CELL_HEADER_BYTES;
    setCellCircuitId(cell, this.#prevId!);
    if (this.#init.tamper?.(cell, 'backward') === 'drop') return;
    // As in #relayForward: queued for this circuit alone, the next channel keeps being read.
    this.#toSide.prev++;
    this.#prev.send(cell);
  }

  /**
   * A queue of this circuit passed its limit (its client or its exit ignores flow control), or the
   * node ran short of queue memory and this circuit held the most. The channel of that side dropped
   * its queue and sent DESTROY (RESOURCELIMIT); the other side's backlog is dropped too. Towards the
   * client a lost next side is a TRUNCATED first, as for a lost link.
   */
  #queueOverflow(side: 'prev' | 'next', _why: QueueOverflow): void {
    this.#prev.discard();
    this.#next?.discard();
    if (side === 'next') this.#truncate(DestroyReason.RESOURCELIMIT);
    else this.destroy(DestroyReason.RESOURCELIMIT);
  }

  /**
   * Sends a relay message that this hop originates (towards the client). `sendmeDigest`: this DATA cell
   * makes the client's circuit SENDME due (stream-table.ts): random padding, and its digest copied out.
   */
  #originate(streamId: number, command: number, data: Uint8Array, sendmeDigest?: Uint8Array): void {
    if (this.#closed) return;
    const cell = encodeRelayCell(this.#prevId!, streamId, command, data);
    if (sendmeDigest !== undefined) randomFillSync(relayCellPadding(cell));
    this.#hop!.backwardOriginate(cell.subarray(CELL_HEADER_BYTES), sendmeDigest);
    this.#toSide.prev++;
    this.#prev.send(cell);
  }

  #local(body: Uint8Array, early: boolean): void {
    // The one decoder (wire/cell.ts): a message it refuses, stream-id rule included, is a violation.
    const decoded = decodeRelayMessage(body);
    if (decoded.kind !== 'ok') return this.destroy(DestroyReason.PROTOCOL);
    const { streamId, message: m } = decoded.value;
    if (m.kind === 'extend') {
      void this.#extend(m, early);
      return;
    }
    if (this.#next !== undefined) return this.destroy(DestroyReason.PROTOCOL);
    if (m.kind === 'measure') {
      void this.#measure(m.bytes);
      return;
    }
    const table = this.#table();
    try {
      if (table.handle(streamId, m, body)) return;
    } catch (err) {
      if (err instanceof FlowControlError && err.code !== 'FLOW_VIOLATION')
        this.#origin.refusals.refuse(
          err.code,
          'destroyed a circuit whose client sent a SENDME for data it did not receive (a forged acknowledgement: an amplification attempt)',
          { reason: err.message },
        );
      return this.destroy(DestroyReason.PROTOCOL);
    }
    switch (m.kind) {
      case 'begin':
        void table.begin(streamId, m.host, m.port);
        return;
      case 'resolve':
        void table.resolve(streamId, m.host);
        return;
      default:
        // DROP, and messages a relay never acts on (unknown commands are ignored).
        return;
    }
  }

  /**
   * Answers a bandwidth measurement (docs/economy.md, "Measurement"): `bytes` of DROP cells back to the
   * client as fast as its link takes them, then MEASURED. Once per circuit, within the relay's
   * measurement budget; a second request, or one over budget, is answered with MEASURED alone.
   */
  async #measure(bytes: number): Promise<void> {
    const allowed = !this.#measured && this.#origin.measurements.take(performance.now());
    this.#measured = true;
    let sent = 0;
    const data = randomBytes(MAX_RELAY_DATA);
    while (allowed && sent < bytes && !this.#closed) {
      if (!this.#prev.writable) await new Promise<void>((resolve) => this.#prev.onDrain(resolve));
      if (this.#closed) return;
      const n = Math.min(MAX_RELAY_DATA, bytes - sent);
      this.#originate(0, RelayCommand.DROP, data.subarray(0, n));
      sent += n;
    }
    this.#originate(0, RelayCommand.MEASURED, new Uint8Array(0));
  }

  /** The exit's side of this circuit, with its shares of the exit (src/stream/exit.ts). */
  #table(): ExitStreams {
    const prev = this.#prev;
    this.#streams ??= this.#init.exit.open({
      sender: {
        maxData: MAX_RELAY_DATA,
        get linkWritable() {
          return prev.writable;
        },
        onLinkWritable: (fn) => prev.onDrain(fn),
        sendRelay: (s, c, d, sendmeDigest) => this.#originate(s, c, d, sendmeDigest),
      },
      maxStreams: this.#limits.maxStreamsPerCircuit,
      closeCircuit: (reason) => this.destroy(reason),
      signal: this.#gone.signal,
    });
    return this.#streams;
  }

  async #extend(req: Extract<RelayMessage, { kind: 'extend' }>, early: boolean): Promise<void> {
    if (!early) {
      this.#origin.refusals.refuse(
        'EXTEND_NOT_EARLY',
        'destroyed a circuit whose client sent EXTEND outside a RELAY_EARLY cell (an attempt to lengthen a circuit past its bound)',
      );
      return this.destroy(DestroyReason.PROTOCOL);
    }
    if (this.#next !== undefined || this.#extending || this.#streams !== undefined) {
      return this.destroy(DestroyReason.PROTOCOL);
    }
    const refusal = this.#loopRefusal(req.identityKey);
    if (refusal !== undefined) {
      this.#origin.refusals.refuse(
        refusal,
        'refused an EXTEND back to the previous hop or to this relay (a looping circuit)',
      );
      return this.#truncate(DestroyReason.PROTOCOL);
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
      this.#rxNext = this.#receiptCounter(req.identityKey);
      next.onCell = (cell) => this.#fromNext(cell);
      next.onClose = () => this.#truncate(DestroyReason.CHANNEL_CLOSED);
      next.owner = this;
      next.onQueueOverflow = (why) => this.#queueOverflow('next', why);
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
        encodeRelayPayload({ kind: 'extended', created: body.subarray(0, CREATED_MESSAGE_BYTES) }),
      );
    } catch (err) {
      this.#init.log.debug({ err: (err as Error).message }, 'extend failed');
      this.#truncate(DestroyReason.CONNECTFAILED);
    }
  }

  /** A counter of the cells the neighbour with identity key `key` sends us; none without an economy. */
  #receiptCounter(key: Uint8Array | undefined): ReceiptCounter | undefined {
    const economy = this.#init.economy;
    return economy === undefined || key === undefined ? undefined : new ReceiptCounter(economy.signer, key);
  }

  /** Sends `receipts` to a neighbour in RECEIPT cells on this circuit's link to it. */
  #sendReceipts(
    link: CircuitLink,
    id: CircuitId | undefined,
    receipts: SignedReceipt | readonly SignedReceipt[] | undefined,
  ): void {
    if (receipts === undefined || id === undefined || link.closed) return;
    for (const r of Array.isArray(receipts) ? receipts : [receipts as SignedReceipt]) {
      link.send(encodeCell({ circuitId: id, command: LinkCommand.RECEIPT, body: r.bytes }));
    }
  }

  /** Why an EXTEND to `identityKey` would make a loop through this relay, or undefined when it would not. */
  #loopRefusal(identityKey: Uint8Array): 'EXTEND_TO_SELF' | 'EXTEND_TO_PREVIOUS_HOP' | undefined {
    if (Buffer.compare(identityKey, this.#init.identityKey) === 0) return 'EXTEND_TO_SELF';
    if (peerIdOfIdentity(identityKey)?.equals(this.#origin.prevPeer) === true)
      return 'EXTEND_TO_PREVIOUS_HOP';
    return undefined;
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
