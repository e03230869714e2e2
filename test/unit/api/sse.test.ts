// GET /api/v1/events over a real socket: server-sent events whose data matches the documented Event
// schema, ?token= for EventSource, the kinds filter, and the end of the subscription with the client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOpenApi } from '../../../src/api/openapi.ts';
import { buildApi } from '../../../src/api/server.ts';
import { EventBus } from '../../../src/daemon/events.ts';
import { AUTH, fakes, TOKEN } from './requests.ts';
import { checkSchema } from './schema-check.ts';

let app: FastifyInstance;
let baseUrl: string;
const bus = new EventBus();

before(async () => {
  app = buildApi(fakes().source, TOKEN, { bus });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

interface Sse {
  event: string;
  data: unknown;
}

/** Reads `count` events from an SSE response body. */
async function readEvents(res: Response, count: number): Promise<Sse[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: Sse[] = [];
  let buf = '';
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event !== undefined && data !== undefined) out.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return out;
}

async function untilSubscribers(n: number) {
  for (let i = 0; i < 200 && bus.subscribers !== n; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(bus.subscribers, n);
}

test('events arrive as SSE frames whose data matches the Event schema', async () => {
  const res = await fetch(`${baseUrl}/api/v1/events`, { headers: AUTH });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  await untilSubscribers(1);
  bus.publish({ case: 'bootstrap', value: { percent: 45, phase: 'peers', summary: 'Connected to peers' } });
  bus.publish({ case: 'circuitBuilt', value: { id: 'c9', hops: ['a', 'b', 'c'], buildMs: 31 } });
  bus.publish({ case: 'blockCommitted', value: { height: 12n, hash: 'ab', transactions: 2 } });
  const events = await readEvents(res, 3);
  assert.deepEqual(
    events.map((e) => e.event),
    ['bootstrap', 'circuitBuilt', 'blockCommitted'],
  );
  const schemas = buildOpenApi().components.schemas;
  for (const e of events)
    assert.deepEqual(checkSchema(e.data, { $ref: '#/components/schemas/Event' }, schemas), []);
  assert.deepEqual((events[1]!.data as { circuitBuilt: unknown }).circuitBuilt, {
    id: 'c9',
    hops: ['a', 'b', 'c'],
    buildMs: 31,
  });
  assert.equal((events[2]!.data as { blockCommitted: { height: string } }).blockCommitted.height, '12');
  await untilSubscribers(0);
});

test('a new subscriber first gets the latest bootstrap state; ?token= works; kinds filter', async () => {
  const res = await fetch(
    `${baseUrl}/api/v1/events?token=${encodeURIComponent(TOKEN)}&kinds=bootstrap,circuitClosed`,
  );
  assert.equal(res.status, 200);
  await untilSubscribers(1);
  bus.publish({ case: 'circuitBuilt', value: { id: 'skip' } });
  bus.publish({ case: 'circuitClosed', value: { id: 'c9', reason: 'closed by the API' } });
  const events = await readEvents(res, 2);
  assert.deepEqual(
    events.map((e) => e.event),
    ['bootstrap', 'circuitClosed'],
  );
  assert.equal((events[0]!.data as { bootstrap: { percent: number } }).bootstrap.percent, 45);
  await untilSubscribers(0);
});

test('wrong token and bad kinds are refused before the stream starts', async () => {
  const wrong = await fetch(`${baseUrl}/api/v1/events?token=nope`);
  assert.equal(wrong.status, 401);
  const bad = await fetch(`${baseUrl}/api/v1/events?kinds=everything`, { headers: AUTH });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'kinds');
  assert.equal(bus.subscribers, 0);
});

test('closing the API ends open event streams', async () => {
  const other = buildApi(fakes().source, TOKEN, { bus });
  const url = await other.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${url}/api/v1/events`, { headers: AUTH });
  await untilSubscribers(1);
  const reading = res.text().catch(() => 'aborted');
  await other.close();
  await reading;
  await untilSubscribers(0);
});
