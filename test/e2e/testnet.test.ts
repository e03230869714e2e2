// A real 8-process testnet on 127.0.0.1 (node 0 a client only, nodes 1..7 relays): every node learns
// every relay through the DHT; a killed node's descriptor expires from the others' views; stopping the
// testnet leaves no process behind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  EPHEMERAL_PORTS,
  isAlive,
  type RunningTestnet,
  readStatus,
  removeDir,
  startTestnet,
  tempDir,
  until,
} from './lib/testnet.ts';

const NODES = 8;
const LIFETIME_MS = 24_000;
let net: RunningTestnet;
let dir: string;

before(async () => {
  dir = tempDir('anonnet-e2e-');
  net = await startTestnet([
    '--nodes',
    String(NODES),
    '--dir',
    dir,
    '--descriptor-lifetime',
    String(LIFETIME_MS),
    ...EPHEMERAL_PORTS,
  ]);
});

after(async () => {
  await net?.stop();
  removeDir(dir);
});

test('the ready line has the documented keys', () => {
  const r = net.ready;
  assert.equal(r.ready, true);
  assert.equal(r.nodes, NODES);
  assert.equal(r.dir, dir);
  assert.match(r.socks, /^127\.0\.0\.1:\d+$/);
  assert.match(r.http, /^127\.0\.0\.1:\d+$/);
  assert.match(r.api, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(r.children.length, NODES);
  assert.equal(new Set(r.children.map((c) => c.peerId)).size, NODES);
});

test('every node knows every relay, learned through the DHT', async () => {
  // Every node but the client (node 0), which publishes nothing about itself.
  const all = net.ready.children
    .filter((c) => c.index !== 0)
    .map((c) => c.peerId)
    .sort();
  // The testnet is ready once every node knows every relay; a node's own bootstrap also waits for its
  // descriptor to be stored in the DHT (65%), which on a loaded machine can come a little later.
  await until(
    () =>
      net.ready.children.every((c) => {
        const s = readStatus(c.dataDir);
        return s?.bootstrap.percent === 100 && JSON.stringify([...s.relays].sort()) === JSON.stringify(all);
      }),
    60_000,
    'all status files to list all relays at bootstrap 100%',
  );
  for (const c of net.ready.children) {
    const s = readStatus(c.dataDir);
    assert.ok(s);
    assert.equal(s.bootstrap.percent, 100);
    // Only node 1 was given to the others as a bootstrap peer: the rest were found by the DHT's
    // walks. Their descriptors come straight from the peer once connected (discovery.ts), or from DHT
    // records (dhtLookups) for relays not connected to, so on a quiet machine lookups may be 0.
  }
});

test('a killed node expires from every other view', async () => {
  const victim = net.ready.children[5]!;
  process.kill(victim.pid, 'SIGKILL');
  const others = net.ready.children.filter((c) => c !== victim);
  await until(
    () => others.every((c) => readStatus(c.dataDir)?.relays.includes(victim.peerId) === false),
    LIFETIME_MS * 3,
    'the killed relay to expire from every view',
  );
  // The relays left: every node but the client and the victim.
  for (const c of others) assert.equal(readStatus(c.dataDir)?.relaysKnown, NODES - 2);
});

test('stopping the testnet stops every child', async () => {
  const code = await net.stop('SIGTERM');
  assert.equal(code, 0);
  await until(() => net.ready.children.every((c) => !isAlive(c.pid)), 10_000, 'children to exit');
});
