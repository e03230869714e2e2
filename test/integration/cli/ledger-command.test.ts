// `anonnet ledger ...` as separate processes against a real API server in this process, whose ledger is a
// real in-memory ledger state (genesisState + applyTx): a submitted transaction is really checked
// (signature, nonce, funds) and really moves credits when the test's block timer commits it. The CLI
// signs with the wallet of the data directory (wallet.key), or with the node identity (--key identity).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/server.ts';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { solvePow, verifyPow } from '../../../src/crypto/pow.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { keyHex } from '../../../src/ledger/state.ts';
import { signTx } from '../../../src/wire/ledger-tx.ts';
import { until } from '../../e2e/lib/testnet.ts';
import { FakeSource } from '../../unit/api/fake-source.ts';
import { TOKEN } from '../../unit/api/requests.ts';
import { DataDirs, type DirKeys, runCli } from './lib/cli-run.ts';
import { MemoryLedger } from './lib/memory-ledger.ts';

const POW_DIFFICULTY = 8;
const STARTING = 500n;
const BLOCK_MS = 150;

const validator = generateIdentity();
const alice = generateIdentity(); // prefunded with 1000
const carol = generateIdentity(); // nothing: claims her starting credits
const relay = generateIdentity(); // a node identity: a relay's own account (--key identity)
const bob = keyHex(generateIdentity().publicKey); // a recipient only

let app: FastifyInstance;
let ledger: MemoryLedger;
let timer: NodeJS.Timeout;
let hostPort: string;
const dirs = new DataDirs();
const dataDir = (opts: DirKeys) => dirs.make({ ...opts, powDifficulty: POW_DIFFICULTY });
const cli = (args: string[]) => runCli(['ledger', ...args]);
let aliceDir: string;
let carolDir: string;
let relayDir: string;

async function balanceOf(dir: string, account?: string): Promise<{ balance: string; nonce: string }> {
  const r = await cli(['balance', ...(account === undefined ? [] : [account]), '-d', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { balance: string; nonce: string };
}

before(async () => {
  ledger = new MemoryLedger({
    chainId: 'anonnet-cli-test',
    params: { powDifficulty: POW_DIFFICULTY, startingCredits: credits(STARTING), minFee: credits(1) },
    validators: [validator.publicKey],
    accounts: [{ key: alice.publicKey, balance: credits(1000) }],
  });
  timer = setInterval(() => ledger.commit(), BLOCK_MS);
  app = buildApi(new FakeSource({ ledger }), TOKEN);
  hostPort = new URL(await app.listen({ host: '127.0.0.1', port: 0 })).host;
  aliceDir = dataDir({ token: TOKEN, api: hostPort, wallet: alice, identity: relay });
  // Carol's wallet has no proof of work yet (made by a daemon without a ledger): claim solves it.
  carolDir = dataDir({ token: TOKEN, api: hostPort, wallet: carol });
  const relayPow = solvePow(relay.publicKey, POW_DIFFICULTY);
  assert.ok(relayPow !== undefined);
  relayDir = dataDir({
    token: TOKEN,
    api: hostPort,
    wallet: generateIdentity(),
    identity: relay,
    identityPow: relayPow,
  });
});
after(async () => {
  clearInterval(timer);
  await app.close();
  dirs.removeAll();
});

test('status: height, latest block, validators; --json has the full keys', async () => {
  const human = await cli(['status', '-d', aliceDir]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^Height\s+\d+\n/);
  assert.match(human.stdout, new RegExp(`Validators\\s+1: ${keyHex(validator.publicKey).slice(0, 8)}…`));
  assert.match(human.stdout, /\nEpoch\s+0 \(heights 1\.\.\d+\), 0 claims to settle\n/);
  assert.match(
    human.stdout,
    new RegExp(`\\nCredits\\s+pool 0  minted ${ledger.state.minted}  burned 0  bonded 0\\n`),
  );
  assert.match(human.stdout, /\nEconomy\s+1000 credits\/GiB, bond 100, /);
  const json = await cli(['status', '-d', aliceDir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout) as {
    height: string;
    validators: string[];
    economy: { minted: string };
    params: Record<string, string>;
  };
  assert.deepEqual(s.validators, [keyHex(validator.publicKey)]);
  assert.equal(s.height, String(ledger.state.height));
  assert.equal(s.economy.minted, ledger.state.minted.toString());
  assert.equal(s.params['relayBond'], '100');
});

test("balance: this node's wallet by default, its identity with --key identity, any account by hex", async () => {
  const human = await cli(['balance', '-d', aliceDir]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^Account  ${keyHex(alice.publicKey)} \\(this node's wallet\\)\n`));
  const id = await cli(['balance', '--key', 'identity', '-d', aliceDir]);
  assert.equal(id.code, 0, id.stderr);
  assert.match(id.stdout, new RegExp(`^Account  ${keyHex(relay.publicKey)} \\(this node's identity\\)\n`));
  const badKey = await cli(['balance', '--key', 'other', '-d', aliceDir]);
  assert.equal(badKey.code, 2);
  assert.match(human.stdout, /\nBalance {2}1000 credits\nNonce {4}0\n$/);
  assert.deepEqual(await balanceOf(aliceDir, keyHex(alice.publicKey).toUpperCase()), {
    account: keyHex(alice.publicKey),
    balance: '1000',
    nonce: '0',
  });
  const nobody = await cli(['balance', bob, '-d', aliceDir]);
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.match(nobody.stdout, /Balance {2}0 credits \(not on the ledger yet\)/);
  const bad = await cli(['balance', 'xyz', '-d', aliceDir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /must be 64 hex digits/);
});

test('transfer --wait: committed, and the credits really moved (amount to bob, fee burned)', async () => {
  const r = await cli(['transfer', '--to', bob, '--amount', '250', '--wait', '-d', aliceDir]);
  assert.equal(r.code, 0, r.stderr);
  const [first, second] = r.stdout.split('\n');
  const id = /^tx ([0-9a-f]{64}) \(nonce 1, fee 1\)$/.exec(first ?? '')?.[1];
  assert.ok(id !== undefined, r.stdout);
  assert.match(second ?? '', /^committed at height \d+$/);
  assert.deepEqual(await balanceOf(aliceDir), {
    account: keyHex(alice.publicKey),
    balance: '749',
    nonce: '1',
  });
  assert.equal((await balanceOf(aliceDir, bob)).balance, '250');

  const tx = await cli(['tx', id, '-d', aliceDir]);
  assert.equal(tx.code, 0, tx.stderr);
  assert.match(tx.stdout, new RegExp(`^Tx      ${id}\nStatus  committed at height \\d+\n$`));
  const txJson = JSON.parse((await cli(['tx', id, '-d', aliceDir, '--json'])).stdout) as { status: string };
  assert.equal(txJson.status, 'committed');

  // The next transfer takes the next nonce by itself; --json for scripts, without --wait: pending.
  const j = await cli(['transfer', '--to', bob, '--amount', '9', '--fee', '2', '--json', '-d', aliceDir]);
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { txId: string; status: string };
  assert.equal(out.status, 'pending');
  const waited = JSON.parse(
    (
      await cli([
        'transfer',
        '--to',
        bob,
        '--amount',
        '1',
        '--nonce',
        '3',
        '--wait',
        '--json',
        '-d',
        aliceDir,
      ])
    ).stdout,
  ) as { status: string; height: string };
  assert.equal(waited.status, 'committed');
  assert.deepEqual(await balanceOf(aliceDir), {
    account: keyHex(alice.publicKey),
    balance: '736',
    nonce: '3',
  });
  assert.equal(ledger.transaction(Buffer.from(out.txId, 'hex')).status, 'committed');
});

test('transfer refused (insufficient funds): exit 1 with the code, nothing moves', async () => {
  const before = await balanceOf(aliceDir);
  const r = await cli(['transfer', '--to', bob, '--amount', '5000', '-d', aliceDir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^anonnet: transaction refused: INSUFFICIENT_FUNDS: /m);
  const j = await cli(['transfer', '--to', bob, '--amount', '5000', '--json', '-d', aliceDir]);
  assert.equal(j.code, 1);
  assert.equal((JSON.parse(j.stdout) as { refusalCode: string }).refusalCode, 'INSUFFICIENT_FUNDS');
  // Refused by the block rather than on entry: --wait reports the block's code.
  ledger.checkOnSubmit = false;
  try {
    const w = await cli(['transfer', '--to', bob, '--amount', '5000', '--wait', '-d', aliceDir]);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /transaction refused: INSUFFICIENT_FUNDS/);
  } finally {
    ledger.checkOnSubmit = true;
  }
  assert.deepEqual(await balanceOf(aliceDir), before);
});

test('bad amounts, accounts and options are usage errors: exit 2, nothing submitted', async () => {
  const submitted = ledger.txs.size;
  for (const amount of ['1.5', '-3', '0', '1e3', '0x10', ' ', '18446744073709551616']) {
    const r = await cli(['transfer', '--to', bob, '--amount', amount, '-d', aliceDir]);
    assert.equal(r.code, 2, `amount ${JSON.stringify(amount)}: ${r.stderr}`);
    assert.match(r.stderr, /--amount <credits>/);
    assert.equal(r.stdout, '');
  }
  const fee = await cli(['transfer', '--to', bob, '--amount', '1', '--fee', '0.5', '-d', aliceDir]);
  assert.equal(fee.code, 2);
  const to = await cli(['transfer', '--to', 'abcd', '--amount', '1', '-d', aliceDir]);
  assert.equal(to.code, 2);
  assert.match(to.stderr, /an account must be 64 hex digits/);
  const self = await cli(['transfer', '--to', keyHex(alice.publicKey), '--amount', '1', '-d', aliceDir]);
  assert.equal(self.code, 2);
  assert.match(self.stderr, /the sending account itself/);
  const missing = await cli(['transfer', '--to', bob, '-d', aliceDir]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--amount <credits>'/);
  const txid = await cli(['tx', 'nothex', '-d', aliceDir]);
  assert.equal(txid.code, 2);
  assert.equal(ledger.txs.size, submitted);
});

test("claim: the wallet's one-time starting credits, its proof of work solved and kept; a second claim is refused", async () => {
  const r = await cli(['claim', '--wait', '-d', carolDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /committed at height \d+/);
  assert.deepEqual(await balanceOf(carolDir), {
    account: keyHex(carol.publicKey),
    balance: String(STARTING - 1n),
    nonce: '1',
  });
  const stored = JSON.parse(readFileSync(join(carolDir, 'wallet.key'), 'utf8')) as Record<string, unknown>;
  assert.equal(stored['powDifficulty'], POW_DIFFICULTY, 'the solved work is saved with the wallet');
  assert.ok(verifyPow(carol.publicKey, BigInt(stored['powNonce'] as string), POW_DIFFICULTY));
  const again = await cli(['claim', '-d', carolDir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /GENESIS_ALREADY_CLAIMED/);
});

test("claim --key identity: the node identity's account claims with the identity's proof of work", async () => {
  const r = await cli(['claim', '--key', 'identity', '--wait', '-d', relayDir]);
  assert.equal(r.code, 0, r.stderr);
  const b = await cli(['balance', '--key', 'identity', '-d', relayDir, '--json']);
  assert.equal((JSON.parse(b.stdout) as { balance: string }).balance, String(STARTING - 1n));
  const wallet = await balanceOf(relayDir);
  assert.equal(wallet.balance, '0', 'the wallet is another account');
});

test('relays: the registrations on the ledger, as a table and as JSON', async () => {
  const empty = await cli(['relays', '-d', aliceDir, '--json']);
  assert.deepEqual(JSON.parse(empty.stdout), { relays: [] });
  // The relay registers as its daemon would (economy/registration.ts), here by hand.
  const nonce = (ledger.balance(relay.publicKey)?.nonce ?? 0n) + 1n;
  const reg = signTx(
    {
      kind: 'REGISTER_RELAY',
      sender: relay.publicKey,
      nonce,
      fee: 1n,
      roles: 3,
      bandwidth: 123456,
      onionKeyHash: new Uint8Array(32),
      payout: carol.publicKey,
      exitPolicySummary: new TextEncoder().encode('reject 25'),
    },
    (m) => relay.sign(m),
  );
  await ledger.submit(reg.bytes);
  await until(() => ledger.state.relays.size === 1, 5_000, 'the registration to commit');
  const r = await cli(['relays', '-d', aliceDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^ACCOUNT\s+ROLES\s+CLAIMED\s+MEASURED\s+REP\s+BOND\s+EARNED\s+LAST SETTLED\s+EXITS\s+PAYOUT\s+HEIGHT\n/,
  );
  assert.match(
    r.stdout,
    new RegExp(
      `\\n${keyHex(relay.publicKey).slice(0, 8)}\\S*\\s+relay,exit\\s+120\\.6 KiB/s\\s+-\\s+0\\s+100\\s+0\\s+-\\s+reject 25\\s+${keyHex(carol.publicKey).slice(0, 8)}\\S*\\s+\\d+\\n`,
    ),
  );
  assert.match(r.stdout, /\n1 relays registered\n$/);
  const j = JSON.parse((await cli(['relays', '-d', aliceDir, '--json'])).stdout) as {
    relays: Record<string, unknown>[];
  };
  assert.deepEqual(j.relays, [
    {
      account: keyHex(relay.publicKey),
      roles: ['relay', 'exit'],
      bandwidth: 123456,
      exitPolicySummary: 'reject 25',
      height: j.relays[0]?.['height'],
      payout: keyHex(carol.publicKey),
      bond: '100',
      measuredBandwidth: '0',
      measuredLatencyMs: 0,
      measuredEpoch: 0,
      measured: false,
      reputation: '0',
      earned: '0',
      uptimeEpochs: '0',
      penalties: '0',
      relayedBytes: '0',
    },
  ]);
});

test('no daemon, no identity, a dead address: exit 1 with a clear message', async () => {
  const empty = dataDir({});
  for (const args of [['status'], ['balance'], ['transfer', '--to', bob, '--amount', '1'], ['tx', bob]]) {
    const r = await cli([...args, '-d', empty]);
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /^anonnet: no running daemon found for .*: no api-token/);
  }
  const noKeys = dataDir({ token: TOKEN, api: hostPort });
  const n = await cli(['balance', '-d', noKeys]);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /no usable wallet in .*the daemon creates it on its first start/);
  const i = await cli(['balance', '--key', 'identity', '-d', noKeys]);
  assert.equal(i.code, 1);
  assert.match(i.stderr, /no usable identity in .*the daemon creates it on its first start/);
  const dead = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const gone = dataDir({ token: TOKEN, api: `127.0.0.1:${dead}`, wallet: alice });
  const g = await cli(['transfer', '--to', bob, '--amount', '1', '-d', gone]);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /no daemon answers at http:\/\/127\.0\.0\.1:\d+/);
});

test('--wait gives up after --timeout: exit 1, the id printed so it can be looked up later', async () => {
  ledger.paused = true;
  try {
    const r = await cli([
      'transfer',
      '--to',
      bob,
      '--amount',
      '1',
      '--wait',
      '--timeout',
      '400',
      '-d',
      aliceDir,
    ]);
    assert.equal(r.code, 1);
    const id = /^tx ([0-9a-f]{64})/.exec(r.stdout)?.[1];
    assert.ok(id !== undefined, r.stdout);
    assert.match(r.stderr, new RegExp(`transaction ${id} still pending after 400 ms`));
  } finally {
    ledger.paused = false;
  }
});
