// The exit's side of one circuit: BEGIN and RESOLVE under the circuit's shares. Order matters: a BEGIN
// is rate-limited, checked against the policy's ports, and given its stream slot and its unit of the
// socket budget before any name lookup or connect, so nothing a circuit asks for can exceed its share
// while it waits. The circuit's signal ends every pending lookup and connect when the circuit dies, and
// a socket that connects after that is closed at once.
import type { Socket } from 'node:net';
import { resolvedAddressOf, resolvedMessageOf } from '../circuit/resolved-answer.ts';
import { TokenBucket } from '../circuit/token-bucket.ts';
import { DestroyReason, encodeRelayPayload, RelayCommand } from '../wire/cell.ts';
import { EndReason, StreamEndedError } from './anon-stream.ts';
import { ConnectError, connectTcp } from './exit-connect.ts';
import type { ExitCore } from './exit-core.ts';
import { ExitPipe, type PipeWatcher } from './exit-pipe.ts';
import type { StreamReservation, StreamTable } from './stream-table.ts';
import { abortable, TurnQueue } from './wait-turn.ts';

export interface ExitContext {
  readonly table: StreamTable;
  readonly sendRelay: (streamId: number, command: number, data: Uint8Array) => void;
  /** Tears the circuit down (a protocol violation, or a circuit refused too often). */
  readonly closeCircuit: (reason: number) => void;
  /** Aborts when the circuit is gone: pending lookups and connects stop, their sockets close. */
  readonly signal: AbortSignal;
}

/** A refusal with the END reason the client gets and the refusal code the operator sees. */
class Refusal extends Error {
  override readonly name = 'ExitRefusal';
  readonly reason: number;
  readonly code: string | undefined;
  constructor(reason: number, message: string, code?: string) {
    super(message);
    this.reason = reason;
    this.code = code;
  }
}

const CONNECT_ATTEMPTS = 4;

function endReasonOf(code: string | undefined): number {
  if (code === 'RESOLVEFAILED') return EndReason.RESOLVEFAILED;
  if (code === 'ECONNREFUSED') return EndReason.CONNECTREFUSED;
  if (code === 'ETIMEDOUT') return EndReason.TIMEOUT;
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return EndReason.NOROUTE;
  return EndReason.MISC;
}

export class ExitCircuit implements PipeWatcher {
  readonly #core: ExitCore;
  readonly #ctx: ExitContext;
  readonly #bucket: TokenBucket;
  readonly #now: () => number;
  readonly #lookups: TurnQueue;
  readonly #pipes = new Set<ExitPipe>();
  #backedUp = 0;
  /** Units of the socket budget this circuit holds (pending BEGINs and open sockets). */
  #held = 0;
  /** Refusals of the circuit's own making (rate, share): past the limit the circuit is closed. */
  #refusals = 0;

  constructor(core: ExitCore, ctx: ExitContext) {
    this.#core = core;
    this.#ctx = ctx;
    const l = core.limits;
    this.#now = core.now;
    this.#bucket = new TokenBucket(l.beginsPerSecond, l.beginBurst, core.now());
    this.#lookups = new TurnQueue(l.maxLookupsPerCircuit);
    ctx.table.onData = () => {
      if (this.#backedUp > 0) this.#checkBuffers();
    };
  }

  /** Sockets (and pending BEGINs) this circuit holds. */
  get held(): number {
    return this.#held;
  }

  /** Handles BEGIN (decoded by the relay): answers CONNECTED and creates the stream, or END with a reason. */
  async begin(streamId: number, host: string, port: number): Promise<void> {
    const { table, signal: circuitSignal } = this.#ctx;
    if (circuitSignal.aborted) return;
    const core = this.#core;
    const reservation = this.#admitBegin(streamId, port);
    if (reservation === undefined) return;
    // The slot and the budget unit are held from here, through the lookup and the connect.
    const giveBack = core.budget.take();
    this.#held++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      giveBack();
      this.#held--;
    };
    const signal = AbortSignal.any([circuitSignal, reservation.signal]);
    let opened: { socket: Socket; ip: string };
    try {
      opened = await this.#open(host, port, signal);
    } catch (err) {
      release();
      reservation.release();
      // Ended by the client, or the circuit is gone: there is nobody to answer.
      if (signal.aborted) return;
      return this.#beginFailed(streamId, err);
    }
    const { socket, ip } = opened;
    socket.once('close', release);
    if (signal.aborted || this.#ctx.signal.aborted) {
      socket.destroy();
      reservation.release();
      return;
    }
    core.stats.opened++;
    const stream = table.create(streamId);
    this.#ctx.sendRelay(
      streamId,
      RelayCommand.CONNECTED,
      encodeRelayPayload({ kind: 'connected', address: resolvedAddressOf(ip) }),
    );
    this.#pipes.add(new ExitPipe(stream, socket, this));
  }

  /**
   * A BEGIN's checks before any lookup or connect: rate, the policy's ports, the stream id, the socket
   * budget and the circuit's stream slots. The reserved slot, or undefined once it has answered.
   */
  #admitBegin(streamId: number, port: number): StreamReservation | undefined {
    const { table } = this.#ctx;
    const core = this.#core;
    if (!this.#bucket.take(this.#now())) {
      this.#refuseOwn(
        streamId,
        'EXIT_BEGIN_RATE',
        'refused a stream: a circuit opened streams faster than exit.beginsPerSecond allows',
      );
      return undefined;
    }
    // A policy that accepts no address at this port refuses before any DNS lookup.
    if (!core.enabled || !core.portAccepted(port)) {
      core.stats.refused++;
      this.#end(streamId, EndReason.EXITPOLICY);
      return undefined;
    }
    if (table.has(streamId)) {
      core.refusals.refuse(
        'EXIT_STREAM_IN_USE',
        'closed a circuit that sent BEGIN for a stream id already in use (a buggy or hostile client)',
      );
      this.#ctx.closeCircuit(DestroyReason.PROTOCOL);
      return undefined;
    }
    const answer = core.budget.check(this.#held);
    if (answer === 'share') {
      this.#refuseOwn(
        streamId,
        'EXIT_CIRCUIT_SHARE',
        'refused a stream: a circuit holds its share of exit sockets (exit.maxSocketsPerCircuit)',
      );
      return undefined;
    }
    if (answer === 'budget') {
      core.stats.refused++;
      core.refusals.refuse(
        'EXIT_FD_BUDGET',
        'refused a stream: every exit socket of the budget is in use (raise exit.maxSockets if ulimit -n allows)',
        { used: core.budget.used },
      );
      this.#end(streamId, EndReason.RESOURCELIMIT);
      return undefined;
    }
    const reservation = table.reserve(streamId);
    if (reservation === undefined) {
      this.#refuseOwn(
        streamId,
        'EXIT_STREAM_LIMIT',
        'refused a stream: a circuit has as many streams as a circuit may have',
      );
    }
    return reservation;
  }

  /** A BEGIN whose lookup or connect failed, with the circuit still there: END with the reason. */
  #beginFailed(streamId: number, err: unknown): void {
    const core = this.#core;
    if (err instanceof Refusal) {
      core.stats.refused++;
      if (err.code !== undefined) core.refusals.refuse(err.code, err.message);
      return this.#end(streamId, err.reason);
    }
    core.stats.failed++;
    const code = err instanceof ConnectError ? err.code : undefined;
    core.log.debug({ code }, 'exit connect failed');
    return this.#end(streamId, endReasonOf(code));
  }

  /** Handles RESOLVE (decoded by the relay): answers RESOLVED (public addresses only) or an error. */
  async resolve(streamId: number, host: string): Promise<void> {
    const { table, signal: circuitSignal } = this.#ctx;
    if (circuitSignal.aborted) return;
    const fail = () =>
      this.#ctx.sendRelay(
        streamId,
        RelayCommand.RESOLVED,
        encodeRelayPayload(resolvedMessageOf({ ok: false, addresses: [] })),
      );
    if (!this.#bucket.take(this.#now())) {
      this.#countOwnRefusal(
        'EXIT_BEGIN_RATE',
        'refused a lookup: a circuit sent RESOLVE faster than exit.beginsPerSecond allows',
      );
      return fail();
    }
    if (!this.#core.enabled) return fail();
    // The stream id is held while the lookup runs: a second RESOLVE or BEGIN on it is refused.
    const reservation = table.reserve(streamId);
    if (reservation === undefined) {
      this.#countOwnRefusal(
        'EXIT_STREAM_LIMIT',
        'refused a lookup: its stream id is in use or the circuit is full',
      );
      return fail();
    }
    const signal = AbortSignal.any([circuitSignal, reservation.signal]);
    try {
      const all = await this.#lookup(host, signal);
      const addresses = all.filter((ip) => this.#core.publicOrAllowed(ip));
      this.#ctx.sendRelay(
        streamId,
        RelayCommand.RESOLVED,
        encodeRelayPayload(resolvedMessageOf({ ok: addresses.length > 0, addresses })),
      );
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Refusal && err.code !== undefined) this.#core.refusals.refuse(err.code, err.message);
      fail();
    } finally {
      reservation.release();
    }
  }

  /** Resolves `host` and connects to the first allowed address that answers. */
  async #open(host: string, port: number, signal: AbortSignal): Promise<{ socket: Socket; ip: string }> {
    let addresses: string[];
    try {
      addresses = await this.#lookup(host, signal);
    } catch (err) {
      if (err instanceof Refusal || signal.aborted) throw err;
      throw new ConnectError('RESOLVEFAILED', 'lookup failed');
    }
    const allowed = addresses.filter((ip) => this.#core.allowedAddress(ip, port));
    if (allowed.length === 0) throw new Refusal(EndReason.EXITPOLICY, 'no allowed address');
    // Try each allowed address in turn ("localhost" is ::1 and 127.0.0.1; a server may listen on one).
    let last: unknown;
    for (const ip of allowed.slice(0, CONNECT_ATTEMPTS)) {
      try {
        return { socket: await connectTcp(ip, port, this.#core.connectTimeoutMs, signal), ip };
      } catch (err) {
        if (signal.aborted) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** A name lookup within the circuit's and the process's shares of lookups in flight. */
  async #lookup(host: string, signal: AbortSignal): Promise<string[]> {
    const core = this.#core;
    if (core.isIpLiteral(host)) return [host];
    const done = await this.#lookups.acquire(signal);
    if (core.lookupsInFlight >= core.limits.maxLookups) {
      done();
      throw new Refusal(
        EndReason.RESOURCELIMIT,
        'refused a stream: too many name lookups in flight (exit.maxLookups)',
        'EXIT_LOOKUPS',
      );
    }
    // A lookup cannot be cancelled (getaddrinfo): one whose stream or circuit is gone still counts
    // until it ends, but nobody waits for it.
    core.lookupsInFlight++;
    const lookup = core.lookup(host).finally(() => {
      core.lookupsInFlight--;
      done();
    });
    lookup.catch(() => {});
    return abortable(lookup, signal);
  }

  #end(streamId: number, reason: number): void {
    this.#ctx.sendRelay(streamId, RelayCommand.END, Uint8Array.of(reason));
  }

  #refuseOwn(streamId: number, code: string, message: string): void {
    this.#core.stats.refused++;
    this.#end(streamId, EndReason.RESOURCELIMIT);
    this.#countOwnRefusal(code, message);
  }

  #countOwnRefusal(code: string, message: string): void {
    this.#core.refusals.refuse(code, message);
    if (++this.#refusals <= this.#core.limits.maxRefusalsPerCircuit) return;
    this.#core.refusals.refuse(
      'EXIT_CIRCUIT_CLOSED',
      'closed a circuit that kept asking for more than its share of the exit (exit.maxRefusalsPerCircuit)',
    );
    this.#ctx.closeCircuit(DestroyReason.RESOURCELIMIT);
  }

  // ---- what the circuit's streams buffer ----

  grew(): void {
    this.#checkBuffers();
  }

  backedUp(_pipe: ExitPipe, backedUp: boolean): void {
    this.#backedUp += backedUp ? 1 : -1;
    if (backedUp) this.#checkBuffers();
  }

  closed(pipe: ExitPipe): void {
    this.#pipes.delete(pipe);
  }

  /** Bytes this circuit's streams hold at the exit, both ways. */
  get buffered(): number {
    let total = 0;
    for (const p of this.#pipes) if (!p.stream.destroyed) total += p.buffered;
    return total;
  }

  /** Past the circuit's bound, the stream holding the most is ended (as Tor's out-of-memory handler). */
  #checkBuffers(): void {
    const max = this.#core.limits.maxBufferedPerCircuit;
    for (;;) {
      let total = 0;
      let biggest: ExitPipe | undefined;
      let most = -1;
      for (const p of this.#pipes) {
        if (p.stream.destroyed) continue;
        const b = p.buffered;
        total += b;
        if (b > most) {
          most = b;
          biggest = p;
        }
      }
      if (total <= max || biggest === undefined) return;
      this.#core.refusals.refuse(
        'EXIT_BUFFER',
        'ended a stream: a circuit buffered more at the exit than exit.maxBufferedPerCircuit allows',
        { bytes: total },
      );
      biggest.stream.destroy(new StreamEndedError(EndReason.RESOURCELIMIT, 'circuit buffer bound'));
      biggest.socket.destroy();
    }
  }
}
