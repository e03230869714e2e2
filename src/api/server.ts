// The control API on 127.0.0.1 (fastify), behind a bearer token. Every route reads the daemon's state
// through the narrow `ApiSource`, so routes can be tested with fastify.inject and no sockets.
import Fastify, { type FastifyInstance } from 'fastify';
import { tokenMatches } from './token.ts';

export interface CircuitInfo {
  readonly id: string;
  readonly state: string;
  readonly hops: readonly string[];
  readonly ageMs: number;
  readonly streams: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface ApiSource {
  status(): unknown;
  circuits(): CircuitInfo[];
  relays(): unknown[];
  peers(): unknown[];
  buildCircuit(signal: AbortSignal): Promise<{ id: string; buildMs: number; hops: readonly string[] }>;
  closeCircuit(id: string): boolean;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string) {
    super(message);
    this.code = code;
    this.statusCode = statusCode;
  }
}

export function buildApi(source: ApiSource, token: string): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    if (!tokenMatches(token, req.headers.authorization)) {
      await reply
        .code(401)
        .send({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } });
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    void reply.code(status).send({
      error: {
        code: e.code ?? (status === 500 ? 'INTERNAL' : 'BAD_REQUEST'),
        message: status === 500 ? 'internal error' : e.message,
      },
    });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
  });
  app.get('/api/v1/status', async () => source.status());
  app.get('/api/v1/circuits', async () => ({ circuits: source.circuits() }));
  app.post('/api/v1/circuits', async (_req, reply) => {
    try {
      const built = await source.buildCircuit(AbortSignal.timeout(60_000));
      return reply.code(201).send(built);
    } catch (err) {
      throw new ApiError('CIRCUIT_BUILD_FAILED', 503, `could not build a circuit: ${(err as Error).message}`);
    }
  });
  app.delete<{ Params: { id: string } }>('/api/v1/circuits/:id', async (req, reply) => {
    if (!source.closeCircuit(req.params.id)) throw new ApiError('NOT_FOUND', 404, 'no such circuit');
    return reply.code(204).send();
  });
  app.get('/api/v1/relays', async () => ({ relays: source.relays() }));
  app.get('/api/v1/peers', async () => ({ peers: source.peers() }));
  return app;
}
