// The metrics registry: every documented metric (docs/metrics.md) exists with its type, names carry
// their units, no label can name a peer, relay, circuit or destination, and values read at scrape time
// follow their sources.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createMetrics, LABEL_VALUES } from '../../../src/metrics/registry.ts';
import { parsePromText, sampleValue } from './prom-text.ts';

const DOC = new URL('../../../docs/metrics.md', import.meta.url);

/** The table of docs/metrics.md: name → { type, labels }. */
function documented(): Map<string, { type: string; labels: string[] }> {
  const rows = new Map<string, { type: string; labels: string[] }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `(anonnet_[a-z0-9_]+)` \| (\w+) \| ([^|]*)\|/.exec(line);
    if (m === null) continue;
    const labels = [...(m[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((x) => x[1] ?? '');
    rows.set(m[1] ?? '', { type: m[2] ?? '', labels });
  }
  return rows;
}

/** Every label name a metric object was defined with (prom-client keeps them on the metric). */
function labelNamesOf(metric: unknown): string[] {
  const names = (metric as { labelNames?: unknown }).labelNames;
  return Array.isArray(names) ? names.map(String) : [];
}

test('the registry holds exactly the documented metrics, with their types and labels', async () => {
  const m = createMetrics({ processMetrics: false });
  const docs = documented();
  assert.ok(docs.size >= 20, `docs/metrics.md lists ${docs.size} metrics`);
  const actual = new Map(
    m.registry.getMetricsAsArray().map((metric) => [metric.name, { metric, type: String(metric.type) }]),
  );
  assert.deepEqual([...actual.keys()].sort(), [...docs.keys()].sort());
  for (const [name, doc] of docs) {
    const a = actual.get(name);
    assert.equal(a?.type, doc.type, `${name} type`);
    assert.deepEqual(labelNamesOf(a?.metric).sort(), doc.labels.sort(), `${name} labels`);
  }
});

test('names carry their units', () => {
  const m = createMetrics({ processMetrics: false });
  for (const metric of m.registry.getMetricsAsArray()) {
    const { name } = metric;
    const type = String(metric.type);
    assert.match(name, /^anonnet_[a-z0-9_]+$/, name);
    if (type === 'counter') assert.match(name, /_total$/, `${name}: a counter ends in _total`);
    else assert.doesNotMatch(name, /_total$/, `${name}: only counters end in _total`);
    if (type === 'histogram') assert.match(name, /_(seconds|bytes)$/, `${name}: a histogram has a unit`);
    if (/bytes|seconds/.test(name)) assert.match(name, /_(bytes|seconds)(_total)?$/, `${name}: unit last`);
  }
});

test('no metric, process metrics included, has a label that could name a peer, relay or destination', async () => {
  const m = createMetrics();
  const ours = new Set<string>(Object.keys(LABEL_VALUES));
  // prom-client's process metrics: versions, heap spaces, GC kinds; `le`/`quantile` are structural.
  const processLabels = new Set(['version', 'major', 'minor', 'patch', 'space', 'kind', 'type']);
  const forbidden = /peer|relay|circuit|dest|host|addr|ip|port|stream|target|url|id$/i;
  for (const metric of m.registry.getMetricsAsArray()) {
    for (const label of labelNamesOf(metric)) {
      assert.doesNotMatch(label, forbidden, `${metric.name} has label ${label}`);
      if (metric.name.startsWith('anonnet_')) assert.ok(ours.has(label), `${metric.name}: ${label}`);
      else assert.ok(processLabels.has(label), `${metric.name}: ${label}`);
    }
  }
  // And what a scrape shows, after every labelled metric was used.
  m.dht.lookups.inc({ op: 'get' });
  m.bind({ links: () => ({ cellsIn: 5, cellsOut: 7 }) });
  const families = parsePromText(await m.registry.metrics());
  for (const f of families.values())
    for (const s of f.samples)
      for (const [k, v] of Object.entries(s.labels)) {
        if (k === 'le' || k === 'quantile') continue;
        assert.doesNotMatch(k, forbidden, `${s.name} label ${k}`);
        const allowed = (LABEL_VALUES as Record<string, readonly string[]>)[k];
        if (allowed !== undefined) assert.ok(allowed.includes(v), `${s.name} ${k}=${v}`);
      }
});

test('gauges and mirrored counters read their sources at scrape time', async () => {
  const m = createMetrics({ processMetrics: false });
  const relay = {
    circuitsOpen: 2,
    circuitsCreated: 5,
    circuitsRefused: 1,
    cellsRelayed: 100,
    bytesRelayed: 100 * 2033,
    integrityFailures: 0,
  };
  let peers = 3;
  m.bind({ relay: () => relay, peersConnected: () => peers, circuitsOpen: () => 4 });
  let f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_relay_cells_total'), 100);
  assert.equal(sampleValue(f, 'anonnet_relay_bytes_total'), 203_300);
  assert.equal(sampleValue(f, 'anonnet_relay_circuits_open'), 2);
  assert.equal(sampleValue(f, 'anonnet_peers_connected'), 3);
  assert.equal(sampleValue(f, 'anonnet_circuits_open'), 4);
  relay.cellsRelayed = 250;
  peers = 1;
  f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_relay_cells_total'), 250);
  assert.equal(sampleValue(f, 'anonnet_peers_connected'), 1);
  // A second scrape with no change leaves the counter where it is (no double counting).
  f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_relay_cells_total'), 250);
  // A source that starts again from 0 (rebound) never makes a counter go down.
  relay.cellsRelayed = 10;
  f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_relay_cells_total'), 260);
});

test('observeBlock moves the ledger metrics; labelled DHT series exist at 0 from the start', async () => {
  const m = createMetrics({ processMetrics: false });
  let f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_ledger_height'), 0);
  for (const op of LABEL_VALUES.op) {
    assert.equal(sampleValue(f, 'anonnet_dht_lookups_total', { op }), 0);
    assert.equal(sampleValue(f, 'anonnet_dht_lookup_failures_total', { op }), 0);
  }
  const before = Date.now() / 1000;
  m.ledger.observeBlock(7, 0.4);
  m.ledger.observeBlock(8, 0.6);
  f = parsePromText(await m.registry.metrics());
  assert.equal(sampleValue(f, 'anonnet_ledger_height'), 8);
  assert.equal(sampleValue(f, 'anonnet_ledger_block_interval_seconds_count'), 2);
  assert.equal(sampleValue(f, 'anonnet_ledger_block_interval_seconds_bucket', { le: '0.5' }), 1);
  assert.ok((sampleValue(f, 'anonnet_ledger_last_block_timestamp_seconds') ?? 0) >= before);
});

test('the text parser refuses malformed expositions (so the scrape checks can fail)', () => {
  assert.throws(() => parsePromText('anonnet_x 1\n'), /undeclared/);
  assert.throws(() => parsePromText('# TYPE anonnet_x counter\nanonnet_x{a="1} 1\n'));
  assert.throws(() => parsePromText('# TYPE anonnet_x gauge\nanonnet_x one\n'), /bad value/);
  assert.throws(() => parsePromText('# TYPE anonnet_x gauge\nanonnet_x 1'), /newline/);
  assert.equal(parsePromText('# TYPE anonnet_x gauge\nanonnet_x{a="b",c="d"} 1.5e3\n').size, 1);
});
