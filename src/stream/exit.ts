// The exit side of streams: BEGIN opens a TCP connection to host:port (the exit resolves the name,
// never the client), RESOLVE answers a name. The exit policy is checked against the port before
// resolving and against the address after; private destinations are refused unless allowed.
import { lookup } from 'node:dns/promises';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import * as msg from '../circuit/messages.ts';
import { ipBytes } from '../directory/exit-policy.ts';
import { isExitAllowed } from '../directory/verify-descriptor.ts';
import type { Logger } from '../log/logger.ts';
import { RelayCommand } from '../wire/cell.ts';
import type { ExitRule } from '../wire/descriptor-types.ts';
import { EndReason } from './anon-stream.ts';
import { isLoopbackIp, isPrivateIp } from './private-address.ts';
import type { StreamTable } from './stream-table.ts';

export interface ExitOptions {
  readonly enabled: boolean;
  readonly policy: readonly ExitRule[];
  /** Allow 127.0.0.0/8 and ::1 (local test networks only). */
  readonly allowLoopback: boolean;
  readonly connectTimeoutMs: number;
}

export interface ExitContext {
  readonly table: StreamTable;
  readonly sendRelay: (streamId: number, command: number, data: Uint8Array) => void;
  readonly log: Logger;
}

export class ExitStats {
  opened = 0;
  refused = 0;
  failed = 0;
}

export class Exit {
  readonly #opts: ExitOptions;
  readonly stats = new ExitStats();

  constructor(opts: ExitOptions) {
    this.#opts = opts;
  }

  #allowedAddress(ip: string, port: number): boolean {
    if (isPrivateIp(ip) && !(this.#opts.allowLoopback && isLoopbackIp(ip))) return false;
    return isExitAllowed(this.#opts.policy, ipBytes(ip), port);
  }

  async #resolve(host: string): Promise<string[]> {
    if (isIP(host) !== 0) return [host];
    const answers = await lookup(host, { all: true, verbatim: true });
    return answers.map((a) => a.address);
  }

  /** Handles BEGIN: answers CONNECTED and creates the stream, or END with a reason. */
  async begin(ctx: ExitContext, streamId: number, data: Uint8Array): Promise<void> {
    const end = (reason: number) => {
      ctx.sendRelay(streamId, RelayCommand.END, Uint8Array.of(reason));
    };
    const begin = msg.decodeBeginData(data);
    if (begin === undefined) return end(EndReason.TORPROTOCOL);
    const { host, port } = begin;
    // A policy that accepts no address at this port refuses before any DNS lookup.
    if (
      !this.#opts.enabled ||
      !this.#opts.policy.some((r) => r.action === 'accept' && port >= r.portLow && port <= r.portHigh)
    ) {
      this.stats.refused++;
      return end(EndReason.EXITPOLICY);
    }
    let addresses: string[];
    try {
      addresses = await this.#resolve(host);
    } catch {
      this.stats.failed++;
      return end(EndReason.RESOLVEFAILED);
    }
    const allowed = addresses.filter((ip) => this.#allowedAddress(ip, port));
    if (allowed.length === 0) {
      this.stats.refused++;
      return end(EndReason.EXITPOLICY);
    }
    // Try each allowed address in turn ("localhost" is ::1 and 127.0.0.1; a server may listen on one).
    let socket: Socket | undefined;
    let lastCode: string | undefined;
    let first = allowed[0]!;
    for (const ip of allowed.slice(0, 4)) {
      try {
        socket = await this.#connect(ip, port);
        first = ip;
        break;
      } catch (err) {
        lastCode = (err as NodeJS.ErrnoException).code;
      }
    }
    if (socket === undefined) {
      this.stats.failed++;
      ctx.log.debug({ code: lastCode }, 'exit connect failed');
      return end(
        lastCode === 'ECONNREFUSED'
          ? EndReason.CONNECTREFUSED
          : lastCode === 'ETIMEDOUT'
            ? EndReason.TIMEOUT
            : lastCode === 'ENETUNREACH' || lastCode === 'EHOSTUNREACH'
              ? EndReason.NOROUTE
              : EndReason.MISC,
      );
    }
    if (ctx.table.streams.has(streamId) || ctx.table.full) {
      socket.destroy();
      return end(EndReason.RESOURCELIMIT);
    }
    this.stats.opened++;
    const stream = ctx.table.create(streamId);
    ctx.sendRelay(streamId, RelayCommand.CONNECTED, msg.encodeConnectedData(first));
    socket.pipe(stream);
    stream.pipe(socket);
    socket.on('error', (err) => stream.destroy(err));
    stream.on('error', () => socket.destroy());
    stream.on('close', () => socket.destroy());
    socket.on('close', () => {
      if (!stream.writableEnded) stream.end();
    });
  }

  /** Handles RESOLVE: answers RESOLVED (public addresses only) or an error. */
  async resolve(ctx: ExitContext, streamId: number, data: Uint8Array): Promise<void> {
    const host = msg.decodeResolveData(data);
    if (host === undefined || !this.#opts.enabled) {
      return ctx.sendRelay(
        streamId,
        RelayCommand.RESOLVED,
        msg.encodeResolvedData({ ok: false, addresses: [] }),
      );
    }
    try {
      const all = await this.#resolve(host);
      const addresses = all.filter(
        (ip) => !isPrivateIp(ip) || (this.#opts.allowLoopback && isLoopbackIp(ip)),
      );
      ctx.sendRelay(
        streamId,
        RelayCommand.RESOLVED,
        msg.encodeResolvedData({ ok: addresses.length > 0, addresses }),
      );
    } catch {
      ctx.sendRelay(streamId, RelayCommand.RESOLVED, msg.encodeResolvedData({ ok: false, addresses: [] }));
    }
  }

  #connect(ip: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: ip, port, allowHalfOpen: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
      }, this.#opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}
