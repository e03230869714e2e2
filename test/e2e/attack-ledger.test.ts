// Attacks on the ledger (hardening issue, classes 2-4) against a live 4-validator testnet, each from a
// separate attacker process (test/e2e/attackers/ledger-*.ts, a stock libp2p host speaking
// /anonnet/ledger/1.0.0), asserting what honest users see:
//   (b) lying STATUS / PROPOSAL / VOTE heights to every validator: the block rate before, during and
//       after stays near the configured interval (an unhardened network went 111x faster, for good);
//   (c) junk proposals (forged, and real ones padded to 4 MiB) and votes to one validator: nothing of
//       it reaches a listener on another honest node, and the chain keeps finalising;
//   (a) a flood of future-nonce transactions from fresh keys (the 80 x 64): none is admitted,
//       and an honest claim and transfer through `anonnet ledger` are final within a few blocks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { LedgerGuardStats } from '../../src/consensus/ledger-node.ts';
import { generateIdentity } from '../../src/crypto/identity.ts';
import { startAttacker } from './lib/attacker.ts';
import {
  CLI,
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let net: RunningTestnet;
let dir: string;
let genesis: { chainId: string; validators: string[]; params: { blockIntervalMs: number } };

before(async () => {
  dir = tempDir('anonnet-attack-ledger-');
  net = await startTestnet(['--nodes', '4', '--dir', dir, ...EPHEMERAL_PORTS]);
  genesis = JSON.parse(readFileSync(join(dir, 'genesis.json'), 'utf8'));
});

after(async () => {
  await net?.stop();
  removeDir(dir);
});

/** Node i's dialable TCP address (with /p2p/) and its process. */
function node(i: number): { pid: number; address: string; dataDir: string } {
  const child = net.ready.children[i]!;
  const listen = readStatus(child.dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, `node ${i} lists a TCP address`);
  const address = listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
  return { pid: child.pid, address, dataDir: child.dataDir };
}

/** The ledger height node 0 reports through its API (live, not the 2-second status file). */
async function height(): Promise<number> {
  const token = readFileSync(join(net.ready.children[0]!.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`${net.ready.api}/api/v1/ledger`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as { height?: string };
  return Number(body.height ?? 0);
}

/** Blocks per second committed over `ms`. */
async function blockRate(ms: number): Promise<number> {
  const h0 = await height();
  const t0 = Date.now();
  await sleep(ms);
  return ((await height()) - h0) / ((Date.now() - t0) / 1000);
}

const guardOf = (i: number): LedgerGuardStats | undefined => readStatus(node(i).dataDir)?.ledger?.guard;

test('(b) lying heights: the block interval holds before, during and after', async () => {
  await until(() => (readStatus(node(0).dataDir)?.ledger?.height ?? 0) >= 3, 60_000, 'first blocks');
  const normal = await blockRate(6000);
  assert.ok(normal > 0, 'the testnet makes blocks');
  const attacker = startAttacker('ledger-heights', {
    addresses: [0, 1, 2, 3].map((i) => node(i).address),
    chainId: genesis.chainId,
    seconds: 9,
    everyMs: 100,
  });
  await attacker.waitFor((r) => typeof r['sent'] === 'number' && (r['sent'] as number) > 0, 30_000);
  await sleep(1000);
  const during = await blockRate(6000);
  const done = await attacker.waitFor((r) => r['done'] === true, 30_000);
  const afterRate = await blockRate(6000);
  const interval = genesis.params.blockIntervalMs;
  const report = { normal, during, after: afterRate, intervalMs: interval, attacker: done };
  process.stdout.write(`# ledger heights: ${JSON.stringify(report)}\n`);
  assert.ok(during > 0, 'blocks still commit during the attack');
  // Never faster than one block per interval, and within 2x of the normal rate (small floor for noise).
  const ceiling = Math.max(2 * normal, normal + 0.5);
  assert.ok(during < ceiling, `block rate during the attack ${during} < ${ceiling}`);
  assert.ok(afterRate < ceiling, `block rate after the attack ${afterRate} < ${ceiling}`);
  assert.ok(during <= 1000 / interval + 0.2, 'at most one block per interval');
  // The lies cost each victim a few sync requests, not one per lie.
  assert.ok((done['syncRequests'] as number) < (done['sent'] as number) / 20, JSON.stringify(done));
  // The lie expires and goes with the liar: no node holds a claim anywhere near it.
  await until(
    () => [0, 1, 2, 3].every((i) => (guardOf(i)?.highestClaim ?? 2 ** 40) < 2 ** 30),
    20_000,
    'the lying claim gone',
  );
  assert.ok((guardOf(0)?.refusals['HEIGHT_CLAIM_FAILED'] ?? 0) > 0, 'unanswered claims were penalised');
  await attacker.stop();
});

test('(c) junk proposals and votes are not relayed; the network keeps finalising', async () => {
  const victim = node(1);
  const h0 = await height();
  const attacker = startAttacker('ledger-junk', {
    address: victim.address,
    listen: node(2).address,
    chainId: genesis.chainId,
    validators: genesis.validators,
    seconds: 8,
    everyMs: 400,
  });
  const done = await attacker.waitFor((r) => r['done'] === true, 60_000);
  process.stdout.write(`# ledger junk: ${JSON.stringify(done)}\n`);
  const sent = done['sent'] as { proposals: number; padded: number; votes: number };
  const junk = done['junkSeen'] as { proposals: number; votes: number };
  const honest = done['honestSeen'] as { proposals: number; votes: number };
  assert.ok(sent.proposals > 0 && sent.votes > 0, 'the attack ran');
  assert.ok(sent.padded > 0, 'real proposals were padded and sent back');
  assert.ok(honest.proposals > 0 && honest.votes > 0, 'the listener hears the network');
  assert.deepEqual(junk, { proposals: 0, votes: 0 }, 'no junk reached the other honest node');
  assert.ok((await height()) >= h0 + 3, 'blocks kept committing');
  assert.ok(isAlive(victim.pid));
  await until(
    () => (guardOf(1)?.refusals['LEDGER_BAD_CONSENSUS'] ?? 0) >= sent.proposals,
    10_000,
    'the victim refused the junk',
  );
  await attacker.stop();
});

test('(a) mempool flood from fresh keys: an honest claim and transfer are final within a few blocks', async () => {
  const attacker = startAttacker('ledger-flood', {
    address: node(1).address,
    listen: node(2).address,
    keys: 80,
    perKey: 64,
    seconds: 15,
    waveMs: 2000,
  });
  await attacker.waitFor((r) => r['wave'] === 1, 60_000);
  const cli = async (...args: string[]) => {
    const r = await run(process.execPath, [CLI, 'ledger', ...args, '--data-dir', node(0).dataDir, '--json']);
    return JSON.parse(r.stdout) as { status: string; height?: string };
  };
  const h0 = await height();
  const claimed = await cli('claim', '--wait', '--timeout', '30000');
  assert.equal(claimed.status, 'committed', JSON.stringify(claimed));
  assert.ok(Number(claimed.height) <= h0 + 5, `claim final within 5 blocks (${h0} -> ${claimed.height})`);
  const h1 = await height();
  const to = Buffer.from(generateIdentity().publicKey).toString('hex');
  const paid = await cli('transfer', '--to', to, '--amount', '10', '--wait', '--timeout', '30000');
  assert.equal(paid.status, 'committed', JSON.stringify(paid));
  assert.ok(Number(paid.height) <= h1 + 5, `transfer final within 5 blocks (${h1} -> ${paid.height})`);
  const done = await attacker.waitFor((r) => r['done'] === true, 60_000);
  const g = guardOf(1);
  process.stdout.write(`# ledger flood: ${JSON.stringify({ attacker: done, victim: g?.mempool })}\n`);
  assert.ok((done['sent'] as number) >= 80 * 64, 'the flood ran');
  assert.equal(done['relayed'], 0, 'no flooded transaction was admitted and relayed');
  // Each flooded frame was refused as unfunded, or dropped unread over the attacker's frame budget.
  const refusedOrDropped = (g?.mempool.refused['UNFUNDED'] ?? 0) + (g?.droppedFrames ?? 0);
  assert.ok(refusedOrDropped >= (done['sent'] as number) * 0.95, `refused or dropped: ${refusedOrDropped}`);
  assert.ok((g?.mempool.txs ?? 0) < 10, 'the victim mempool holds none of it');
  await attacker.stop();
});
