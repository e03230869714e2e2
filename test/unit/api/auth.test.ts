// Every endpoint refuses a missing or wrong token with 401 — REST, Connect, routes added through
// extraRoutes, unknown paths — except routes marked public (the dashboard's static files).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ControlService } from '../../../src/api/gen/anonnet/v1/control_pb.js';
import { REST_RULES } from '../../../src/api/http-rules.ts';
import { buildApi } from '../../../src/api/server.ts';
import { AUTH, fakes, injectSample, sampleRequest, TOKEN } from './requests.ts';

let app: FastifyInstance;
before(() => {
  app = buildApi(fakes().source, TOKEN, {
    extraRoutes: (a) => {
      a.get('/extra/private', async () => ({ ok: true }));
      a.get('/extra/public', { config: { public: true } }, async () => ({ ok: true }));
    },
  });
});
after(() => app.close());

const BAD_HEADERS: Array<[string, Record<string, string>]> = [
  ['missing', {}],
  ['wrong', { authorization: `Bearer ${TOKEN}x` }],
  ['truncated', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ['not bearer', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
  ['empty bearer', { authorization: 'Bearer ' }],
];

async function assert401(method: string, url: string, headers: Record<string, string>, payload?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  assert.equal(res.statusCode, 401, `${method} ${url} with ${JSON.stringify(headers)}`);
  assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  assert.equal(res.headers['www-authenticate'], 'Bearer');
}

test('every REST route refuses a missing or wrong token', async () => {
  for (const rule of REST_RULES) {
    const req = sampleRequest(rule);
    for (const [, headers] of BAD_HEADERS) await assert401(req.method, req.url, headers, req.payload);
  }
});

test('the event feed takes ?token= but not a wrong one; other routes ignore ?token=', async () => {
  await assert401('GET', '/api/v1/events?token=wrong', {});
  await assert401('GET', `/api/v1/status?token=${TOKEN}`, {});
});

test('every Connect method refuses a missing or wrong token', async () => {
  for (const m of ControlService.methods) {
    for (const [, headers] of BAD_HEADERS) {
      await assert401(
        'POST',
        `/${ControlService.typeName}/${m.name}`,
        { ...headers, 'content-type': 'application/json' },
        {},
      );
    }
  }
});

test('extra routes need the token unless public; unknown paths are 401 before 404', async () => {
  await assert401('GET', '/extra/private', {});
  assert.equal((await app.inject({ url: '/extra/private', headers: AUTH })).statusCode, 200);
  assert.equal((await app.inject({ url: '/extra/public' })).statusCode, 200);
  await assert401('GET', '/no/such/thing', {});
  assert.equal((await app.inject({ url: '/no/such/thing', headers: AUTH })).statusCode, 404);
});

test('with the token every REST route answers (not 401)', async () => {
  for (const rule of REST_RULES.filter((r) => !r.streaming)) {
    const res = await injectSample(app, rule);
    assert.ok(res.statusCode < 300, `${rule.verb} ${rule.path}: ${res.statusCode} ${res.body}`);
  }
});
