// BEGIN floods against a live testnet exit (hardening issue, class 9). A separate attacker process builds
// one-hop circuits to the exit with AnonNet's own circuit code and floods BEGINs to a slow destination
// (accepts, never answers) and to a live web server: first bluntly (as fast as answers come), then
// patiently (under the BEGIN rate). The exit's open file descriptors (/proc/<pid>/fd) stay within the
// socket budget, the blunt attacker's circuits are closed by the exit, every socket is given back when
// the attack ends, and curl through the client's SOCKS proxy fetches the page before, during and after.
// The network has 3 nodes: the client, one relay and one exit, so every honest stream leaves through
// the attacked exit. Figures go to stdout as JSON lines ({"figure": ...}).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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
/** The exit's limits for this test (config file): small enough that the attack reaches them. */
const LIMITS = { maxSockets: 256, maxSocketsPerCircuit: 64, busySocketsPerCircuit: 16 };
/** Descriptors the exit may open besides its exit sockets while under attack (connections, logs). */
const SLACK = 40;

let net: RunningTestnet;
let web: Fixture;
let slow: { server: Server; port: number; sockets: Set<Socket> };
let dir: string;

before(async () => {
  web = await startFixture();
  const sockets = new Set<Socket>();
  const server = createServer({ pauseOnConnect: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  slow = { server, port: (server.address() as { port: number }).port, sockets };
  dir = tempDir('anonnet-attack-exit-');
  const config = join(dir, 'limits.json');
  writeFileSync(config, JSON.stringify({ exit: LIMITS }));
  net = await startTestnet(['--nodes', '3', '--dir', join(dir, 'net'), ...EPHEMERAL_PORTS], 150_000, {
    ...process.env,
    ANONNET_CONFIG: config,
  });
});

after(async () => {
  await net?.stop();
  await web?.close();
  for (const s of slow?.sockets ?? []) s.destroy();
  slow?.server.close();
  removeDir(dir);
});

async function fetchPage(): Promise<boolean> {
  try {
    const r = await run('curl', [
      '-sS',
      '--max-time',
      '30',
      '--socks5-hostname',
      net.ready.socks,
      `http://127.0.0.1:${web.port}/`,
    ]);
    return r.stdout === PAGE;
  } catch {
    return false;
  }
}

function theExit(): { pid: number; dataDir: string; address: string } {
  // Node 1 is the network's only exit (every odd node is one).
  const child = net.ready.children[1]!;
  const status = readStatus(child.dataDir);
  assert.ok(status?.roles.includes('exit'), `node 1 is an exit: ${status?.roles.join(',')}`);
  const listen = status?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, 'the exit lists a TCP address');
  const address = listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
  return { pid: child.pid, dataDir: child.dataDir, address };
}

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Samples the exit's descriptors and reported sockets every 100 ms until stopped. */
function sampler(pid: number, dataDir: string) {
  let peakFds = 0;
  let peakSockets = 0;
  const timer = setInterval(() => {
    peakFds = Math.max(peakFds, openFds(pid));
    peakSockets = Math.max(peakSockets, readStatus(dataDir)?.exit.sockets ?? 0);
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakFds, peakSockets };
    },
  };
}

/** Fetches the page once a second until `done` settles; how many fetches succeeded and failed. */
async function honestDuring(done: Promise<unknown>): Promise<{ ok: number; failed: number }> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const r = { ok: 0, failed: 0 };
  while (!finished || r.ok + r.failed === 0) {
    if (await fetchPage()) r.ok++;
    else r.failed++;
    await new Promise((res) => setTimeout(res, 1_000));
  }
  return r;
}

async function attack(
  name: string,
  args: Record<string, unknown>,
): Promise<{ attacker: RunningAttacker; done: Record<string, unknown> }> {
  const { pid, dataDir, address } = theExit();
  const baseline = openFds(pid);
  const sample = sampler(pid, dataDir);
  const attacker = startAttacker('exit-flood', {
    address,
    targets: [
      { host: '127.0.0.1', port: slow.port },
      { host: '127.0.0.1', port: web.port },
    ],
    ...args,
  });
  const finished = attacker.waitFor((r) => r['phase'] === 'done', 120_000);
  const honest = await honestDuring(finished);
  const done = await finished;
  const { peakFds, peakSockets } = sample.stop();
  const figure = {
    figure: `exit-${name}`,
    baseline,
    peakFds,
    peakSockets,
    budget: LIMITS.maxSockets,
    honest,
    done,
  };
  console.log(JSON.stringify(figure));
  assert.equal(
    honest.failed,
    0,
    `every honest fetch during the ${name} attack succeeded: ${JSON.stringify(honest)}`,
  );
  assert.ok(peakSockets <= LIMITS.maxSockets, `the exit held ${peakSockets} sockets`);
  assert.ok(
    peakFds - baseline <= LIMITS.maxSockets + SLACK,
    `the exit's descriptors rose by ${peakFds - baseline} (budget ${LIMITS.maxSockets})`,
  );
  for (const c of attacker.reports.filter((r) => r['phase'] === 'circuit'))
    assert.ok(
      (c['connected'] as number) <= LIMITS.maxSocketsPerCircuit,
      `a circuit got ${c['connected']} streams`,
    );
  assert.ok(isAlive(pid));
  return { attacker, done };
}

test('a blunt BEGIN flood: refused past the rate and the share, its circuits closed, fds bounded', async () => {
  assert.equal(await fetchPage(), true);
  const { pid, dataDir } = theExit();
  const baseline = openFds(pid);
  const { attacker, done } = await attack('blunt', {
    circuits: 4,
    begins: 600,
    concurrency: 48,
    holdMs: 2_000,
  });
  assert.ok((done['connected'] as number) > 0, 'the exit served the attacker within its shares');
  const refused = done['refused'] as Record<string, number>;
  assert.ok((refused['11'] ?? 0) > 0, `BEGINs were refused with RESOURCELIMIT: ${JSON.stringify(refused)}`);
  assert.ok((done['closedByExit'] as number) >= 1, 'the exit closed flooding circuits');
  await attacker.stop();
  // Everything the attacker held is given back: no socket outlives its circuit.
  await until(
    () => (readStatus(dataDir)?.exit.sockets ?? -1) === 0,
    20_000,
    'the exit to give back every socket',
  );
  await until(
    () => openFds(pid) <= baseline + 8,
    20_000,
    'the exit descriptors to come back to the baseline',
  );
  console.log(JSON.stringify({ figure: 'exit-blunt-after', baseline, fds: openFds(pid) }));
  assert.equal(await fetchPage(), true);
});

test('a patient flood under the BEGIN rate: the shares and the budget hold, honest fetches go on', async () => {
  const { pid, dataDir } = theExit();
  const baseline = openFds(pid);
  const { attacker, done } = await attack('patient', {
    circuits: 6,
    begins: 48,
    concurrency: 4,
    paceMs: 300,
    holdMs: 1_000,
  });
  assert.ok((done['connected'] as number) > 0);
  // Six circuits could ask for 6 x 64: once three quarters of the budget are in use, circuits that hold
  // their busy share get no more.
  await attacker.stop();
  await until(
    () => (readStatus(dataDir)?.exit.sockets ?? -1) === 0,
    20_000,
    'the exit to give back every socket',
  );
  await until(
    () => openFds(pid) <= baseline + 8,
    20_000,
    'the exit descriptors to come back to the baseline',
  );
  const refusals = readStatus(dataDir)?.exit.refused;
  console.log(JSON.stringify({ figure: 'exit-refusals', refusals }));
  assert.equal(await fetchPage(), true);
});
