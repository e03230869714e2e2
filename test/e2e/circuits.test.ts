// Anonymous browsing end to end: a real 8-process testnet, curl through the SOCKS5 and HTTP proxies
// to a local web server over 3-hop circuits, a 100 MiB download compared by hash, 50 concurrent
// streams, the API's view of the circuits, relay logs free of destinations, and a relay killed
// mid-transfer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { bigBodyHash, type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
import {
  EPHEMERAL_PORTS,
  isAlive,
  type RunningTestnet,
  removeDir,
  startTestnet,
  tempDir,
} from './lib/testnet.ts';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
let net: RunningTestnet;
let web: Fixture;
let dir: string;

async function curl(args: string[], timeoutS = 60): Promise<{ stdout: Buffer; code: number }> {
  try {
    const r = await run('curl', ['-sS', '--max-time', String(timeoutS), ...args], {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
    });
    return { stdout: r.stdout, code: 0 };
  } catch (err) {
    const e = err as { code?: number; stdout?: Buffer };
    return { stdout: e.stdout ?? Buffer.alloc(0), code: typeof e.code === 'number' ? e.code : -1 };
  }
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${net.ready.api}${path}`, {
    headers: { authorization: `Bearer ${(net.ready as unknown as { token: string }).token}` },
  });
  assert.equal(res.status, 200, `${path} answered ${res.status}`);
  return (await res.json()) as T;
}

interface Circuits {
  circuits: Array<{ id: string; state: string; hops: string[]; streams: number }>;
}

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-circuits-');
  net = await startTestnet(['--nodes', '8', '--dir', dir, ...EPHEMERAL_PORTS]);
});

after(async () => {
  await net?.stop();
  await web?.close();
  removeDir(dir);
});

test('curl through SOCKS5 with remote name resolution fetches the page', async () => {
  const r = await curl(['--socks5-hostname', net.ready.socks, `http://localhost:${web.port}/`]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), PAGE);
});

test('curl through the HTTP proxy fetches the page', async () => {
  const r = await curl(['-x', `http://${net.ready.http}`, `http://127.0.0.1:${web.port}/`]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), PAGE);
});

test('curl through an HTTP CONNECT tunnel fetches the page', async () => {
  const r = await curl(['-p', '-x', `http://${net.ready.http}`, `http://127.0.0.1:${web.port}/`]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), PAGE);
});

test('an exit-policy refusal and a refused connection come back as proper proxy errors', async () => {
  // The testnet's exits reject port 25: SOCKS5 reply 0x02 (curl prints the reply code in parentheses).
  const policy = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    'http://127.0.0.1:25/',
  ]).then(
    () => '',
    (err: { stderr?: string }) => String(err.stderr),
  );
  assert.match(policy, /\(2\)|not allowed/i);
  // Nothing listens on the fixture's port + 1 (almost surely): "connection refused" (0x05).
  const refused = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    `http://127.0.0.1:${web.port + 1}/`,
  ]).then(
    () => '',
    (err: { stderr?: string }) => String(err.stderr),
  );
  assert.match(refused, /\(5\)|refused/i);
  // The HTTP proxy answers 403 for the policy refusal.
  const r = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '30',
    '-x',
    `http://${net.ready.http}`,
    'http://127.0.0.1:25/',
  ]);
  assert.equal(r.stdout, '403');
});

test('the API reports 3-hop circuits of three distinct relays', async () => {
  const { circuits } = await api<Circuits>('/api/v1/circuits');
  const open = circuits.filter((c) => c.state === 'open');
  assert.ok(open.length > 0);
  const peers = new Set(net.ready.children.map((c) => c.peerId));
  const self = net.ready.children[0]!.peerId;
  for (const c of open) {
    assert.equal(c.hops.length, 3);
    assert.equal(new Set(c.hops).size, 3);
    for (const h of c.hops) {
      assert.ok(peers.has(h));
      assert.notEqual(h, self);
    }
  }
});

test('a 100 MiB download arrives byte-identical', async () => {
  const expected = bigBodyHash(100);
  const r = await curl(
    ['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/big?mib=100`],
    240,
  );
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, 100 * 1024 * 1024);
  assert.equal(createHash('sha256').update(r.stdout).digest('hex'), expected);
});

test('50 concurrent streams all succeed', async () => {
  const urls = Array.from({ length: 50 }, (_, i) => `http://127.0.0.1:${web.port}/?n=${i}`);
  const args = ['--parallel', '--parallel-max', '50', '--socks5-hostname', net.ready.socks];
  for (const u of urls) args.push(u, '-o', '/dev/null', '-w', '%{http_code}\\n');
  const r = await curl(args, 120);
  assert.equal(r.code, 0);
  const codes = r.stdout.toString().trim().split('\n');
  assert.equal(codes.length, 50);
  assert.ok(
    codes.every((c) => c === '200'),
    codes.join(','),
  );
});

test('no relay log names a destination it only forwarded', () => {
  for (const c of net.ready.children.slice(1)) {
    const log = readFileSync(join(c.dataDir, 'daemon.log'), 'utf8');
    assert.ok(!log.includes(`:${web.port}`), `node ${c.index} logged the destination port`);
    assert.ok(!log.includes('localhost'), `node ${c.index} logged a destination host`);
  }
});

test('killing a middle relay mid-transfer fails that stream and the next request succeeds', async () => {
  // Streams of the earlier tests may still be closing (on a loaded machine for a while): the transfer's
  // circuit is the one of a stream that was not there before it started.
  type Streams = { streams: Array<{ circuitId: string; streamId: number; bytesRead: number }> };
  const key = (s: { circuitId: string; streamId: number }) => `${s.circuitId}/${s.streamId}`;
  const before = new Set((await api<Streams>('/api/v1/streams')).streams.map(key));
  const transfer = curl(['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/slow`], 60);
  let middle: string | undefined;
  for (let i = 0; i < 80 && middle === undefined; i++) {
    await new Promise((r) => setTimeout(r, 250));
    // Mid-transfer: data flows. A stream still opening whose circuit breaks is opened again on another
    // circuit by the proxy (and the transfer then runs to curl's timeout).
    const fresh = (await api<Streams>('/api/v1/streams')).streams.filter((s) => !before.has(key(s)));
    if (fresh.length !== 1 || fresh[0]!.bytesRead === 0) continue;
    const { circuits } = await api<Circuits>('/api/v1/circuits');
    middle = circuits.find((c) => c.id === fresh[0]!.circuitId && c.hops.length === 3)?.hops[1];
  }
  assert.ok(middle, 'found the circuit carrying the transfer');
  const victim = net.ready.children.find((c) => c.peerId === middle)!;
  process.kill(victim.pid, 'SIGKILL');
  const started = Date.now();
  const r = await transfer;
  assert.notEqual(r.code, 0, 'the stream failed');
  assert.ok(Date.now() - started < 30_000, 'and failed promptly, not at the timeout');
  assert.ok(!isAlive(victim.pid));
  const next = await curl(['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/`]);
  assert.equal(next.code, 0);
  assert.equal(next.stdout.toString(), PAGE);
});

test('headless Chromium loads a page through the SOCKS5 proxy', {
  skip: !existsSync(CHROMIUM) && process.env['CI'] !== 'true',
}, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--proxy-server=socks5://${net.ready.socks}`,
      // Chromium sends loopback requests around a proxy unless told not to.
      '--proxy-bypass-list=<-loopback>',
    ],
  });
  try {
    const before = web.requests.length;
    const bytesIn = async () =>
      (await api<{ circuits: Array<{ bytesIn: number }> }>('/api/v1/circuits')).circuits.reduce(
        (a, c) => a + c.bytesIn,
        0,
      );
    const circuitBytesBefore = await bytesIn();
    const page = await browser.newPage();
    await page.goto(`http://localhost:${web.port}/?from=chromium`, { timeout: 60_000 });
    assert.equal(await page.textContent('#hello'), 'Hello through AnonNet');
    assert.ok(web.requests.slice(before).includes('/?from=chromium'));
    // The page came over a circuit, not around the proxy.
    assert.ok((await bytesIn()) - circuitBytesBefore >= PAGE.length, 'page bytes arrived through a circuit');
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/chromium-through-anonnet.png' });
  } finally {
    await browser.close();
  }
});
