// Roles on a live testnet (docs/economy.md, "Roles and keys"): node 0 is a client only. It publishes
// nothing about itself (no relay's view holds it, it serves no descriptor and no DHT), accepts no
// circuit, and still builds circuits through the relays. The relays register themselves on the ledger
// with their wallets as payout accounts; the client's node identity never appears on the ledger, and its
// own daemon refuses to send a transaction that identity signed, while its wallet claims its grant.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { CIRCUIT_PROTOCOL } from '../../src/circuit/protocol.ts';
import { DESCRIPTOR_PROTOCOL } from '../../src/directory/descriptor-protocol.ts';
import { identityKeyOfPeerId } from '../../src/directory/dht-records.ts';
import { DHT_PROTOCOL } from '../../src/p2p/options.ts';
import { startAttacker } from './lib/attacker.ts';
import { type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
import {
  CLI,
  EPHEMERAL_PORTS,
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

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-roles-');
  net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
});

after(async () => {
  await net?.stop();
  await web?.close();
  removeDir(dir);
});

const node = (i: number) => net.ready.children[i]!;
const relays = () => [1, 2, 3].map(node);
const hex = (peerId: string) => Buffer.from(identityKeyOfPeerId(peerId) ?? []).toString('hex');

function addressOf(i: number): string {
  const listen = readStatus(node(i).dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, `node ${i} lists a TCP address`);
  return listen.includes('/p2p/') ? listen : `${listen}/p2p/${node(i).peerId}`;
}

async function ledgerCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'ledger', ...args, '-d', node(0).dataDir], {
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('node 0 is a client only: no roles, nothing published, in no relay view; it knows every relay', async () => {
  // status.json is rewritten every 2 s: the one read first may predate the ready line.
  await until(() => readStatus(node(0).dataDir)?.relaysKnown === 3, 30_000, 'the client knows the relays');
  const client = readStatus(node(0).dataDir);
  assert.deepEqual(client?.roles, []);
  assert.equal(client?.descriptorsPublished, 0);
  assert.equal(client?.registration, undefined, 'a client registers nothing');
  assert.match(client?.wallet ?? '', /^[0-9a-f]{64}$/, 'its wallet shows in its own status');
  assert.deepEqual(
    [...(client?.relays ?? [])].sort(),
    relays()
      .map((c) => c.peerId)
      .sort(),
  );
  for (const r of relays()) {
    // Views are refreshed continuously: look for a while, never see the client.
    await until(() => readStatus(r.dataDir)?.relaysKnown === 3, 30_000, `node ${r.index} knows the relays`);
    const s = readStatus(r.dataDir);
    assert.equal(
      s?.relays.includes(node(0).peerId),
      false,
      `node ${r.index}'s view holds no record of the client`,
    );
    assert.ok((s?.descriptorsPublished ?? 0) > 0, `node ${r.index} publishes its descriptor`);
  }
});

test('node 0 accepts no circuit, serves no descriptor and no DHT; a relay does all three', async () => {
  const client = startAttacker('role-probe', { address: addressOf(0) });
  const c = await client.waitFor((r) => Array.isArray(r['announced']), 60_000);
  await client.stop();
  const relay = startAttacker('role-probe', { address: addressOf(1) });
  const r = await relay.waitFor((x) => Array.isArray(x['announced']), 60_000);
  await relay.stop();

  for (const what of ['circuit', 'descriptor', 'dht'])
    assert.match(String(c[what]), /^refused/, `the client refuses ${what}: ${String(c[what])}`);
  const announced = c['announced'] as string[];
  assert.ok(announced.length > 0, 'identify answered');
  for (const p of [CIRCUIT_PROTOCOL, DESCRIPTOR_PROTOCOL, DHT_PROTOCOL])
    assert.equal(announced.includes(p), false, `the client does not announce ${p}`);

  assert.deepEqual([r['circuit'], r['descriptor'], r['dht']], ['ok', 'ok', 'ok'], JSON.stringify(r));
  for (const p of [CIRCUIT_PROTOCOL, DESCRIPTOR_PROTOCOL, DHT_PROTOCOL])
    assert.ok((r['announced'] as string[]).includes(p), `a relay announces ${p}`);

  // And the client still builds circuits through the relays it found.
  const page = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    `http://127.0.0.1:${web.port}/`,
  ]);
  assert.equal(page.stdout, PAGE);
});

test('the relays register themselves on the ledger, paid to their wallets; the client identity never', async () => {
  const want = relays()
    .map((c) => hex(c.peerId))
    .sort();
  type Row = { account: string; roles: string[]; payout: string; bond: string };
  let rows: Row[] = [];
  await until(
    () => relays().every((c) => readStatus(c.dataDir)?.registration?.state === 'registered'),
    90_000,
    'every relay registered',
  );
  const listed = await ledgerCli(['relays', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  rows = (JSON.parse(listed.stdout) as { relays: Row[] }).relays;
  assert.deepEqual(rows.map((x) => x.account).sort(), want, 'exactly the relays, not the client');
  for (const c of relays()) {
    const row = rows.find((x) => x.account === hex(c.peerId));
    const s = readStatus(c.dataDir);
    assert.equal(row?.payout, s?.wallet, `node ${c.index} is paid to its wallet`);
    assert.ok(BigInt(row?.bond ?? '0') > 0n, 'a bond is locked');
    assert.ok(row?.roles.includes('validator'), 'nodes 1..3 are the genesis validators');
    assert.equal(row?.roles.includes('exit'), c.index % 2 === 1);
  }

  // The client's node identity has no account, and its daemon will not send one for it.
  const idBalance = await ledgerCli(['balance', '--key', 'identity', '--json']);
  assert.equal(idBalance.code, 0, idBalance.stderr);
  assert.deepEqual(JSON.parse(idBalance.stdout), { account: hex(node(0).peerId), balance: '0', nonce: '0' });
  const refused = await ledgerCli(['claim', '--key', 'identity']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /CLIENT_IDENTITY/);

  // Its wallet is a separate account that claims its start grant like anyone.
  const claim = await ledgerCli(['claim', '--wait', '--timeout', '60000']);
  assert.equal(claim.code, 0, claim.stderr);
  const wallet = JSON.parse((await ledgerCli(['balance', '--json'])).stdout) as {
    account: string;
    balance: string;
  };
  assert.equal(wallet.account, readStatus(node(0).dataDir)?.wallet);
  assert.ok(BigInt(wallet.balance) > 0n);
});
