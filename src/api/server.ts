// The control API on one port (127.0.0.1 by default), behind a bearer token:
//   REST/JSON under /api/v1/ (rest-routes.ts), server-sent events at /api/v1/events,
//   Connect and gRPC-Web at /anonnet.v1.ControlService/* over HTTP/1.1 (fastify),
//   gRPC over HTTP/2 without TLS (h2c, "prior knowledge") on the same port: a connection that opens
//   with the HTTP/2 preface goes to a node:http2 server running the same Connect router.
// Every route checks the token except the dashboard's static files. Routes read the daemon only
// through `ApiSource`, so they are tested with fastify.inject and no sockets.
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { EventBus } from '../daemon/events.ts';
import type { Logger } from '../log/logger.ts';
import { controlRoutes, tokenInterceptor } from './connect-routes.ts';
import { createControlHandlers } from './control-service.ts';
import { isPublicRoute } from './dashboard-route.ts';
import { ApiError, errorBody } from './errors.ts';
import { REST_RULES } from './http-rules.ts';
import { EVENTS_TOKEN_PARAM, registerRestRoutes } from './rest-routes.ts';
import type { ApiSource } from './source.ts';
import { tokenMatches } from './token.ts';

export { ApiError } from './errors.ts';
export type { ApiSource, CircuitInfo } from './source.ts';

export interface ApiOptions {
  /** The daemon's event feed; a private, silent one when absent. */
  readonly bus?: EventBus;
  /** Adds routes or plugins before the app starts (the dashboard, /metrics). They need the token
   * unless their route config says `public: true` (dashboard-route.ts). */
  readonly extraRoutes?: (app: FastifyInstance) => void;
  readonly log?: Logger;
  /** Also answer gRPC (h2c) on the same port; default true. */
  readonly grpc?: boolean;
  /** Largest request body, bytes (default 1 MiB). */
  readonly bodyLimit?: number;
}

const HTTP2_PREFACE_START = 'PRI';
/** A connection must say something within this time before it is handed to HTTP/1 or HTTP/2. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const EVENTS_PATH = REST_RULES.find((r) => r.streaming)?.routePath;

/** Hands each connection to `h1`'s own handling or, when it opens with the HTTP/2 preface, to `h2`. */
function sniffH2c(h1: http.Server, h2: http2.Http2Server): void {
  const h1Listeners = h1.listeners('connection') as Array<(socket: Socket) => void>;
  h1.removeAllListeners('connection');
  h1.on('connection', (socket: Socket) => {
    const silent = setTimeout(() => socket.destroy(), FIRST_BYTES_TIMEOUT_MS);
    let head = Buffer.alloc(0);
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
        head = Buffer.concat([head, chunk]);
      // Three bytes decide ("PRI" is no HTTP/1 method); fewer that could still be the preface: wait.
      if (head.length === 0) return;
      if (head.length < 3 && HTTP2_PREFACE_START.startsWith(head.toString('latin1'))) return;
      socket.removeListener('readable', onReadable);
      clearTimeout(silent);
      socket.unshift(head);
      if (head.subarray(0, 3).toString('latin1') === HTTP2_PREFACE_START) h2.emit('connection', socket);
      else for (const l of h1Listeners) l.call(h1, socket);
    };
    socket.once('close', () => clearTimeout(silent));
    socket.on('readable', onReadable);
    socket.on('error', () => socket.destroy());
  });
}

export function buildApi(source: ApiSource, token: string, opts: ApiOptions = {}): FastifyInstance {
  const bus = opts.bus ?? new EventBus();
  const handlers = createControlHandlers(source, bus);
  const onInternal = (err: unknown) =>
    opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'control API: internal error');
  const routes = controlRoutes(handlers, onInternal);

  const h2 = http2.createServer(connectNodeAdapter({ routes, interceptors: [tokenInterceptor(token)] }));
  const sessions = new Set<http2.Http2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });

  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Close event streams too when the daemon stops, not only idle connections.
    forceCloseConnections: true,
    serverFactory: (handler) => {
      const server = http.createServer(handler);
      if (opts.grpc !== false) sniffH2c(server, h2);
      return server;
    },
  });
  // Request bodies are JSON only (the Connect routes bring their own parsers in their plugin).
  app.removeContentTypeParser('text/plain');
  app.addHook('preClose', (done) => {
    for (const s of sessions) s.destroy();
    done();
  });

  app.addHook('onRequest', async (req, reply) => {
    if (isPublicRoute(req)) return;
    let header = req.headers.authorization;
    // A browser's EventSource cannot send headers: the event feed also takes ?token=.
    if (header === undefined && EVENTS_PATH !== undefined && req.routeOptions.url === EVENTS_PATH) {
      const t = (req.query as Record<string, unknown>)[EVENTS_TOKEN_PARAM];
      if (typeof t === 'string') header = `Bearer ${t}`;
    }
    if (!tokenMatches(token, header)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody(new ApiError('UNAUTHORIZED', 'missing or wrong bearer token')));
    }
  });

  app.setErrorHandler((err, _req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      if (status === 413) e = new ApiError('PAYLOAD_TOO_LARGE', 'request body too large');
      else if (status === 415) e = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
      else if (status >= 400 && status < 500)
        e = new ApiError('INVALID_ARGUMENT', `body: ${(err as Error).message}`, 'body');
      else {
        onInternal(err);
        e = new ApiError('INTERNAL', 'internal error');
      }
    }
    return reply.code(e.statusCode).send(errorBody(e));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send(errorBody(new ApiError('NOT_FOUND', `no such resource: ${req.method} ${req.url.split('?')[0]}`))),
  );

  // As a plugin, so the routes are added at ready(): onRoute hooks (tests, tools) see them.
  app.register(async (scope) => registerRestRoutes(scope, handlers));
  app.register(fastifyConnectPlugin, { routes });
  opts.extraRoutes?.(app);
  return app;
}
