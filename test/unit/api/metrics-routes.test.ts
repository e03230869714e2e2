// /metrics and the dashboard's static files on the real control API (buildApi with its token hook):
// a scrape over a socket in valid text format, the token required for /metrics but not for the page,
// content types, caching, no way out of the assets folder, and a clear page when the build is missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { registerDashboardRoutes, resolveInside } from '../../../src/api/dashboard-route.ts';
import { registerMetricsRoute } from '../../../src/api/metrics-route.ts';
import { buildApi } from '../../../src/api/server.ts';
import type { ApiSource } from '../../../src/api/source.ts';
import { createMetrics } from '../../../src/metrics/registry.ts';
import { parsePromText, sampleValue } from '../metrics/prom-text.ts';

const TOKEN = 'test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let dir: string;
let app: FastifyInstance;
let base: string;

/** The smallest daemon the API can sit on: no circuits, no peers. */
const source: ApiSource = {
  status: () => ({
    version: 'test',
    peerId: 'none',
    bootstrap: { percent: 100, phase: 'done', summary: '' },
  }),
  circuits: () => [],
  relays: () => [],
  peers: () => [],
  streams: () => [],
  bandwidth: () => ({}),
  buildCircuit: () => Promise.reject(new Error('no relays')),
  closeCircuit: () => false,
  config: { effective: () => ({}), apply: () => {} },
};

function start(dashboardDir: string) {
  const metrics = createMetrics();
  const api = buildApi(source, TOKEN, {
    grpc: false,
    extraRoutes: (a) => {
      registerMetricsRoute(a, metrics);
      registerDashboardRoutes(a, { dir: dashboardDir });
    },
  });
  return { api, metrics };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-dash-'));
  mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'built', 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'built', 'assets', 'index-AbCd1234_x.js'), 'console.log(1)');
  writeFileSync(join(dir, 'built', 'assets', 'index-ZyXw9876.css'), 'body{}');
  writeFileSync(join(dir, 'built', 'assets', 'plain.svg'), '<svg/>');
  writeFileSync(join(dir, 'secret.txt'), 'outside the dashboard');
  const s = start(join(dir, 'built'));
  app = s.api;
  s.metrics.circuits.built.inc(2);
  s.metrics.dht.lookups.inc({ op: 'walk' });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GET with the path exactly as given (fetch would normalise `..` away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /metrics over a socket: valid text format, with the token only', async () => {
  const res = await fetch(`${base}/metrics`, { headers: auth });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const families = parsePromText(await res.text());
  assert.equal(families.get('anonnet_circuits_built_total')?.type, 'counter');
  assert.equal(sampleValue(families, 'anonnet_circuits_built_total'), 2);
  assert.equal(sampleValue(families, 'anonnet_dht_lookups_total', { op: 'walk' }), 1);
  assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
  assert.ok((sampleValue(families, 'process_resident_memory_bytes') ?? 0) > 0);

  assert.equal((await fetch(`${base}/metrics`)).status, 401);
  const wrong = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  assert.doesNotMatch(await wrong.text(), /anonnet_/);
});

test('the page and its assets need no token; the API still does', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.match(
    page.headers.get('content-security-policy') ?? '',
    /default-src 'self'.*frame-ancestors 'none'/,
  );
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await page.text(), '<!doctype html><title>x</title>');
  assert.equal((await fetch(`${base}/index.html`)).status, 200);

  const js = await fetch(`${base}/assets/index-AbCd1234_x.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const css = await fetch(`${base}/assets/index-ZyXw9876.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  // Not hashed: may change under the same name, so revalidated.
  const svg = await fetch(`${base}/assets/plain.svg`);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.equal(svg.headers.get('cache-control'), 'no-cache');

  assert.equal((await fetch(`${base}/api/v1/status`)).status, 401);
  assert.equal((await fetch(`${base}/api/v1/status`, { headers: auth })).status, 200);
});

test('no path leaves the assets folder', async () => {
  for (const path of [
    '/assets/../secret.txt',
    '/assets/../../secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/assets/%00index-AbCd1234_x.js',
    '/assets/',
    '/assets/nope.js',
    '/secret.txt',
    '/../secret.txt',
  ]) {
    const r = await rawGet(path);
    assert.ok(r.status === 404 || r.status === 401 || r.status === 400, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /outside the dashboard/, path);
  }
  assert.equal(resolveInside('/srv/a', '../b'), undefined);
  assert.equal(resolveInside('/srv/a', 'x/../../b'), undefined);
  assert.equal(resolveInside('/srv/a', '/etc/passwd'), undefined);
  assert.equal(resolveInside('/srv/a', 'x\\..\\y'), undefined);
  assert.equal(resolveInside('/srv/a', 'x/y.js'), '/srv/a/x/y.js');
});

test('without a build, / says how to build the dashboard', async () => {
  const { api } = start(join(dir, 'missing'));
  try {
    const r = await api.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.headers['content-type'] as string, /^text\/html/);
    assert.match(r.body, /npm run build:dashboard/);
    assert.equal((await api.inject({ method: 'GET', url: '/assets/index-AbCd1234_x.js' })).statusCode, 404);
  } finally {
    await api.close();
  }
});
