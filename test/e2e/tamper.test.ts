// A relay process that flips one bit in a relayed cell, on a real 4-process testnet (client + three
// relays: every 3-hop circuit runs through all of them). The fault is the test-only
// ANONNET_TEST_TAMPER_FILE injection (src/circuit/fault-injection.ts): once the trigger file exists,
// the first relay to pass a cell back towards the client claims it and flips one bit of that cell.
// The client must tear that circuit down (the stream fails promptly, the API no longer shows the
// circuit open), and the next request must succeed on another circuit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { TAMPER_ENV } from '../../src/circuit/fault-injection.ts';
import { type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
import {
  EPHEMERAL_PORTS,
  isAlive,
  type RunningTestnet,
  removeDir,
  startTestnet,
  tempDir,
} from './lib/testnet.ts';

const run = promisify(execFile);
let net: RunningTestnet;
let web: Fixture;
let dir: string;
let triggerDir: string;
let trigger: string;

async function curl(args: string[], timeoutS = 60): Promise<{ stdout: Buffer; code: number }> {
  try {
    const r = await run('curl', ['-sS', '--max-time', String(timeoutS), ...args], { encoding: 'buffer' });
    return { stdout: r.stdout, code: 0 };
  } catch (err) {
    const e = err as { code?: number; stdout?: Buffer };
    return { stdout: e.stdout ?? Buffer.alloc(0), code: typeof e.code === 'number' ? e.code : -1 };
  }
}

interface Circuits {
  circuits: Array<{ id: string; state: string; hops: string[]; streams: number }>;
}

async function circuits(): Promise<Circuits['circuits']> {
  const res = await fetch(`${net.ready.api}/api/v1/circuits`, {
    headers: { authorization: `Bearer ${(net.ready as unknown as { token: string }).token}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as Circuits).circuits;
}

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-tamper-');
  triggerDir = tempDir('anonnet-tamper-trigger-');
  trigger = join(triggerDir, 'flip');
  // Every node of the testnet inherits the variable; only one relay will claim the trigger.
  process.env[TAMPER_ENV] = trigger;
  try {
    net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
  } finally {
    delete process.env[TAMPER_ENV];
  }
});

after(async () => {
  await net?.stop();
  await web?.close();
  removeDir(dir);
  removeDir(triggerDir);
});

test('a flipped bit in a relayed cell tears the circuit down; the next request succeeds', async () => {
  // Nothing is armed yet: a request works.
  const before = await curl(['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/`]);
  assert.equal(before.code, 0);
  assert.equal(before.stdout.toString(), PAGE);

  const transfer = curl(['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/slow`], 60);
  let carrying: string | undefined;
  for (let i = 0; i < 40 && carrying === undefined; i++) {
    await new Promise((r) => setTimeout(r, 250));
    carrying = (await circuits()).find((c) => c.state === 'open' && c.streams > 0)?.id;
  }
  assert.ok(carrying, 'found the circuit carrying the transfer');

  writeFileSync(trigger, 'flip one cell\n');
  const armedAt = Date.now();
  const r = await transfer;
  assert.notEqual(r.code, 0, 'the stream failed');
  const failMs = Date.now() - armedAt;
  assert.ok(failMs < 20_000, 'and failed promptly, not at the timeout');

  // Exactly one relay (not the client) claimed the trigger, and it is still running.
  const claims = readdirSync(triggerDir).filter((f) => f.startsWith('flip.'));
  assert.equal(claims.length, 1, `claims: ${claims.join(', ')}`);
  assert.ok(!existsSync(trigger));
  const claimer = Number(claims[0]!.slice('flip.'.length));
  const relay = net.ready.children.find((c) => c.pid === claimer);
  assert.ok(relay !== undefined && relay.index !== 0, 'a relay process flipped the cell');
  assert.ok(isAlive(claimer));

  // The client tore that circuit down: the API shows it gone (or closed), never open.
  for (let i = 0; i < 20; i++) {
    const c = (await circuits()).find((x) => x.id === carrying);
    if (c === undefined || c.state !== 'open') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  const after = (await circuits()).find((x) => x.id === carrying);
  assert.ok(after === undefined || after.state !== 'open', `circuit still ${after?.state}`);

  // The next request succeeds, on a circuit that is not the torn-down one.
  const next = await curl(['--socks5-hostname', net.ready.socks, `http://127.0.0.1:${web.port}/`]);
  assert.equal(next.code, 0);
  assert.equal(next.stdout.toString(), PAGE);
  assert.ok((await circuits()).some((c) => c.state === 'open' && c.id !== carrying));
});
