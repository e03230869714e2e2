// Test-only openers, origin servers and raw clients for the proxy tests. The direct opener connects
// with node:net from this process (a stand-in for an exit relay); it never belongs in src/.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import {
  type OpenOptions,
  type StreamErrorCode,
  StreamOpenError,
  type StreamOpener,
  type StreamTarget,
} from '../../../src/proxy/stream-opener.ts';

const ERRNO_CODES: Record<string, StreamErrorCode> = {
  ECONNREFUSED: 'CONNECTION_REFUSED',
  EHOSTUNREACH: 'HOST_UNREACHABLE',
  ENETUNREACH: 'NETWORK_UNREACHABLE',
  ENOTFOUND: 'RESOLVE_FAILED',
  ETIMEDOUT: 'TIMEOUT',
};

/** A Duplex that is not a net.Socket (as the real opener's streams are not), over a socket. */
export class WrappedSocket extends Duplex {
  readonly #sock: Socket;
  constructor(sock: Socket) {
    super({ allowHalfOpen: true });
    this.#sock = sock;
    sock.on('data', (c: Buffer) => {
      if (!this.push(c)) sock.pause();
    });
    sock.on('end', () => this.push(null));
    sock.on('error', (e) => this.destroy(e));
    sock.on('close', () => {
      if (!this.readableEnded || !this.writableFinished) this.destroy(new Error('socket closed'));
    });
  }
  override _read(): void {
    this.#sock.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#sock.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.#sock.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#sock.destroy();
    cb(err);
  }
}

/** Opens streams with node:net from this process; `wrap` hands out non-socket Duplexes. */
export function directOpener(wrap = false): StreamOpener {
  return {
    open(target: StreamTarget, opts: OpenOptions): Promise<Duplex> {
      return new Promise((resolve, reject) => {
        const sock = connect({ host: target.host, port: target.port, allowHalfOpen: true });
        const onAbort = (): void => {
          sock.destroy();
          reject(new StreamOpenError('GENERAL', 'aborted'));
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
        sock.once('connect', () => {
          opts.signal.removeEventListener('abort', onAbort);
          sock.removeAllListeners('error');
          resolve(wrap ? new WrappedSocket(sock) : sock);
        });
        sock.once('error', (err: NodeJS.ErrnoException) => {
          opts.signal.removeEventListener('abort', onAbort);
          reject(new StreamOpenError(ERRNO_CODES[err.code ?? ''] ?? 'GENERAL', err.message));
        });
      });
    },
  };
}

export interface OpenCall {
  readonly target: StreamTarget;
  readonly isolationKey: string;
  readonly signal: AbortSignal;
}

/** Records every call, then delegates. */
export function recordingOpener(inner: StreamOpener): StreamOpener & { readonly calls: OpenCall[] } {
  const calls: OpenCall[] = [];
  return {
    calls,
    open(target, opts) {
      calls.push({ target, isolationKey: opts.isolationKey, signal: opts.signal });
      return inner.open(target, opts);
    },
  };
}

export function failingOpener(code: StreamErrorCode): StreamOpener {
  return { open: () => Promise.reject(new StreamOpenError(code, `test: ${code}`)) };
}

/** Never opens; remembers the signal of each call so a test can see the abort. */
export function hangingOpener(): StreamOpener & { readonly signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    open(_target, opts) {
      signals.push(opts.signal);
      return new Promise(() => {});
    },
  };
}

export const BIG = randomBytes(10 * 1024 * 1024);
export const BIG_SHA256 = sha256(BIG);

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** An origin: / → "hello from origin\n"; /big → 10 MiB; POST /hash → sha256 of the body; /headers → JSON. */
export async function startOrigin(): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      res.end(BIG);
    } else if (req.url === '/hash') {
      const h = createHash('sha256');
      req.on('data', (c: Buffer) => h.update(c));
      req.on('end', () => res.end(h.digest('hex')));
    } else if (req.url?.startsWith('/headers')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    } else {
      res.end('hello from origin\n');
    }
  });
  const port = await listenOn(server);
  return { server, port };
}

/**
 * A raw TCP origin for half-close tests: it collects what it gets until the client's FIN, then answers
 * "got:<bytes>" and ends. If the first bytes are "first", it says "bye" and ends its side at once,
 * then reports what still arrives in `lateBytes`.
 */
export async function startHalfCloseOrigin(): Promise<{
  server: Server;
  port: number;
  lateBytes: () => string;
}> {
  let late = '';
  const server = createNetServer({ allowHalfOpen: true }, (sock) => {
    const got: Buffer[] = [];
    let serverFirst = false;
    sock.on('data', (c: Buffer) => {
      if (got.length === 0 && c.toString().startsWith('first')) {
        serverFirst = true;
        sock.end('bye');
        return;
      }
      if (serverFirst) late += c.toString();
      else got.push(c);
    });
    sock.on('end', () => {
      if (!serverFirst) sock.end(`got:${Buffer.concat(got).toString()}`);
    });
    sock.on('error', () => {});
  });
  const port = await listenOn(server);
  return { server, port, lateBytes: () => late };
}

/** Sockets of every server started with listenOn, so closeServer can end them even after a failure. */
const serverSockets = new WeakMap<Server | HttpServer, Set<import('node:net').Socket>>();

export function listenOn(server: Server | HttpServer): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  serverSockets.set(server, sockets);
  server.on('connection', (sock: import('node:net').Socket) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    });
  });
}

export function closeServer(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    // A test that failed half-way may leave connections open: close() would wait for them forever.
    for (const sock of serverSockets.get(server) ?? []) sock.destroy();
    server.close(() => resolve());
  });
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function curl(args: readonly string[], timeoutMs = 10_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs + 2000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** A raw TCP client that accumulates bytes; read(n) waits for n of them, closed() for the end. */
export class RawClient {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #ended = false;
  #closed = false;
  #wake: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = [];
    for (const f of w) f();
  }

  async #until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Exactly n bytes (throws if the connection ends first). */
  async read(n: number, timeoutMs = 3000): Promise<Buffer> {
    await this.#until(() => this.#buf.length >= n || this.#ended || this.#closed, timeoutMs, `${n} bytes`);
    if (this.#buf.length < n) throw new Error(`connection ended after ${this.#buf.length} of ${n} bytes`);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Everything until the peer ends or closes. */
  async readToEnd(timeoutMs = 3000): Promise<Buffer> {
    await this.#until(() => this.#ended || this.#closed, timeoutMs, 'the end');
    const out = this.#buf;
    this.#buf = Buffer.alloc(0);
    return out;
  }

  /** Resolves when the peer has ended or closed the connection. */
  async ended(timeoutMs = 3000): Promise<void> {
    await this.#until(() => this.#ended || this.#closed, timeoutMs, 'the end');
  }

  get buffered(): number {
    return this.#buf.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
