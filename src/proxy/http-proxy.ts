// The HTTP proxy (node:http): CONNECT tunnels, and absolute-URI plain-HTTP requests forwarded over one
// opened stream per request (Node's own HTTP client runs over the opener's Duplex through
// `createConnection`). Hostnames go to the opener unresolved. Errors answer a status and a one-line
// text body naming the AnonNet code; never a stack, never a 500 from a bad request.
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import { hostKind, parseAuthority } from './host.ts';
import { DEFAULT_ISOLATION_KEY, httpIsolationKey } from './isolation.ts';
import { checkListenAddress, closeServer, type ListenAddress, listen } from './listen.ts';
import { openStream } from './open-stream.ts';
import { splice } from './splice.ts';
import type { StreamErrorCode, StreamOpener, StreamTarget } from './stream-opener.ts';

export interface HttpProxyOptions {
  readonly host: string;
  /** 0: any free port (the bound one is in `address`). */
  readonly port: number;
  /** Time a client has to send a request's headers. */
  readonly handshakeTimeoutMs: number;
  /** From a parsed request to an open stream (the opener's own deadlines may be shorter). */
  readonly openTimeoutMs: number;
  readonly maxConnections: number;
  readonly defaultIsolationKey: string;
  /** Bytes a CONNECT client may send before its 200; more and reading pauses until the tunnel opens. */
  readonly maxBufferedBytes: number;
}

export const defaultHttpProxyOptions: HttpProxyOptions = {
  host: '127.0.0.1',
  port: 8118,
  handshakeTimeoutMs: 10_000,
  openTimeoutMs: 120_000,
  maxConnections: 1024,
  defaultIsolationKey: DEFAULT_ISOLATION_KEY,
  maxBufferedBytes: 64 * 1024,
};

export interface HttpProxyDeps {
  readonly opener: StreamOpener;
  readonly log?: Logger | undefined;
}

export interface HttpProxy {
  readonly address: ListenAddress;
  readonly connections: number;
  /** Stops listening and destroys every connection, tunnels included. */
  close(): Promise<void>;
}

/** The HTTP status for a failed open. */
export function httpStatusForStreamError(code: StreamErrorCode): number {
  if (code === 'EXIT_POLICY') return 403;
  if (code === 'TIMEOUT') return 504;
  return 502;
}

const REASONS: Record<number, string> = {
  200: 'Connection Established',
  400: 'Bad Request',
  403: 'Forbidden',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

const DESCRIPTIONS: Record<StreamErrorCode, string> = {
  EXIT_POLICY: "the exit relay's policy refuses this destination",
  CONNECTION_REFUSED: 'the destination refused the connection',
  HOST_UNREACHABLE: 'the destination host is unreachable',
  NETWORK_UNREACHABLE: 'the destination network is unreachable',
  RESOLVE_FAILED: 'the exit relay could not resolve the hostname',
  TIMEOUT: 'opening the stream timed out',
  NO_CIRCUIT: 'no circuit is available',
  TTL_EXPIRED: 'the stream expired before it opened',
  GENERAL: 'the stream could not be opened',
};

/** Headers that belong to one connection, never forwarded (RFC 9110 section 7.6.1, plus Proxy-*). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // We answered any 100-continue ourselves (node:http does), so the origin must not wait for it.
  'expect',
]);

const LINGER_MS = 2000;

type Credentials = { readonly key: string } | { readonly error: string };

/** The isolation key from Proxy-Authorization: Basic credentials choose it; they are never checked. */
export function isolationKeyFromProxyAuthorization(
  value: string | undefined,
  defaultKey: string,
): Credentials {
  if (value === undefined) return { key: defaultKey };
  const m = /^\s*basic\s+([A-Za-z0-9+/]*={0,2})\s*$/i.exec(value);
  if (m === null) return { error: 'Proxy-Authorization: only Basic credentials are understood' };
  const bytes = Buffer.from(m[1] ?? '', 'base64');
  const colon = bytes.indexOf(0x3a);
  const user = colon < 0 ? bytes : bytes.subarray(0, colon);
  const pass = colon < 0 ? new Uint8Array(0) : bytes.subarray(colon + 1);
  return { key: httpIsolationKey(user, pass) };
}

/** Drops hop-by-hop headers and those the Connection header names; keeps case, order and repeats. */
function forwardHeaders(raw: readonly string[], skip: readonly string[] = []): OutgoingHttpHeaders {
  const named = new Set<string>(skip);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === 'connection') {
      for (const t of (raw[i + 1] ?? '').split(',')) named.add(t.trim().toLowerCase());
    }
  }
  const out: Record<string, string[]> = {};
  const caseOf = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    const key = caseOf.get(lower) ?? name;
    caseOf.set(lower, key);
    const values = out[key] ?? [];
    values.push(raw[i + 1] ?? '');
    out[key] = values;
  }
  return out;
}

function errorBody(code: string, text: string): string {
  return `AnonNet proxy: ${code}: ${text}\n`;
}

function sendError(res: ServerResponse, status: number, code: string, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, text);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-AnonNet-Error': code,
  });
  res.end(body);
}

/** A raw HTTP/1.1 error response on a socket we own (CONNECT, Upgrade), then a graceful close. */
function rawError(socket: Duplex, status: number, code: string, text: string): void {
  const body = errorBody(code, text);
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nX-AnonNet-Error: ${code}\r\nConnection: close\r\n\r\n`;
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.on('end', () => socket.destroy());
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref?.();
  socket.once('close', () => clearTimeout(linger));
  socket.end(head + body);
}

/** What the request handlers read from the proxy that received the request. */
interface ProxyContext {
  readonly opts: HttpProxyOptions;
  readonly opener: StreamOpener;
  readonly log: Logger | undefined;
}

export async function startHttpProxy(
  options: Partial<HttpProxyOptions>,
  deps: HttpProxyDeps,
): Promise<HttpProxy> {
  const opts: HttpProxyOptions = { ...defaultHttpProxyOptions, ...options };
  checkListenAddress('HTTP proxy', opts);
  const log = deps.log;
  const ctx: ProxyContext = { opts, opener: deps.opener, log };
  const sockets = new Set<Socket>();
  const server = createServer({
    requestTimeout: 0, // request bodies stream for as long as they need
    headersTimeout: opts.handshakeTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.handshakeTimeoutMs / 4))),
    keepAliveTimeout: 5000,
  });
  server.maxConnections = opts.maxConnections;

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    forward(ctx, req, res).catch(() => sendError(res, 502, 'GENERAL', DESCRIPTIONS.GENERAL));
  });

  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    tunnel(ctx, req, socket, head).catch(() => socket.destroy());
  });

  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    rawError(socket, 501, 'BAD_REQUEST', 'protocol upgrades are not proxied; use CONNECT');
  });

  const address = await listen(server, 'HTTP proxy', opts);
  server.on('error', (err) => log?.warn({ err: err.message }, 'http: listener error'));
  log?.info({ port: address.port }, 'http: listening');
  return {
    address,
    get connections() {
      return sockets.size;
    },
    async close() {
      const closed = closeServer(server);
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A plain-HTTP request's destination and isolation key, read from its absolute URI and headers. */
interface ForwardTarget {
  readonly url: URL;
  readonly host: string;
  readonly port: number;
  readonly key: string;
}

function forwardTarget(ctx: ProxyContext, req: IncomingMessage): ForwardTarget | { readonly error: string } {
  const rawUrl = req.url ?? '';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(rawUrl))
    return { error: 'this is a proxy: send absolute-form requests' };
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { error: 'the request URI does not parse' };
  }
  if (url.protocol === 'https:') return { error: 'https:// URIs go through CONNECT' };
  if (url.protocol !== 'http:') return { error: `${url.protocol} URIs are not proxied` };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (hostKind(host) === undefined) return { error: 'the request URI has a host we do not accept' };
  const port = url.port === '' ? 80 : Number(url.port);
  if (port < 1 || port > 65535) return { error: 'the request URI has port 0' };
  const creds = isolationKeyFromProxyAuthorization(
    header(req, 'proxy-authorization'),
    ctx.opts.defaultIsolationKey,
  );
  if ('error' in creds) return { error: creds.error };
  return { url, host, port, key: creds.key };
}

/** An absolute-URI request: one stream opened for it, then the request sent over that stream. */
async function forward(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = forwardTarget(ctx, req);
  if ('error' in target) return sendError(res, 400, 'BAD_REQUEST', target.error);

  const gone = new AbortController();
  const onResClose = (): void => {
    if (!res.writableFinished) gone.abort();
  };
  res.once('close', onResClose);
  const streamTarget: StreamTarget = { host: target.host, port: target.port };
  ctx.log?.debug('http: opening a stream');
  const outcome = await openStream(ctx.opener, streamTarget, target.key, gone.signal, ctx.opts.openTimeoutMs);
  if (!outcome.ok) {
    if (!outcome.aborted)
      sendError(res, httpStatusForStreamError(outcome.code), outcome.code, DESCRIPTIONS[outcome.code]);
    return;
  }
  const stream = outcome.stream;
  if (res.destroyed) {
    stream.destroy();
    return;
  }
  sendOverStream(req, res, stream, target);
}

/** Node's HTTP client over the opened stream; the origin's response is copied back with back-pressure. */
function sendOverStream(
  req: IncomingMessage,
  res: ServerResponse,
  stream: Duplex,
  { url, host, port }: ForwardTarget,
): void {
  const headers = forwardHeaders(req.rawHeaders, ['host']);
  headers['Host'] = url.host;
  const upstream = request({
    host,
    port,
    method: req.method ?? 'GET',
    path: url.pathname + url.search,
    headers,
    setHost: false,
    createConnection: () => stream as Socket,
  });
  const fail = (): void => {
    upstream.destroy();
    stream.destroy();
    if (res.writableEnded) return; // the response is complete: a late error changes nothing
    sendError(res, 502, 'GENERAL', 'the destination closed the stream or sent a bad response');
  };
  upstream.on('error', fail);
  stream.on('error', () => {});
  upstream.on('response', (up: IncomingMessage) => {
    try {
      res.writeHead(up.statusCode ?? 502, up.statusMessage ?? '', forwardHeaders(up.rawHeaders));
    } catch {
      fail();
      return;
    }
    up.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) up.pause();
    });
    res.on('drain', () => up.resume());
    up.on('end', () => {
      res.end();
      stream.destroy();
    });
    up.on('aborted', () => res.destroy());
    up.on('error', () => res.destroy());
  });
  res.once('close', () => {
    if (!res.writableFinished) {
      upstream.destroy();
      stream.destroy();
    }
  });
  req.pipe(upstream);
}

/** CONNECT: a tunnel spliced to one opened stream; bytes sent before the 200 are kept and sent first. */
async function tunnel(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { opts } = ctx;
  const authority = parseAuthority(req.url ?? '');
  if (authority === undefined) {
    return rawError(socket, 400, 'BAD_REQUEST', 'CONNECT needs host:port (an IPv6 host in brackets)');
  }
  const creds = isolationKeyFromProxyAuthorization(
    header(req, 'proxy-authorization'),
    opts.defaultIsolationKey,
  );
  if ('error' in creds) return rawError(socket, 400, 'BAD_REQUEST', creds.error);

  // Until the tunnel opens: keep early bytes (bounded), and treat any end or error as the client leaving.
  const early: Buffer[] = head.length > 0 ? [head] : [];
  let earlyBytes = head.length;
  const gone = new AbortController();
  const onData = (chunk: Buffer): void => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (earlyBytes > opts.maxBufferedBytes) socket.pause();
  };
  const leave = (): void => {
    gone.abort();
    socket.destroy();
  };
  socket.on('data', onData);
  socket.on('end', leave);
  socket.on('error', leave);
  socket.on('close', leave);
  ctx.log?.debug('http: opening a tunnel');
  const outcome = await openStream(ctx.opener, authority, creds.key, gone.signal, opts.openTimeoutMs);
  socket.off('data', onData);
  socket.off('end', leave);
  socket.off('error', leave);
  socket.off('close', leave);
  if (!outcome.ok) {
    if (outcome.aborted || socket.destroyed) socket.destroy();
    else rawError(socket, httpStatusForStreamError(outcome.code), outcome.code, DESCRIPTIONS[outcome.code]);
    return;
  }
  const stream = outcome.stream;
  if (socket.destroyed) {
    stream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  for (const chunk of early) stream.write(chunk);
  splice(socket, stream, {
    abortA: (s) => {
      if ('resetAndDestroy' in s && typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
      else s.destroy();
    },
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
