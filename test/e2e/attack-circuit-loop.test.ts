// Looping circuits and forged SENDMEs against a live testnet (hardening issue, class 8). A separate
// attacker process (test/e2e/attackers/circuit-loop.ts: a stock libp2p host building circuits by hand)
// tries to loop a circuit through two and three relays (the issue measured 41 hops over 2 relays),
// measures what a longest allowed loop amplifies, and acknowledges data it never received. The relays
// cut the loops at 8 extends, the amplification stays under 10x, the forged SENDMEs kill the
// attacker's circuit, and curl through the client's SOCKS proxy keeps fetching the page.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { MAX_CIRCUIT_HOPS } from '../../src/circuit/client-circuit.ts';
import { CIRCUIT_WINDOW } from '../../src/circuit/flow.ts';
import { CELL_BYTES, DestroyReason, MAX_RELAY_EARLY_CELLS } from '../../src/wire/cell.ts';
import { type RunningAttacker, startAttacker } from './lib/attacker.ts';
import { type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
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

const run = promisify(execFile);
let net: RunningTestnet;
let web: Fixture;
let dir: string;
let attacker: RunningAttacker | undefined;

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-attack-loop-');
  // Node 0 is the client (SOCKS); nodes 1 and 3 are exits, 2 a relay.
  net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
});

after(async () => {
  await attacker?.stop();
  await net?.stop();
  await web?.close();
  removeDir(dir);
});

async function fetchPage(): Promise<string> {
  const r = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    `http://127.0.0.1:${web.port}/`,
  ]);
  return r.stdout;
}

/** A dialable address of testnet node `i`. */
function address(i: number): string {
  const child = net.ready.children[i]!;
  const listen = readStatus(child.dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, `node ${i} lists a TCP address`);
  return listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
}

function run1(args: Record<string, unknown>): RunningAttacker {
  attacker = startAttacker('circuit-loop', args);
  return attacker;
}

const allAlive = () => net.ready.children.every((c) => isAlive(c.pid));

test('a circuit looping through two or three relays is cut at 8 extends', async () => {
  assert.equal(await fetchPage(), PAGE);
  const a = run1({ mode: 'loop', relays: [address(1), address(2), address(3)], maxExtends: 40 });
  const during = fetchPage();
  const two = await a.waitFor((r) => r['relays'] === 2);
  const three = await a.waitFor((r) => r['relays'] === 3);
  assert.equal(await during, PAGE, 'a fetch during the attack succeeds');
  await a.stop();
  // A-B-A: B refuses to extend back to A (TRUNCATED, PROTOCOL, from hop 2).
  assert.equal(two['extendsAccepted'], 1, JSON.stringify(two));
  assert.deepEqual(two['ended'], { kind: 'truncated', hop: 1, reason: DestroyReason.PROTOCOL });
  // A-B-C-A-…: the 9th RELAY_EARLY cell is refused at A.
  assert.ok((three['extendsAccepted'] as number) <= MAX_RELAY_EARLY_CELLS, JSON.stringify(three));
  assert.equal(three['extendsAccepted'], MAX_RELAY_EARLY_CELLS);
  assert.deepEqual(three['ended'], { kind: 'destroy', reason: DestroyReason.PROTOCOL });
  assert.ok(allAlive());
});

/** Every node's count of cells read on circuit links, from status files newer than `since`. */
async function cellsIn(since: number): Promise<number> {
  let total = 0;
  await until(
    () => {
      total = 0;
      for (const c of net.ready.children) {
        const s = readStatus(c.dataDir);
        if (s === undefined || s.startedAt + s.uptimeMs < since) return false;
        total += s.links.cellsIn;
      }
      return true;
    },
    10_000,
    'fresh status files',
  );
  return total;
}

test('the longest loop allowed amplifies what its client sends less than 10x', async () => {
  const before = await cellsIn(Date.now());
  const a = run1({ mode: 'amplify', relays: [address(1), address(2), address(3)], cells: 1000, window: 250 });
  const r = await a.waitFor((x) => x['mode'] === 'amplify' || 'error' in x, 120_000);
  await a.stop();
  assert.equal(r['error'], undefined, String(r['error']));
  assert.equal(r['hops'], MAX_CIRCUIT_HOPS);
  const after = await cellsIn(Date.now());
  const attackerBytes = (r['bytesSent'] as number) + (r['bytesReceived'] as number);
  const relayed = (after - before) * CELL_BYTES;
  const amplification = relayed / attackerBytes;
  console.log(
    `amplify: ${JSON.stringify(r)}; cells in on all nodes ${after - before}; ${amplification.toFixed(2)}x`,
  );
  // Each DROP cell crosses 9 links (the attacker's and 8 between relays): about 9x, never 43x.
  assert.ok(amplification <= MAX_CIRCUIT_HOPS + 1, `amplification ${amplification.toFixed(2)}x`);
  assert.ok(
    amplification >= MAX_CIRCUIT_HOPS - 2,
    `the relays carried the loop (${amplification.toFixed(2)}x)`,
  );
  assert.ok(allAlive());
});

test('SENDMEs for data never received kill the attacker circuit at the exit', async () => {
  const target = { host: '127.0.0.1', port: web.port, path: '/big?mib=64' };
  const variants = [
    { sendme: 'random-digest', at: 100 },
    { sendme: 'empty', at: 100 },
    { sendme: 'random-digest', at: 0 },
  ];
  const a = run1({ mode: 'forge', relays: [address(2), address(1)], target, variants });
  const during = fetchPage();
  await a.waitFor((x) => 'error' in x || a.reports.filter((r) => r['mode'] === 'forge').length === 3, 90_000);
  await a.stop();
  assert.equal(await during, PAGE, 'a fetch during the attack succeeds');
  const reports = a.reports.filter((r) => r['mode'] === 'forge');
  for (const r of reports) console.log(`forge: ${JSON.stringify(r)}`);
  assert.equal(reports.length, 3, JSON.stringify(a.reports));
  for (const r of reports) {
    assert.equal(r['killed'], true, JSON.stringify(r));
    assert.deepEqual(r['ended'], { kind: 'destroy', reason: DestroyReason.PROTOCOL });
    // The exit never sent past the authenticated circuit window.
    assert.ok((r['dataCellsReceived'] as number) <= CIRCUIT_WINDOW, JSON.stringify(r));
    assert.ok((r['bytesReceived'] as number) <= (CIRCUIT_WINDOW + 20) * CELL_BYTES, JSON.stringify(r));
  }
  assert.equal(await fetchPage(), PAGE, 'curl still fetches the page after the attacks');
  assert.ok(allAlive());
});
