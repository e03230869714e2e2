// A client that stops reading (hardening issue, class 7) against a live testnet: a separate attacker
// process (test/e2e/attackers/slow-reader.ts, a stock libp2p host) builds circuits through the same
// guard, middle and exit as the honest client's circuit, stops reading its channel to the guard and
// asks for large downloads. Honest traffic through that guard uses the same guard-to-middle channel
// (one channel per neighbour: src/circuit/channel-pool.ts), which the guard used to stop reading for
// the attacker. Asserted: during the pause the guard holds the attacker's cells in its queues and an
// honest 8 MiB download through the same guard and middle completes byte for byte; once the attacker
// is gone, the guard, middle and exit have forgotten its circuits and hold no queued cell.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startAttacker } from './lib/attacker.ts';
import { bigBodyHash, type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
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
const MIB = 8;
const ATTACK = { circuits: 3, streams: 2, mib: 64 };
let net: RunningTestnet;
let web: Fixture;
let dir: string;

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-attack-slow-reader-');
  net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
});

after(async () => {
  await net?.stop();
  await web?.close();
  removeDir(dir);
});

interface CircuitRow {
  id: string;
  state: string;
  hops: string[];
  bytesIn: number;
}

async function circuits(): Promise<CircuitRow[]> {
  const token = (net.ready as unknown as { token: string }).token;
  const res = await fetch(`${net.ready.api}/api/v1/circuits`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { circuits: CircuitRow[] }).circuits;
}

/** Downloads `mib` MiB through the SOCKS proxy; resolves with its SHA-256 and the seconds it took. */
async function download(mib: number): Promise<{ hash: string; seconds: number }> {
  const started = performance.now();
  const r = await run(
    'bash',
    [
      '-c',
      `set -o pipefail; curl -sS --max-time 120 --socks5-hostname ${net.ready.socks} ` +
        `'http://127.0.0.1:${web.port}/big?mib=${mib}' | sha256sum`,
    ],
    { maxBuffer: 1024 * 1024 },
  );
  return { hash: r.stdout.split(' ')[0]!, seconds: (performance.now() - started) / 1000 };
}

/** The testnet node with this peer id: its pid, status and an address to dial it on. */
function node(peerId: string): { pid: number; dataDir: string; address: string } {
  const child = net.ready.children.find((c) => c.peerId === peerId);
  assert.ok(child, `node ${peerId} is in the testnet`);
  const listen = readStatus(child.dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, 'the node lists a TCP address');
  const address = listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
  return { pid: child.pid, dataDir: child.dataDir, address };
}

function queuedBytes(dataDir: string): number {
  return readStatus(dataDir)?.cellQueues.bytes ?? -1;
}

function relayed(dataDir: string): number {
  return readStatus(dataDir)?.relayedCircuits ?? -1;
}

test('a client that stops reading does not stall honest downloads through the same guard and middle', async () => {
  const expected = bigBodyHash(MIB);
  const page = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    `http://127.0.0.1:${web.port}/`,
  ]);
  assert.equal(page.stdout, PAGE);
  const before = await download(MIB);
  assert.equal(before.hash, expected);
  // The circuit the honest client downloads on (its streams share one circuit per isolation key).
  const used = (await circuits()).filter((c) => c.state === 'open' && c.bytesIn >= MIB * 1024 * 1024);
  assert.equal(used.length, 1, 'one honest circuit carried the download');
  const [g, m, e] = used[0]!.hops as [string, string, string];
  const guard = node(g);
  const middle = node(m);
  const exit = node(e);
  const relayedBefore = [guard, middle, exit].map((n) => relayed(n.dataDir));
  let relayedDuring: number[] = [];

  const attacker = startAttacker('slow-reader', {
    guard: { peerId: g, address: guard.address },
    middle: { peerId: m, address: middle.address },
    exit: { peerId: e, address: exit.address },
    target: { host: '127.0.0.1', port: web.port, path: `/big?mib=${ATTACK.mib}` },
    circuits: ATTACK.circuits,
    streams: ATTACK.streams,
  });
  try {
    const built = await attacker.waitFor((r) => r['phase'] === 'built', 90_000);
    assert.deepEqual(built['path'], [g, m, e], 'the attacker goes through the honest guard and middle');
    await attacker.waitFor((r) => r['phase'] === 'paused', 60_000);
    // The guard holds the attacker's cells (it can pass 256 KiB on; each circuit carries up to 2 MiB).
    await until(
      () => queuedBytes(guard.dataDir) > 1024 * 1024,
      30_000,
      'the guard to queue for the attacker',
    );
    const queuedAtGuard = queuedBytes(guard.dataDir);
    // status.json is rewritten every 2 s: the middle's and the exit's may still predate the build.
    const carriesAttack = () => {
      relayedDuring = [guard, middle, exit].map((n) => relayed(n.dataDir));
      return relayedDuring.every((n, i) => n >= relayedBefore[i]! + ATTACK.circuits);
    };
    await until(carriesAttack, 10_000, 'each relay to carry the attacker circuits');

    const inBefore = new Map((await circuits()).map((c) => [c.id, c.bytesIn]));
    const during = await download(MIB);
    assert.equal(during.hash, expected, 'the honest download completes, byte for byte, during the pause');
    const carried = (await circuits()).filter(
      (c) => c.bytesIn - (inBefore.get(c.id) ?? 0) >= MIB * 1024 * 1024,
    );
    assert.equal(carried.length, 1);
    assert.deepEqual(
      carried[0]!.hops.slice(0, 2),
      [g, m],
      'the honest download crossed the guard on the channel to the middle that the attacker shares',
    );
    assert.ok(queuedBytes(guard.dataDir) > 0, 'the attacker is still paused, its cells still queued');
    for (const n of [guard, middle, exit]) assert.ok(isAlive(n.pid));
    console.log(
      JSON.stringify({
        test: 'attack-slow-reader',
        honestBeforeS: Number(before.seconds.toFixed(2)),
        honestDuringS: Number(during.seconds.toFixed(2)),
        ratio: Number((during.seconds / before.seconds).toFixed(2)),
        guardQueuedBytes: queuedAtGuard,
        attacker: attacker.reports,
      }),
    );
  } finally {
    await attacker.stop();
  }

  // The attacker is gone (killed, its connection reset): its circuits leave every relay, and with them
  // every queued cell.
  await until(() => queuedBytes(guard.dataDir) === 0, 30_000, 'the guard to free its queues');
  await until(
    () => [guard, middle, exit].every((n, i) => relayed(n.dataDir) <= relayedDuring[i]! - ATTACK.circuits),
    30_000,
    "the relays to forget the attacker's circuits",
  );
  for (const n of [guard, middle, exit]) {
    assert.equal(queuedBytes(n.dataDir), 0);
    assert.ok(isAlive(n.pid));
  }
  assert.equal((await download(MIB)).hash, expected);
});
