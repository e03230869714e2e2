// `GET /metrics`: the daemon's Prometheus registry in the text exposition format. It sits behind the
// API's bearer token like every other route (Prometheus: `authorization: { credentials_file: ... }`).
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/registry.ts';

export function registerMetricsRoute(app: FastifyInstance, metrics: Pick<Metrics, 'registry'>): void {
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply
      .header('content-type', metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(text);
  });
}
