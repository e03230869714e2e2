// Stateful protocol fuzzing against a live testnet (hardening issue: "no byte sequence from a peer, on
// any protocol, may end or wedge the process"). Two attacker processes (test/e2e/attackers/
// protocol-fuzz.ts) fuzz every AnonNet protocol of two victims at once: a relay that is no validator
// (node 4) and a validator (node 2); neither is an exit, so no fuzzed name is ever resolved. On a
// 5-node testnet every 3-hop path goes through at least one of them (the exits are nodes 1 and 3, and
// a path takes two of the three other relays), so curl's requests cross a victim. Asserted: both
// victims stay up and under an RSS cap, every curl through the client's SOCKS proxy fetches the page
// during and after the attack, the ledger keeps finalising, and each victim still answers on every
// protocol when the fuzzing stops, to a fresh identity (the fuzzing one may have used up its own shares).
//
// Longer runs: FUZZ_ITERATIONS=<sessions per victim> (then no time limit unless FUZZ_DURATION_MS),
// FUZZ_SEED=<n> to replay a run (the seeds are printed), FUZZ_PARALLEL=<sessions at once>.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
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
const env = (name: string): number | undefined =>
  process.env[name] === undefined ? undefined : Number(process.env[name]);
const ITERATIONS = env('FUZZ_ITERATIONS');
const DURATION_MS = env('FUZZ_DURATION_MS') ?? (ITERATIONS === undefined ? 30_000 : 24 * 3600_000);
const PARALLEL = env('FUZZ_PARALLEL') ?? 6;
const BASE_SEED = env('FUZZ_SEED') ?? Math.floor(Math.random() * 0x1_0000_0000);
/** Generous: a testnet node sits at ~200-300 MiB; unbounded growth under fuzzing passes this fast. */
const RSS_CAP_KIB = 1024 * 1024;

let net: RunningTestnet;
let web: Fixture;
let dir: string;

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-attack-fuzz-');
  net = await startTestnet(['--nodes', '5', '--dir', dir, ...EPHEMERAL_PORTS]);
});

after(async () => {
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

function node(index: number): { pid: number; address: string; dataDir: string } {
  const child = net.ready.children[index]!;
  const listen = readStatus(child.dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, `node ${index} lists a TCP address`);
  const address = listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
  return { pid: child.pid, address, dataDir: child.dataDir };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

const height = (dataDir: string): number => readStatus(dataDir)?.ledger?.height ?? 0;

test('stateful fuzzing of every protocol of a relay and a validator: both keep serving', async (t) => {
  assert.equal(await fetchPage(), PAGE);
  const victims = [
    { name: 'relay', ...node(4), seed: BASE_SEED >>> 0 },
    { name: 'validator', ...node(2), seed: (BASE_SEED + 1) >>> 0 },
  ];
  const client = net.ready.children[0]!;
  await until(() => height(client.dataDir) > 0, 60_000, 'the ledger running');
  t.diagnostic(`seeds: relay ${victims[0]!.seed}, validator ${victims[1]!.seed} (FUZZ_SEED=${BASE_SEED})`);

  const attackers: RunningAttacker[] = victims.map((v) =>
    startAttacker('protocol-fuzz', {
      address: v.address,
      seed: v.seed,
      ...(ITERATIONS !== undefined ? { iterations: ITERATIONS } : { iterations: 1_000_000 }),
      durationMs: DURATION_MS,
      parallel: PARALLEL,
    }),
  );
  try {
    await Promise.all(attackers.map((a) => a.waitFor((r) => r['ready'] === true, 60_000)));
    const heightAtStart = height(client.dataDir);
    const peakRss = victims.map((v) => rssKiB(v.pid));
    const sampler = setInterval(() => {
      victims.forEach((v, i) => {
        if (isAlive(v.pid)) peakRss[i] = Math.max(peakRss[i]!, rssKiB(v.pid));
      });
    }, 500);
    let fetches = 0;
    const finished = Promise.all(
      attackers.map((a) => a.waitFor((r) => r['done'] === true, DURATION_MS + 120_000)),
    );
    let over = false;
    void finished.then(
      () => {
        over = true;
      },
      () => {
        over = true;
      },
    );
    try {
      while (!over) {
        assert.equal(await fetchPage(), PAGE, `a fetch during the fuzzing (seed ${BASE_SEED})`);
        fetches++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    } finally {
      clearInterval(sampler);
    }
    const reports = await finished;
    const heightAtEnd = height(client.dataDir);

    for (const [i, v] of victims.entries()) {
      const r = reports[i]!;
      const what = `${v.name} victim (seed ${v.seed})`;
      t.diagnostic(
        `${what}: ${r['sessions']} sessions in ${r['elapsedMs']} ms, peak RSS ${Math.round(peakRss[i]! / 1024)} MiB, ` +
          `probes ${JSON.stringify(r['probes'])} (${JSON.stringify(r['probeStats'])}; the fuzzing identity's ` +
          `circuit: ${r['fuzzingIdentityCircuit']}), anomalies ${JSON.stringify(r['anomalies'])}`,
      );
      assert.ok(isAlive(v.pid), `the ${what} survived`);
      assert.ok(peakRss[i]! < RSS_CAP_KIB, `the ${what} stayed under ${RSS_CAP_KIB / 1024} MiB RSS`);
      assert.ok(Number(r['sessions']) > 0, `the fuzzer ran sessions against the ${what}`);
      assert.deepEqual(r['sessionErrors'], [], `the fuzzer itself ran cleanly against the ${what}`);
      // The fuzzer speaks the victim's protocols (a stale protocol id once made every circuit session a
      // refused stream), and its circuit sessions get past the handshake.
      const stats = r['stats'] as Record<string, number>;
      assert.equal(stats['openErrors.UnsupportedProtocolError'], undefined, `protocols the ${what} lacks`);
      assert.ok((stats['circuit.created'] ?? 0) > 0, `circuits created at the ${what}`);
      assert.deepEqual(
        r['probes'],
        { descriptor: true, dht: true, circuit: true, ledger: true },
        `the ${what} still answers on every protocol`,
      );
    }
    assert.ok(fetches >= 1, 'curl fetched during the fuzzing');
    assert.ok(
      heightAtEnd > heightAtStart,
      `the ledger finalised during the fuzzing (${heightAtStart} → ${heightAtEnd})`,
    );
  } finally {
    await Promise.all(attackers.map((a) => a.stop()));
  }
  assert.equal(await fetchPage(), PAGE, 'a fetch after the fuzzing');
  const h = height(client.dataDir);
  await until(() => height(client.dataDir) >= h + 3, 60_000, 'the ledger finalising after the fuzzing');
  for (const v of victims) assert.ok(isAlive(v.pid), `the ${v.name} victim is still up`);
});
