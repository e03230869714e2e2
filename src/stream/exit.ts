// The exit side of streams: BEGIN opens a TCP connection to host:port (the exit resolves the name,
// never the client), RESOLVE answers a name. The exit policy is checked against the port before
// resolving and against the address after; private destinations are refused unless allowed.
// `Exit` holds what all circuits share (the socket budget, lookups in flight, the refusal log);
// each circuit that reaches us as its last hop gets an `ExitCircuit` (exit-circuit.ts) with its shares.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { ExitHandler, ExitStreams, ExitStreamsContext } from '../circuit/circuit-streams.ts';
import { isExitAllowed } from '../directory/verify-descriptor.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { ExitRule } from '../wire/descriptor-types.ts';
import { type IpAddress, isLoopback, isNotPublic, parseIp } from '../wire/host.ts';
import { ExitCircuit, type ExitContext } from './exit-circuit.ts';
import { type ExitCore, ExitStats, type LookupFn } from './exit-core.ts';
import { defaultExitLimits, type ExitLimits, SocketBudget } from './exit-limits.ts';
import { StreamTable } from './stream-table.ts';

export type { ExitCircuit, ExitContext } from './exit-circuit.ts';
export { type ExitCore, ExitStats, type LookupFn } from './exit-core.ts';
export { defaultExitLimits, type ExitLimits } from './exit-limits.ts';

export interface ExitOptions {
  readonly enabled: boolean;
  readonly policy: readonly ExitRule[];
  /** Allow 127.0.0.0/8 and ::1 (local test networks only). */
  readonly allowLoopback: boolean;
  readonly connectTimeoutMs: number;
  readonly limits?: ExitLimits;
}

export interface ExitDeps {
  readonly log?: Logger;
  readonly lookup?: LookupFn;
  readonly now?: () => number;
}

const systemLookup: LookupFn = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The exit side of the relay's circuits (circuit/'s ExitHandler). */
export class Exit implements ExitHandler {
  readonly #opts: ExitOptions;
  readonly #core: ExitCore;
  readonly stats = new ExitStats();
  readonly refusals: RefusalLog;
  readonly limits: ExitLimits;

  constructor(opts: ExitOptions, deps: ExitDeps = {}) {
    this.#opts = opts;
    this.limits = opts.limits ?? defaultExitLimits;
    const log = deps.log ?? createLogger({ level: 'silent' });
    this.refusals = new RefusalLog(log);
    // Addresses come from the resolver (a link-local one may carry a zone id) or from BEGIN itself;
    // private, loopback and the like are refused unless a local test network allows loopback.
    const allowedIp = (ip: IpAddress) => !isNotPublic(ip) || (opts.allowLoopback && isLoopback(ip));
    const address = (text: string) => parseIp(text, { zone: true });
    this.#core = {
      enabled: opts.enabled,
      limits: this.limits,
      connectTimeoutMs: opts.connectTimeoutMs,
      budget: new SocketBudget(this.limits),
      stats: this.stats,
      refusals: this.refusals,
      log,
      now: deps.now ?? Date.now,
      lookup: deps.lookup ?? systemLookup,
      lookupsInFlight: 0,
      portAccepted: (port) =>
        opts.policy.some((r) => r.action === 'accept' && port >= r.portLow && port <= r.portHigh),
      allowedAddress: (text, port) => {
        const ip = address(text);
        return ip !== undefined && allowedIp(ip) && isExitAllowed(opts.policy, ip.bytes, port);
      },
      publicOrAllowed: (text) => {
        const ip = address(text);
        return ip !== undefined && allowedIp(ip);
      },
      isIpLiteral: (host) => parseIp(host) !== undefined,
    };
  }

  get enabled(): boolean {
    return this.#opts.enabled;
  }

  /** Exit sockets held now (connecting or open), against `limits.maxSockets`. */
  get socketsInUse(): number {
    return this.#core.budget.used;
  }

  /** Name lookups in flight now. */
  get lookupsInFlight(): number {
    return this.#core.lookupsInFlight;
  }

  /** The exit side of one circuit; its shares live as long as the circuit. */
  attach(ctx: ExitContext): ExitCircuit {
    return new ExitCircuit(this.#core, ctx);
  }

  /**
   * The streams of one circuit that ends here: its stream table at once, its ExitCircuit (and so its
   * shares of the exit) at its first BEGIN or RESOLVE.
   */
  open(ctx: ExitStreamsContext): ExitStreams {
    const table = new StreamTable(ctx.sender, ctx.maxStreams);
    let side: ExitCircuit | undefined;
    const exitSide = (): ExitCircuit =>
      (side ??= this.attach({
        table,
        sendRelay: (s, c, d) => ctx.sender.sendRelay(s, c, d),
        closeCircuit: ctx.closeCircuit,
        signal: ctx.signal,
      }));
    return {
      get full() {
        return table.full;
      },
      handle: (streamId, m, body) => table.handle(streamId, m, body),
      closeAll: (err) => table.closeAll(err),
      begin: (streamId, host, port) => exitSide().begin(streamId, host, port),
      resolve: (streamId, host) => exitSide().resolve(streamId, host),
    };
  }
}
