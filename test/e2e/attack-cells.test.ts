// Hostile cells against a live testnet (hardening issue, class 1): a separate attacker process opens
// circuit channels to a relay and writes every link command with circuit id 0, then random cells. The
// relay process survives, closes the hostile channels, and curl through the client's SOCKS proxy keeps
// fetching the page before, during and after the attack.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startAttacker } from './lib/attacker.ts';
import { type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
import {
  EPHEMERAL_PORTS,
  isAlive,
  type RunningTestnet,
  readStatus,
  removeDir,
  startTestnet,
  tempDir,
} from './lib/testnet.ts';

const run = promisify(execFile);
let net: RunningTestnet;
let web: Fixture;
let dir: string;

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-attack-cells-');
  net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
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

/** A relay of the testnet (not node 0, which serves the proxies) and an address to dial it on. */
function victim(): { pid: number; address: string } {
  const child = net.ready.children[1]!;
  const status = readStatus(child.dataDir);
  const listen = status?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, 'the victim lists a TCP address');
  const address = listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
  return { pid: child.pid, address };
}

test('cells with circuit id 0 and random cells close the attacker channels; the relay keeps serving', async () => {
  assert.equal(await fetchPage(), PAGE);
  const { pid, address } = victim();
  for (const mode of ['zero-id', 'random']) {
    const channels = mode === 'zero-id' ? 20 : 5;
    const attacker = startAttacker('raw-cells', { address, mode, channels });
    const during = fetchPage();
    const done = await attacker.waitFor((r) => typeof r['cells'] === 'number');
    assert.equal(await during, PAGE, `a fetch during the ${mode} attack succeeds`);
    assert.equal(done['channels'], channels);
    assert.ok(isAlive(pid), `the relay survived the ${mode} attack`);
    if (mode === 'zero-id')
      assert.equal(done['closedByVictim'], channels, 'every hostile channel was closed');
    await attacker.stop();
  }
  assert.equal(await fetchPage(), PAGE);
  assert.ok(isAlive(pid));
});
