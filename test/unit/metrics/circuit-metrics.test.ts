// The metrics move with real work: three relays on real libp2p hosts (test/integration/lib/mini-net.ts),
// a RelayView of their signed descriptors, and a CircuitManager given the metrics; a circuit is built,
// a stream carries bytes to a local echo server, the circuit is closed, and builds that time out fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { linkCounters } from '../../../src/circuit/cell-link.ts';
import { CircuitManager, defaultCircuitManagerOptions } from '../../../src/circuit/circuit-manager.ts';
import { GuardSet } from '../../../src/circuit/guards.ts';
import type { RelayView } from '../../../src/directory/relay-view.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createMetrics, type Metrics } from '../../../src/metrics/registry.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import { startEchoServer } from '../../integration/lib/echo-server.ts';
import { type MiniNet, startMiniNet } from '../../integration/lib/mini-net.ts';
import { miniRelayView } from '../../integration/lib/mini-view.ts';
import { parsePromText, sampleValue } from './prom-text.ts';

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });
let net: MiniNet;
let echo: Server;
let echoPort: number;
let dir: string;
let view: RelayView;

function manager(metrics: Metrics, buildTimeoutMs: number, name: string): CircuitManager {
  const cm = new CircuitManager({
    host: net.client,
    view,
    guards: new GuardSet(join(dir, `${name}-guards.json`), { count: 3, lifetimeMs: HOUR }),
    selfId: net.client.peerId.toString(),
    log,
    options: { ...defaultCircuitManagerOptions, prebuilt: 0, allowSameSubnet: true, buildTimeoutMs },
    streams: clientStreams,
    metrics,
  });
  metrics.bind({
    circuitsOpen: () => cm.list().filter((c) => c.state === 'open').length,
    streamsOpen: () => cm.list().reduce((n, c) => n + c.streams.streams.size, 0),
    // Each relay of a daemon reports its own; here the three relays' totals together.
    relay: () => {
      const sum = {
        circuitsOpen: 0,
        circuitsCreated: 0,
        circuitsRefused: 0,
        cellsRelayed: 0,
        bytesRelayed: 0,
      };
      for (const r of net.relays) {
        sum.circuitsOpen += r.service.circuits.size;
        sum.circuitsCreated += r.service.stats.circuitsCreated;
        sum.circuitsRefused += r.service.stats.circuitsRefused;
        sum.cellsRelayed += r.service.stats.cellsRelayed;
        sum.bytesRelayed += r.service.stats.bytesRelayed;
      }
      return { ...sum, integrityFailures: 0 };
    },
    links: () => linkCounters,
  });
  return cm;
}

const scrape = async (m: Metrics) => parsePromText(await m.registry.metrics());

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-metrics-'));
  net = await startMiniNet([{ exit: true }, { exit: true }, { exit: true }]);
  view = miniRelayView(net);
  ({ server: echo, port: echoPort } = await startEchoServer());
});

after(async () => {
  echo?.close();
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('building a circuit and using it moves the circuit, stream, relay and link metrics', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const cm = manager(metrics, 15_000, 'ok');
  try {
    let f = await scrape(metrics);
    assert.equal(sampleValue(f, 'anonnet_circuits_built_total'), 0);
    assert.equal(sampleValue(f, 'anonnet_circuit_build_seconds_count'), 0);
    assert.equal(sampleValue(f, 'anonnet_circuits_open'), 0);
    const created0 = sampleValue(f, 'anonnet_relay_circuits_created_total') ?? -1;
    const cells0 = sampleValue(f, 'anonnet_relay_cells_total') ?? -1;
    const linkOut0 = sampleValue(f, 'anonnet_link_cells_total', { direction: 'out' }) ?? -1;

    const { circuit, buildMs } = await cm.buildNow(AbortSignal.timeout(20_000));
    assert.equal(circuit.path.length, 3);
    f = await scrape(metrics);
    assert.equal(sampleValue(f, 'anonnet_circuits_built_total'), 1);
    assert.equal(sampleValue(f, 'anonnet_circuits_failed_total'), 0);
    assert.equal(sampleValue(f, 'anonnet_circuits_open'), 1);
    assert.equal(sampleValue(f, 'anonnet_circuit_build_seconds_count'), 1);
    const sum = sampleValue(f, 'anonnet_circuit_build_seconds_sum') ?? 0;
    assert.ok(sum > 0 && sum <= buildMs / 1000 + 0.01, `build seconds ${sum} vs ${buildMs} ms`);
    // Guard, middle and exit each answered one CREATE.
    assert.equal((sampleValue(f, 'anonnet_relay_circuits_created_total') ?? 0) - created0, 3);
    assert.equal(sampleValue(f, 'anonnet_relay_circuits_open'), 3);

    const stream = await cm.openStream('127.0.0.1', echoPort, 'metrics-test', AbortSignal.timeout(20_000));
    const payload = Buffer.alloc(64 * 1024, 7);
    const got: Buffer[] = [];
    let n = 0;
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= payload.length) resolve();
      });
      stream.on('error', reject);
    });
    stream.write(payload);
    await done;
    assert.ok(Buffer.concat(got).equals(payload));
    f = await scrape(metrics);
    assert.equal(sampleValue(f, 'anonnet_streams_opened_total'), 1);
    assert.equal(sampleValue(f, 'anonnet_streams_open'), 1);
    // 64 KiB each way over 3 hops: the guard and middle each pass on at least 2 × 32 cells.
    const cells = (sampleValue(f, 'anonnet_relay_cells_total') ?? 0) - cells0;
    assert.ok(cells >= 4 * 32, `relay cells ${cells}`);
    assert.ok((sampleValue(f, 'anonnet_relay_bytes_total') ?? 0) >= cells * 400, 'relay bytes');
    assert.ok((sampleValue(f, 'anonnet_link_cells_total', { direction: 'out' }) ?? 0) - linkOut0 >= cells);
    stream.destroy();

    assert.ok(cm.closeCircuit(circuit.id));
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      f = await scrape(metrics);
      if (sampleValue(f, 'anonnet_circuits_closed_total') === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(sampleValue(f, 'anonnet_circuits_closed_total'), 1);
    assert.equal(sampleValue(f, 'anonnet_circuits_open'), 0);
  } finally {
    await cm.stop();
  }
});

test('builds that time out count as failures, not as built circuits', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const cm = manager(metrics, 1, 'timeout');
  try {
    await assert.rejects(cm.buildNow(AbortSignal.timeout(20_000)));
    const f = await scrape(metrics);
    // The first attempt times out; a retry avoids its middle and exit, which leaves no path of 3 here.
    assert.equal(sampleValue(f, 'anonnet_circuits_failed_total'), 1);
    assert.equal(sampleValue(f, 'anonnet_circuits_built_total'), 0);
    assert.equal(sampleValue(f, 'anonnet_circuit_build_seconds_count'), 0);
  } finally {
    await cm.stop();
  }
});
