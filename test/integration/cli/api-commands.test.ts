// `anonnet status|circuits|peers|relays|dashboard` as separate processes against a real API server
// (in this process, on an ephemeral port) found through a data directory, as a user runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/server.ts';
import { PEER_A, PEER_B } from '../../unit/api/fake-source.ts';
import { fakes, TOKEN } from '../../unit/api/requests.ts';

const root = new URL('../../../', import.meta.url).pathname;
const NODE = join(root, 'node_modules/.bin/node');
const MAIN = join(root, 'src/cli/main.ts');

let app: FastifyInstance;
let dir: string;
let hostPort: string;

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [MAIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function dataDir(token: string | undefined, api: string | undefined): string {
  const d = mkdtempSync(join(tmpdir(), 'anonnet-cli-'));
  if (token !== undefined) writeFileSync(join(d, 'api-token'), `${token}\n`, { mode: 0o600 });
  if (api !== undefined)
    writeFileSync(join(d, 'status.json'), JSON.stringify({ api, peers: 2 }), { mode: 0o600 });
  return d;
}

before(async () => {
  app = buildApi(fakes().source, TOKEN);
  const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  hostPort = url.host;
  dir = dataDir(TOKEN, hostPort);
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('status: a human summary, and --json for scripts', async () => {
  const human = await cli(['status', '--data-dir', dir]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Bootstrap\s+100% \(done\)/);
  assert.match(human.stdout, /Bandwidth\s+read 2\.0 KiB\/s\s+written 4\.0 KiB\/s/);
  const json = await cli(['status', '--data-dir', dir, '--json']);
  assert.equal(json.code, 0);
  const s = JSON.parse(json.stdout) as {
    bootstrap: { percent: number };
    peers: number;
    relayedCircuits: number;
  };
  assert.equal(s.bootstrap.percent, 100);
  assert.equal(s.relayedCircuits, 0);
});

test('circuits, peers, relays: tables by default, JSON with --json', async () => {
  const circuits = await cli(['circuits', '--data-dir', dir]);
  assert.equal(circuits.code, 0, circuits.stderr);
  const [header, row] = circuits.stdout.split('\n');
  assert.match(header ?? '', /^ID\s+STATE\s+AGE\s+STREAMS\s+IN\s+OUT\s+HOPS$/);
  assert.match(row ?? '', /^c1\s+open\s+1s\s+1\s+4\.9 KiB\s+300 B\s+12D3KooW…/);
  const cj = JSON.parse((await cli(['circuits', '--data-dir', dir, '--json'])).stdout) as {
    circuits: Array<{ hops: string[] }>;
  };
  assert.equal(cj.circuits[0]?.hops[0], PEER_A);

  const peers = await cli(['peers', '--data-dir', dir]);
  assert.match(peers.stdout, /^2 peers \(tcp 1, quic 1\)\n/);
  assert.ok(peers.stdout.includes(PEER_B));
  const relays = await cli(['relays', '--json', '--data-dir', dir]);
  assert.deepEqual((JSON.parse(relays.stdout) as { relays: Array<{ roles: string[] }> }).relays[0]?.roles, [
    'relay',
    'exit',
  ]);
  const relaysTable = await cli(['relays', '--data-dir', dir]);
  assert.match(relaysTable.stdout, /relay,exit\s+976\.6 KiB\/s/);
});

test('the data directory also comes from ANONNET_DATA_DIR', async () => {
  const r = await cli(['peers', '--json'], { ANONNET_DATA_DIR: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { count: number }).count, 2);
});

test('dashboard prints the URL with the token in the fragment', async () => {
  const r = await cli(['dashboard', '--data-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `http://${hostPort}/#token=${encodeURIComponent(TOKEN)}`);
});

test('dashboard --open hands the URL to the platform opener, or prints it when there is none', async () => {
  // The opener on Linux is xdg-open; a stand-in on PATH records what it was given.
  const bin = mkdtempSync(join(tmpdir(), 'anonnet-opener-'));
  const seen = join(bin, 'opened.txt');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`, { mode: 0o755 });
  try {
    const r = await cli(['dashboard', '--data-dir', dir, '--open'], { PATH: bin });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `opened the dashboard (http://${hostPort}/)\n`, 'the token is not printed');
    const deadline = Date.now() + 10_000;
    while (!existsSync(seen) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    // Not the token URL itself (a command line is visible to every local user): a private page in
    // the data directory that redirects to it.
    const opened = readFileSync(seen, 'utf8');
    assert.ok(!opened.includes(TOKEN), opened);
    const page = fileURLToPath(opened);
    assert.equal(page, join(dir, 'dashboard-open.html'));
    assert.equal(statSync(page).mode & 0o777, 0o600);
    const tokenUrl = `http://${hostPort}/#token=${encodeURIComponent(TOKEN)}`;
    assert.ok(readFileSync(page, 'utf8').includes(`<meta http-equiv="refresh" content="0;url=${tokenUrl}">`));
    const none = await cli(['dashboard', '--data-dir', dir, '--open'], { PATH: join(bin, 'empty') });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /no browser opener found/);
    assert.equal(none.stdout.trim(), `http://${hostPort}/#token=${encodeURIComponent(TOKEN)}`);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('no daemon, a wrong token, a dead address: exit 1 with a clear message', async () => {
  const empty = dataDir(undefined, undefined);
  const wrong = dataDir('not-the-token', hostPort);
  // A port that was just free: nothing listens there.
  const dead = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const gone = dataDir(TOKEN, `127.0.0.1:${dead}`);
  try {
    const a = await cli(['status', '--data-dir', empty]);
    assert.equal(a.code, 1);
    assert.match(
      a.stderr,
      /^anonnet: no running daemon found for .*: no api-token \(start one with `anonnet node`\)\n$/,
    );
    const b = await cli(['circuits', '--data-dir', wrong]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /refused the token/);
    const c = await cli(['peers', '--data-dir', gone]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /no daemon answers at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(c.stdout, '');
  } finally {
    for (const d of [empty, wrong, gone]) rmSync(d, { recursive: true, force: true });
  }
});
