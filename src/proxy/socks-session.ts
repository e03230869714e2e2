// One SOCKS connection: a small state machine over the pure codec (socks-codec.ts).
//
//   start ─04→ socks4 ───────────────────────────────┐
//         └05→ greeting ─(method 02)→ userpass ─┐     │
//                   └──(method 00)──────────────┴→ request ─(CONNECT)→ opening ─ok→ open (spliced)
//   any state before `open`: bad bytes, deadline, client gone → reply where there is one, close.
//
// The handshake deadline covers everything up to a decoded request; the open has its own deadline.
// Credentials select the isolation key only. The connection is any Duplex (a net.Socket in the server).
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import type { DecodeResult } from '../wire/decode-result.ts';
import { socks4IsolationKey, socks5IsolationKey } from './isolation.ts';
import { openStream } from './open-stream.ts';
import {
  AuthMethod,
  Command,
  decodeSocks4Request,
  decodeSocks5Greeting,
  decodeSocks5Request,
  decodeUserPassRequest,
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks5Reply,
  encodeUserPassStatus,
  SOCKS4_VERSION,
  SOCKS5_VERSION,
  Socks4Rep,
  Socks5Rep,
  socks5RepForDecodeError,
  UserPassStatus,
} from './socks-codec.ts';
import { splice } from './splice.ts';
import type { StreamErrorCode, StreamOpener, StreamTarget } from './stream-opener.ts';

export interface SocksSessionConfig {
  readonly handshakeTimeoutMs: number;
  readonly openTimeoutMs: number;
  readonly defaultIsolationKey: string;
  /** Bytes a client may send before its request is answered (pipelined handshake + early data). */
  readonly maxBufferedBytes: number;
}

export interface SocksSessionDeps {
  readonly opener: StreamOpener;
  readonly log?: Logger | undefined;
}

export type SocksSessionState =
  | 'start'
  | 'greeting'
  | 'userpass'
  | 'request'
  | 'socks4'
  | 'opening'
  | 'open'
  | 'closed';

/** The SOCKS5 reply for a failed open (RFC 1928 section 6). */
export function socks5RepForStreamError(code: StreamErrorCode): number {
  switch (code) {
    case 'EXIT_POLICY':
      return Socks5Rep.NOT_ALLOWED;
    case 'NETWORK_UNREACHABLE':
      return Socks5Rep.NETWORK_UNREACHABLE;
    case 'HOST_UNREACHABLE':
    case 'RESOLVE_FAILED':
      return Socks5Rep.HOST_UNREACHABLE;
    case 'CONNECTION_REFUSED':
      return Socks5Rep.CONNECTION_REFUSED;
    case 'TTL_EXPIRED':
    case 'TIMEOUT':
      return Socks5Rep.TTL_EXPIRED;
    default:
      return Socks5Rep.GENERAL_FAILURE;
  }
}

/** How long a refused client may take to read our reply and hang up before we cut it off. */
const LINGER_MS = 2000;

export class SocksSession {
  readonly #conn: Duplex;
  readonly #cfg: SocksSessionConfig;
  readonly #deps: SocksSessionDeps;
  readonly #gone = new AbortController();
  #state: SocksSessionState = 'start';
  #buf: Buffer = Buffer.alloc(0);
  #isolationKey: string;
  #timer: NodeJS.Timeout | undefined;
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);
  readonly #onEnd = (): void => this.#abandon('client ended before the stream opened');
  readonly #onError = (): void => this.#abandon('client connection error');
  readonly #onClose = (): void => this.#abandon('client connection closed');

  constructor(conn: Duplex, cfg: SocksSessionConfig, deps: SocksSessionDeps) {
    this.#conn = conn;
    this.#cfg = cfg;
    this.#deps = deps;
    this.#isolationKey = cfg.defaultIsolationKey;
    conn.on('data', this.#onData);
    conn.on('end', this.#onEnd);
    conn.on('error', this.#onError);
    conn.on('close', this.#onClose);
    this.#timer = setTimeout(() => this.#abandon('handshake deadline passed'), cfg.handshakeTimeoutMs);
  }

  get state(): SocksSessionState {
    return this.#state;
  }

  #receive(chunk: Buffer): void {
    if (this.#state === 'closed' || this.#state === 'open') return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#advance();
    if (this.#buf.length <= this.#cfg.maxBufferedBytes) return;
    // Early data beyond the limit: stop reading until the stream is open (or refused).
    if (this.#state === 'opening') this.#conn.pause();
    // Still no request, and more bytes than any handshake needs (the decoders bound each message).
    else if (!this.#isClosed()) this.#abandon('too many bytes before the request');
  }

  /** Decodes as many messages as the buffer holds, in order. */
  #advance(): void {
    while (this.#step()) {
      // one message per step
    }
  }

  /** Handles the next message if it is complete; true if the session can go on to another. */
  #step(): boolean {
    switch (this.#state) {
      case 'start': {
        if (this.#buf.length === 0) return false;
        const v = this.#buf[0];
        if (v === SOCKS5_VERSION) this.#state = 'greeting';
        else if (v === SOCKS4_VERSION) this.#state = 'socks4';
        else this.#abandon('not SOCKS4 or SOCKS5');
        return !this.#isClosed();
      }
      case 'greeting': {
        const r = this.#take(decodeSocks5Greeting);
        if (r === undefined) return false;
        if (r.kind === 'error') {
          this.#refuse(encodeMethodSelection(AuthMethod.NO_ACCEPTABLE), r.code);
        } else if (r.value.methods.includes(AuthMethod.USERNAME_PASSWORD)) {
          // Preferred when offered: the credentials choose the isolation key.
          this.#write(encodeMethodSelection(AuthMethod.USERNAME_PASSWORD));
          this.#state = 'userpass';
        } else if (r.value.methods.includes(AuthMethod.NO_AUTH)) {
          this.#write(encodeMethodSelection(AuthMethod.NO_AUTH));
          this.#state = 'request';
        } else {
          this.#refuse(encodeMethodSelection(AuthMethod.NO_ACCEPTABLE), 'no acceptable method');
        }
        return !this.#isClosed();
      }
      case 'userpass': {
        const r = this.#take(decodeUserPassRequest);
        if (r === undefined) return false;
        if (r.kind === 'error') {
          this.#refuse(encodeUserPassStatus(UserPassStatus.FAILURE), r.code);
          return false;
        }
        this.#isolationKey = socks5IsolationKey(r.value.username, r.value.password);
        this.#write(encodeUserPassStatus(UserPassStatus.SUCCESS));
        this.#state = 'request';
        return true;
      }
      case 'request': {
        const r = this.#take(decodeSocks5Request);
        if (r === undefined) return false;
        if (r.kind === 'error') this.#refuse(encodeSocks5Reply(socks5RepForDecodeError(r.code)), r.code);
        else if (r.value.command !== Command.CONNECT) {
          this.#refuse(encodeSocks5Reply(Socks5Rep.COMMAND_NOT_SUPPORTED), 'command not supported');
        } else void this.#open(5, { host: r.value.host, port: r.value.port });
        return false;
      }
      case 'socks4': {
        const r = this.#take(decodeSocks4Request);
        if (r === undefined) return false;
        if (r.kind === 'error') this.#refuse(encodeSocks4Reply(Socks4Rep.REJECTED), r.code);
        else if (r.value.command !== Command.CONNECT) {
          this.#refuse(encodeSocks4Reply(Socks4Rep.REJECTED), 'command not supported');
        } else {
          this.#isolationKey = socks4IsolationKey(r.value.userid, this.#cfg.defaultIsolationKey);
          void this.#open(4, { host: r.value.hostname ?? r.value.ip, port: r.value.port });
        }
        return false;
      }
      default:
        return false;
    }
  }

  /** Runs a decoder on the buffer: undefined when it needs more bytes; consumes what it decoded. */
  #take<T>(
    decode: (b: Uint8Array) => DecodeResult<T>,
  ): Exclude<DecodeResult<T>, { kind: 'needMore' }> | undefined {
    const r = decode(this.#buf);
    if (r.kind === 'needMore') return undefined;
    if (r.kind === 'ok') this.#buf = this.#buf.subarray(r.consumed);
    return r;
  }

  async #open(version: 4 | 5, target: StreamTarget): Promise<void> {
    this.#state = 'opening';
    this.#clearTimer();
    this.#deps.log?.debug({ version }, 'socks: opening a stream');
    const outcome = await openStream(
      this.#deps.opener,
      target,
      this.#isolationKey,
      this.#gone.signal,
      this.#cfg.openTimeoutMs,
    );
    if (this.#isClosed()) {
      if (outcome.ok) outcome.stream.destroy();
      return;
    }
    if (!outcome.ok) {
      const reply =
        version === 5
          ? encodeSocks5Reply(socks5RepForStreamError(outcome.code))
          : encodeSocks4Reply(Socks4Rep.REJECTED);
      this.#refuse(reply, outcome.code);
      return;
    }
    const stream = outcome.stream;
    this.#state = 'open';
    this.#detach();
    this.#conn.write(
      version === 5 ? encodeSocks5Reply(Socks5Rep.SUCCEEDED) : encodeSocks4Reply(Socks4Rep.GRANTED),
    );
    if (this.#buf.length > 0) stream.write(this.#buf); // early data, in order
    this.#buf = Buffer.alloc(0);
    splice(this.#conn, stream, {
      abortA: resetOrDestroy,
      onDone: (err) => this.#deps.log?.debug({ failed: err !== undefined }, 'socks: stream done'),
    });
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #write(bytes: Uint8Array): void {
    this.#conn.write(bytes);
  }

  /** Sends a refusal, then closes: the client gets a moment to read it and hang up. */
  #refuse(reply: Uint8Array, reason: string): void {
    this.#deps.log?.debug({ reason }, 'socks: refused');
    this.#state = 'closed';
    this.#clearTimer();
    this.#detach();
    this.#gone.abort();
    const conn = this.#conn;
    conn.on('error', () => {});
    conn.on('data', () => {}); // drain, so closing does not reset the connection under the reply
    conn.on('end', () => conn.destroy());
    const linger = setTimeout(() => conn.destroy(), LINGER_MS);
    linger.unref?.();
    conn.once('close', () => clearTimeout(linger));
    conn.end(reply);
  }

  /** Closes without a reply (the client left, sent garbage, or ran out of time). */
  #abandon(reason: string): void {
    if (this.#state === 'closed' || this.#state === 'open') return;
    this.#deps.log?.debug({ reason, state: this.#state }, 'socks: closed');
    this.#state = 'closed';
    this.#clearTimer();
    this.#detach();
    this.#gone.abort();
    this.#conn.on('error', () => {});
    this.#conn.destroy();
  }

  #detach(): void {
    this.#conn.off('data', this.#onData);
    this.#conn.off('end', this.#onEnd);
    this.#conn.off('error', this.#onError);
    this.#conn.off('close', this.#onClose);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function resetOrDestroy(conn: Duplex): void {
  if (conn instanceof Socket && !conn.destroyed) conn.resetAndDestroy();
  else conn.destroy();
}
