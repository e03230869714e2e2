// docs/openapi.yaml against what is served: the committed file is the generated one, every documented
// operation is a registered route answering bodies that match its schema, and every /api/v1 route is
// documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REST_RULES } from '../../../src/api/http-rules.ts';
import { buildOpenApi, renderOpenApi, type Schema } from '../../../src/api/openapi.ts';
import { buildApi } from '../../../src/api/server.ts';
import { fakes, injectSample, TOKEN } from './requests.ts';
import { checkSchema } from './schema-check.ts';

const doc = buildOpenApi();
const schemas = doc.components.schemas;

test('docs/openapi.yaml is the generated document (run `npm run gen:openapi` after changing proto/)', () => {
  const committed = readFileSync(new URL('../../../docs/openapi.yaml', import.meta.url), 'utf8');
  assert.ok(committed === renderOpenApi(), 'docs/openapi.yaml is out of date: run `npm run gen:openapi`');
});

test('the YAML reads back as the document (double-quoted strings are JSON)', () => {
  // A check of the hand-written YAML writer: every path and schema name appears as a key.
  const text = renderOpenApi();
  for (const p of Object.keys(doc.paths)) assert.ok(text.includes(`  ${JSON.stringify(p)}:\n`), p);
  for (const s of Object.keys(schemas)) assert.ok(text.includes(`    ${s}:\n`), s);
});

test('every documented operation is served and answers bodies matching its schema', async () => {
  const app = buildApi(fakes().source, TOKEN, {});
  await app.ready();
  let checked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [verb, op] of Object.entries(ops)) {
      const rule = REST_RULES.find((r) => r.path === path && r.verb.toLowerCase() === verb);
      assert.ok(rule, `${verb} ${path} has a rule`);
      assert.ok(
        app.hasRoute({ method: verb.toUpperCase() as 'GET', url: rule.routePath }),
        `${verb} ${path} is registered`,
      );
      const responses = op['responses'] as Record<string, Schema>;
      const okStatus = Object.keys(responses).find((s) => s.startsWith('2'))!;
      const content = responses[okStatus]!['content'] as Record<string, { schema: Schema }> | undefined;
      if (rule.streaming) {
        assert.ok(content?.['text/event-stream'], 'the event feed is documented as text/event-stream');
        continue; // its payloads are checked against the Event schema over a real socket (sse.test.ts)
      }
      const res = await injectSample(app, rule);
      assert.equal(String(res.statusCode), okStatus, `${verb} ${path}: ${res.body}`);
      if (content === undefined) assert.equal(res.body, '', `${verb} ${path} has no body`);
      else {
        const problems = checkSchema(JSON.parse(res.body), content['application/json']!.schema, schemas);
        assert.deepEqual(problems, [], `${verb} ${path}`);
      }
      // An error answer matches the Error schema too.
      const bad = await injectSample(app, rule, '?nope=1');
      if (bad.statusCode === 400)
        assert.deepEqual(
          checkSchema(JSON.parse(bad.body), { $ref: '#/components/schemas/Error' }, schemas),
          [],
        );
      checked++;
    }
  }
  assert.equal(checked, REST_RULES.filter((r) => !r.streaming).length);
  await app.close();
});

test('every registered /api/v1 route is documented', async () => {
  const routes: Array<{ method: string; url: string }> = [];
  const app = buildApi(fakes().source, TOKEN, {});
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
  });
  await app.ready();
  const api = routes.filter((r) => r.url.startsWith('/api/'));
  assert.ok(api.length >= REST_RULES.length);
  for (const r of api) {
    const openapiPath = r.url.replace(/:([a-z_]+)/g, '{$1}');
    assert.ok(doc.paths[openapiPath]?.[r.method.toLowerCase()], `${r.method} ${r.url} is documented`);
  }
  await app.close();
});

test('the schemas follow the proto (a field added to a message shows up)', () => {
  const status = schemas['NodeStatus'] as { properties: Record<string, unknown>; required: string[] };
  assert.ok('bootstrap' in status.properties && 'peerId' in status.properties);
  assert.ok(status.required.includes('uptimeMs') && !status.required.includes('socks'));
});
