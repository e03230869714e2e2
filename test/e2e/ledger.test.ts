// The ledger on real processes: 4 validators and a follower on loopback, each an `anonnet node` with
// its own block store. Transfers submitted through the follower's API become final; with one validator
// killed the rest keep finalising; with two of four down nothing commits (and nothing forks); with three
// back progress resumes and the restarted validators catch up; a node started last syncs the chain. At the end every node's block store on
// disk holds the same block at every height.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LEDGER_FILES } from '../../src/consensus/start-ledger.ts';
import { openBlockStore } from '../../src/consensus/store/block-store.ts';
import { generateIdentity, type Identity } from '../../src/crypto/identity.ts';
import { writeFileAtomic } from '../../src/daemon/atomic-file.ts';
import { files, prepareDataDir } from '../../src/daemon/data-dir.ts';
import { loadOrCreateIdentity } from '../../src/daemon/identity-file.ts';
import { credits } from '../../src/ledger/credits.ts';
import { encodeGenesis } from '../../src/ledger/genesis.ts';
import { signTx } from '../../src/wire/ledger-tx.ts';
import { type Daemon, startDaemon, statusOf } from './lib/daemon.ts';
import { readStatus, removeDir, tempDir, until } from './lib/testnet.ts';

const root = tempDir('anonnet-ledger-');
const running = new Set<Daemon>();
after(async () => {
  await Promise.all([...running].map((d) => d.stop()));
  removeDir(root);
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dirOf = (name: string) => join(root, name);
const height = (d: Daemon) => readStatus(d.dataDir)?.ledger?.height ?? 0;

test('4 validators and a follower: finality, one down, two down, recovery, no fork', async () => {
  const names = ['v0', 'v1', 'v2', 'v3'];
  const keys: Uint8Array[] = [];
  for (const name of names) {
    prepareDataDir(dirOf(name));
    keys.push((await loadOrCreateIdentity(join(dirOf(name), files.identity), 4)).identity.publicKey);
  }
  const payer: Identity = generateIdentity();
  const payee = generateIdentity().publicKey;
  const genesisPath = join(root, 'genesis.json');
  writeFileAtomic(
    genesisPath,
    encodeGenesis({
      chainId: 'ledger-e2e',
      params: { blockIntervalMs: 300, validatorCount: 4, powDifficulty: 4, epochLength: 1000 },
      validators: keys,
      accounts: [{ key: payer.publicKey, balance: credits(1000) }],
    }),
    0o644,
  );
  const ledgerArgs = ['--genesis', genesisPath, '--timeout-propose', '800'];
  const start = (name: string, extra: string[] = [], api = false) => {
    const d = startDaemon(dirOf(name), [...ledgerArgs, ...extra], { api });
    running.add(d);
    return d;
  };
  const v0 = start('v0');
  const seed = (await statusOf(v0, (s) => s.listen.length > 0, 30_000, 'v0 listening')).listen.find((a) =>
    a.includes('/tcp/'),
  )!;
  const boot = ['--bootstrap', seed];
  const v = [v0, start('v1', boot), start('v2', boot), start('v3', boot)];
  const follower = start('f', boot, true);
  const fs = await statusOf(
    follower,
    (s) => s.api !== undefined && (s.ledger?.height ?? 0) >= 3,
    60_000,
    'blocks',
  );
  assert.equal(fs.ledger?.validator, false, 'the follower is not a validator');
  const api = fs.api!;
  const token = readFileSync(join(follower.dataDir, 'api-token'), 'utf8').trim();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  let nonce = 0n;
  const transfer = async (amount: bigint) => {
    nonce += 1n;
    const signed = signTx(
      { kind: 'TRANSFER', sender: payer.publicKey, nonce, fee: 1n, to: payee, amount },
      (m) => payer.sign(m),
    );
    const sub = await call('POST', '/api/v1/ledger/transactions', { tx: hex(signed.bytes) });
    assert.equal(sub.status, 202, JSON.stringify(sub.json));
    const id = String(sub.json['txId']);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const final = (await call('GET', `/api/v1/ledger/transactions/${id}`)).json;
      if (final['status'] === 'committed') return Number(final['height']);
      assert.ok(Date.now() < deadline, `transfer ${nonce} not final: ${JSON.stringify(final)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const balance = async (key: Uint8Array) =>
    String((await call('GET', `/api/v1/ledger/accounts/${hex(key)}`)).json['balance']);

  // 1. All four up: a transfer becomes final; a refused one is refused with the ledger's reason.
  await transfer(10n);
  assert.equal(await balance(payee), '10');
  const tooMuch = signTx(
    { kind: 'TRANSFER', sender: payer.publicKey, nonce: nonce + 1n, fee: 1n, to: payee, amount: 5000n },
    (m) => payer.sign(m),
  );
  const refused = await call('POST', '/api/v1/ledger/transactions', { tx: hex(tooMuch.bytes) });
  assert.equal(refused.status, 422);

  // 2. One validator killed: the other three keep finalising.
  await v[2]!.stop('SIGKILL');
  const h1 = height(follower);
  await transfer(20n);
  await until(() => height(follower) >= h1 + 5, 30_000, 'progress with 3 of 4');
  assert.equal(await balance(payee), '30');

  // 3. Two of four down: nothing commits.
  await v[3]!.stop('SIGKILL');
  await new Promise((r) => setTimeout(r, 2_000)); // a commit in flight may still land
  const stalled = Math.max(...[v[0]!, v[1]!, follower].map(height));
  await new Promise((r) => setTimeout(r, 5_000));
  assert.equal(Math.max(...[v[0]!, v[1]!, follower].map(height)), stalled, 'no block without a quorum');

  // 4. Back to three: progress resumes, and the restarted validator catches up.
  v[3] = start('v3', boot);
  await until(() => height(follower) >= stalled + 3, 60_000, 'progress after a validator returned');
  await transfer(5n);
  v[2] = start('v2', boot);
  await until(() => height(v[2]!) >= height(follower) - 1 && height(v[2]!) > stalled, 60_000, 'v2 caught up');
  assert.equal(await balance(payee), '35');

  // 5. A node that joins now syncs the whole chain from its peers, verifying every commit.
  const late = start('late', boot);
  await until(
    () => height(late) >= height(follower) - 1 && height(late) > stalled,
    60_000,
    'late node synced',
  );

  // 6. Every node's store holds the same chain (no fork, nothing reverted).
  const all = [...v, follower, late];
  await Promise.all(all.map((d) => d.stop()));
  const stores = all.map((d) => openBlockStore(join(d.dataDir, LEDGER_FILES.store)));
  try {
    const tips = stores.map((s) => s.tip()?.height ?? 0);
    const common = Math.min(...tips);
    assert.ok(common > stalled, `every node past the stall (tips ${tips.join(',')})`);
    for (let h = 1; h <= common; h++) {
      const first = hex(stores[0]!.block(h)!);
      for (const s of stores.slice(1)) assert.equal(hex(s.block(h)!), first, `same block at height ${h}`);
    }
  } finally {
    for (const s of stores) s.close();
  }
});
