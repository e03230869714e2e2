// Keys that name Object.prototype properties, on every route that takes a body (hardening issue,
// class 12): `PATCH /api/v1/config {"constructor":1}` used to find Object's constructor in the table of
// writable fields and answer 500. Every such key, at the top and nested, on the REST face and the
// Connect face, is a 400 INVALID_ARGUMENT that names the field; nothing reaches Object.prototype.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ControlService } from '../../../src/api/gen/anonnet/v1/control_pb.js';
import { REST_RULES } from '../../../src/api/http-rules.ts';
import { buildApi } from '../../../src/api/server.ts';
import { AUTH, fakes, sampleRequest, TOKEN } from './requests.ts';

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

/** JSON texts with `key` at the top, nested under itself, beside a valid body, and inside its objects. */
function hostileBodies(key: string, sample: Record<string, unknown>, isPatch: boolean): string[] {
  const k = JSON.stringify(key);
  const base = JSON.stringify(sample);
  const beside = base === '{}' ? `{${k}:1}` : `${base.slice(0, -1)},${k}:1}`;
  const bodies = [`{${k}:1}`, `{${k}:{${k}:1}}`, `{${k}:{"logLevel":"debug"}}`, beside];
  for (const [field, value] of Object.entries(sample)) {
    if (value !== null && typeof value === 'object')
      bodies.push(JSON.stringify({ ...sample, [field]: {} }).replace('{}', `{${k}:1}`));
  }
  // A config patch nests: a key where a writable field's parent is.
  if (isPatch) bodies.push(`{"circuits":{${k}:1}}`);
  return bodies;
}

let app: FastifyInstance;
before(() => {
  app = buildApi(fakes().source, TOKEN);
});
after(() => app.close());

test('REST: every route with a body answers prototype keys with 400 naming the field', async () => {
  const routes = REST_RULES.filter((r) => r.body !== '');
  assert.ok(routes.length >= 3, 'the routes with a body: build circuit, update config, submit transaction');
  for (const rule of routes) {
    const sample = sampleRequest(rule);
    for (const key of KEYS) {
      const isPatch = rule.method.name === 'UpdateConfig';
      for (const payload of hostileBodies(key, (sample.payload ?? {}) as Record<string, unknown>, isPatch)) {
        const res = await app.inject({
          method: sample.method,
          url: sample.url,
          headers: JSON_HEADERS,
          payload,
        });
        const what = `${sample.method} ${sample.url} ${payload}`;
        assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
        const body = JSON.parse(res.body) as { error: { code: string; field?: string; message: string } };
        assert.equal(body.error.code, 'INVALID_ARGUMENT', what);
        assert.ok(body.error.field !== undefined && body.error.field !== '', `${what}: a field is named`);
        // The field named is the hostile key's (a valid sibling may be named first only if it is the
        // one at fault, which the samples are not).
        assert.ok(body.error.field.split('.').includes(key), `${what}: names ${body.error.field}`);
      }
    }
  }
});

test('Connect: no unary method answers prototype keys with a 500; the config patch names the key', async () => {
  const unary = ControlService.methods.filter((m) => m.methodKind === 'unary');
  for (const method of unary) {
    const isPatch = method.name === 'UpdateConfig';
    const sample: Record<string, unknown> = isPatch ? { patch: { logLevel: 'debug' } } : {};
    for (const key of KEYS) {
      // Top-level keys, and (for the config) keys inside the patch, a Struct that our code walks.
      const payloads = hostileBodies(key, sample, false).map((p) => ({ p, inPatch: false }));
      if (isPatch)
        for (const p of hostileBodies(key, { logLevel: 'debug' }, true))
          payloads.push({ p: `{"patch":${p}}`, inPatch: true });
      for (const { p: payload, inPatch } of payloads) {
        const res = await app.inject({
          method: 'POST',
          url: `/${ControlService.typeName}/${method.name}`,
          headers: JSON_HEADERS,
          payload,
        });
        const what = `${method.name} ${payload}`;
        assert.notEqual(res.statusCode, 500, `${what}: ${res.body}`);
        // Connect ignores unknown top-level fields by design (forward compatibility); what our code
        // reads (the patch) is refused with the key named.
        if (!inPatch) continue;
        assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
        const body = JSON.parse(res.body) as { code: string; message: string };
        assert.equal(body.code, 'invalid_argument', what);
        assert.ok(body.message.includes(key), `${what}: ${body.message}`);
      }
    }
  }
});

test('nothing reached Object.prototype', () => {
  const probe: Record<string, unknown> = {};
  for (const k of ['logLevel', 'prebuilt', 'tx', 'x']) assert.equal(probe[k], undefined, k);
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
});
