// `anonnet ledger propose|vote|proposals` as separate processes against a real API server in this process,
// whose ledger is a real in-memory ledger state committing a block every tick: the CLI signs with the node
// identity of the data directory (the default here), the ledger really checks that the sender is a
// validator, and a passing vote really changes the parameter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/server.ts';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { keyHex } from '../../../src/ledger/state.ts';
import { FakeSource } from '../../unit/api/fake-source.ts';
import { TOKEN } from '../../unit/api/requests.ts';
import { DataDirs, runCli } from './lib/cli-run.ts';
import { MemoryLedger } from './lib/memory-ledger.ts';

const BLOCK_MS = 150;
const v1 = generateIdentity();
const v2 = generateIdentity();
const outsider = generateIdentity(); // funded, but no validator

let app: FastifyInstance;
let ledger: MemoryLedger;
let timer: NodeJS.Timeout;
const dirs = new DataDirs();
let v1Dir: string;
let v2Dir: string;
let outsiderDir: string;
const cli = (dir: string, args: string[]) => runCli(['ledger', ...args, '-d', dir]);

interface ProposalJson {
  id: string;
  param: string;
  paramId: number;
  value: string;
  current: string;
  proposer: string;
  votes: { validator: string; yes: boolean }[];
  yes: number;
  no: number;
  needed: number;
}

async function proposals(): Promise<ProposalJson[]> {
  const r = await cli(v1Dir, ['proposals', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { proposals: ProposalJson[] }).proposals;
}

before(async () => {
  ledger = new MemoryLedger({
    chainId: 'anonnet-governance-cli-test',
    params: { powDifficulty: 0, minFee: credits(1) },
    validators: [v1.publicKey, v2.publicKey],
    accounts: [v1, v2, outsider].map((k) => ({ key: k.publicKey, balance: credits(1000) })),
  });
  timer = setInterval(() => ledger.commit(), BLOCK_MS);
  app = buildApi(new FakeSource({ ledger }), TOKEN);
  const api = new URL(await app.listen({ host: '127.0.0.1', port: 0 })).host;
  // Each node's wallet is another key: governance is signed with the node identity.
  v1Dir = dirs.make({ token: TOKEN, api, identity: v1, wallet: generateIdentity() });
  v2Dir = dirs.make({ token: TOKEN, api, identity: v2, wallet: generateIdentity() });
  outsiderDir = dirs.make({ token: TOKEN, api, identity: outsider, wallet: generateIdentity() });
});
after(async () => {
  clearInterval(timer);
  await app.close();
  dirs.removeAll();
});

test('propose, list, vote: two of two validators pass it and the parameter changes', async () => {
  const none = await cli(v1Dir, ['proposals']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, 'no open proposals\n');

  const p = await cli(v1Dir, ['propose', 'relayBond', '250', '--wait']);
  assert.equal(p.code, 0, p.stderr);
  const id = /\nproposal ([0-9a-f]{64}): relayBond = 250 /.exec(p.stdout)?.[1];
  assert.ok(id !== undefined, p.stdout);
  assert.match(p.stdout, /\ncommitted at height \d+\n$/);

  const table = await cli(v1Dir, ['proposals']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ID\s+PARAM\s+NOW\s+PROPOSED\s+YES\s+NO\s+PROPOSER\s+HEIGHT\n/);
  assert.match(table.stdout, new RegExp(`\\n${id}\\s+relayBond\\s+100\\s+250\\s+0/2\\s+0\\s+`));
  const [open] = await proposals();
  assert.deepEqual(
    { ...open, height: undefined },
    {
      id,
      param: 'relayBond',
      paramId: 8,
      value: '250',
      current: '100',
      proposer: keyHex(v1.publicKey),
      votes: [],
      yes: 0,
      no: 0,
      needed: 2,
      height: undefined,
    },
  );

  // One yes of two is not more than 2/3: still open.
  const first = await cli(v1Dir, ['vote', id, 'yes', '--wait', '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(
    (({ status, passed }) => ({ status, passed }))(JSON.parse(first.stdout) as Record<string, unknown>),
    { status: 'committed', passed: false },
  );
  assert.equal((await proposals())[0]?.yes, 1);
  const again = await cli(v1Dir, ['vote', id, 'no', '--wait']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /transaction refused: ALREADY_VOTED/);

  const second = await cli(v2Dir, ['vote', id, 'YES', '--wait']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /\nthe proposal passed: the parameter has its new value\n$/);
  assert.deepEqual(await proposals(), []);
  assert.equal(ledger.state.params.relayBond, 250n);
  const status = JSON.parse((await cli(v1Dir, ['status', '--json'])).stdout) as {
    params: Record<string, string>;
    economy: { relayBond: string };
  };
  assert.equal(status.params['relayBond'], '250');
  assert.equal(status.economy.relayBond, '250');
});

test('a node that is not a validator is refused by the ledger (exit 1, NOT_A_VALIDATOR)', async () => {
  const before = ledger.state.accounts.get(keyHex(outsider.publicKey))?.nonce;
  const p = await cli(outsiderDir, ['propose', 'creditsPerGiB', '1200', '--wait']);
  assert.equal(p.code, 1);
  assert.match(p.stderr, /^anonnet: transaction refused: NOT_A_VALIDATOR: only a validator may propose/m);
  const j = await cli(outsiderDir, ['propose', 'creditsPerGiB', '1200', '--json']);
  assert.equal(j.code, 1);
  assert.equal((JSON.parse(j.stdout) as { refusalCode: string }).refusalCode, 'NOT_A_VALIDATOR');
  // --key wallet signs with the wallet, which is no validator either.
  const w = await cli(v1Dir, ['propose', 'creditsPerGiB', '1200', '--key', 'wallet']);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /NOT_A_VALIDATOR/);
  assert.equal(ledger.state.accounts.get(keyHex(outsider.publicKey))?.nonce, before, 'nothing applied');
});

test('unknown parameters, values out of range and bad votes are usage errors: exit 2, nothing sent', async () => {
  const sent = ledger.txs.size;
  const cases: [string[], RegExp][] = [
    [['propose', 'auditSamples', '0'], /auditSamples must be in 1\.\.255, got 0/],
    [['propose', 'creditsPerGiB', '1000000001'], /creditsPerGiB must be in 0\.\.1000000000/],
    [['propose', 'validatorCount', '1.5'], /"1\.5" is not a whole number \(validatorCount: 1\.\.1024\)/],
    [['propose', 'validatorCount', '-1'], /is not a whole number/],
    [['propose', 'bondage', '5'], /unknown parameter "bondage" \(one of: startingCredits, .*relayBond/],
    [['propose', 'toString', '5'], /unknown parameter "toString"/],
    [['vote', 'ab'.repeat(32), 'maybe'], /a vote is "yes" or "no", got "maybe"/],
    [['vote', 'abcd', 'yes'], /a proposal id must be 64 hex digits/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(v1Dir, args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
  assert.equal(ledger.txs.size, sent);
});
