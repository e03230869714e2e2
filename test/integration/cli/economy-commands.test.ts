// `anonnet relay` and `anonnet wallet` as separate processes against a real API server in this process.
// The ledger behind it holds a real chain (test/unit/api/economy-history.ts): three relays paying to one
// account, one paid, one penalised, one new, a measurement, an open claim with a failed audit. The node's
// own status (identity, roles, registration, economy counters) is set by the test, mapped by the daemon's
// own economyOf.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { NodeEconomySchema } from '../../../src/api/gen/anonnet/v1/node_pb.js';
import { buildApi } from '../../../src/api/server.ts';
import type { EconomyStatus } from '../../../src/economy/economy-subsystem.ts';
import { keyHex, type LedgerState } from '../../../src/ledger/state.ts';
import { economyOf } from '../../../src/node/api-source.ts';
import { history, payout, relayA, relayB, relayC, vs } from '../../unit/api/economy-history.ts';
import { FakeSource } from '../../unit/api/fake-source.ts';
import { TOKEN } from '../../unit/api/requests.ts';
import { DataDirs, runCli } from './lib/cli-run.ts';
import { MemoryLedger } from './lib/memory-ledger.ts';

const A = keyHex(relayA.publicKey);
const PAYOUT = keyHex(payout.publicKey);

/** What a relay's economy subsystem reports (src/economy/economy-subsystem.ts EconomyStatus). */
const counters: EconomyStatus = {
  epoch: 2,
  receipts: {
    accepted: 1234,
    refused: { MALFORMED: 0, BAD_SIGNATURE: 2, NOT_OURS: 0, WRONG_EPOCH: 1, STALE: 0, FULL: 0 },
    cellsThisEpoch: '5000',
  },
  claims: {
    claimsSubmitted: 2,
    claimsRefused: 0,
    auditsAnswered: 96,
    auditsRefused: 1,
    last: { epoch: 1, cells: '1000', leaves: 2, outcome: 'committed' },
  },
  audits: { audited: 4, passed: 3, failed: 1, unanswered: 0 },
  measurements: { measured: 8, unreachable: 1, reported: 9 },
};

let app: FastifyInstance;
let source: FakeSource;
let now: LedgerState;
let dir: string;
const dirs = new DataDirs();
const cli = (args: string[]) => runCli([...args, '-d', dir]);

before(async () => {
  now = history().now;
  const ledger = new MemoryLedger({ state: now, validators: vs.map((v) => v.publicKey) });
  source = new FakeSource({ ledger });
  app = buildApi(source, TOKEN);
  const hostPort = new URL(await app.listen({ host: '127.0.0.1', port: 0 })).host;
  dir = dirs.make({ token: TOKEN, api: hostPort });
});
after(async () => {
  await app.close();
  dirs.removeAll();
});

describe('anonnet relay', () => {
  before(() => {
    source.statusExtra = {
      identityKey: A,
      roles: ['relay', 'exit'],
      wallet: PAYOUT,
      registration: 'registered',
      registrationDetail: {
        $typeName: 'anonnet.v1.RegistrationDetail',
        failures: 1,
        lastFailure: 'INSUFFICIENT_FUNDS',
        registeredAt: 2n,
        payoutIsWallet: true,
      },
      economy: create(NodeEconomySchema, economyOf(counters)),
    };
  });

  test('a registered relay: ledger registration, measurement, reputation, earnings, claims, counters', async () => {
    const r = await cli(['relay']);
    assert.equal(r.code, 0, r.stderr);
    const reg = now.relays.get(A);
    const settled = now.economy.settlements.get(A);
    assert.ok(reg !== undefined && settled !== undefined);
    const expected = [
      `Relay         ${A}  (roles relay, exit)`,
      'Registration  registered, at height 2; 1 failed steps, last: INSUFFICIENT_FUNDS',
      'Bond          100 credits',
      `Payout        ${PAYOUT} (this node's wallet)`,
      'Bandwidth     claimed 1.9 MiB/s, measured 5.7 MiB/s, 31 ms (epoch 1)',
      // 40,000 cells × 2048 bytes proven; one live epoch (measured).
      /^Reputation {4}\d+ of 728; 1 live epochs, 0 penalties, 78\.1 MiB relayed \(proven\)$/,
      `Earned        ${reg.earned} credits in all`,
      `Last settled  epoch 0: paid ${settled.paid} of ${settled.due} credits due for 40000 of 40000 cells claimed, quality ${settled.quality}‰`,
      'Open claim    epoch 1: 1000 cells in 2 receipts, 1 failed audits so far',
      'This node (since it started, epoch 2):',
      '  receipts      1234 kept, 3 refused; 5000 cells confirmed this epoch',
      '  claims        2 sent, 0 refused; 96 audit requests answered, 1 refused; last: epoch 1, 1000 cells, committed',
      '  audits        4 claims audited: 3 passed, 1 failed, 0 unanswered',
      '  measurements  8 relays measured, 1 unreachable, 9 reported',
    ];
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected.length, r.stdout);
    for (const [i, want] of expected.entries()) {
      if (typeof want === 'string') assert.equal(lines[i], want);
      else assert.match(lines[i] ?? '', want);
    }
    assert.ok(reg.earned > 0n);
  });

  test('--json: the ledger registration as the API has it, the registration detail, the counters', async () => {
    const r = await cli(['relay', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, Record<string, unknown> | unknown>;
    assert.equal(j['account'], A);
    assert.equal(j['relay'], true);
    assert.equal(j['epoch'], 2);
    assert.equal(j['registration'], 'registered');
    assert.deepEqual(j['registrationDetail'], {
      failures: 1,
      lastFailure: 'INSUFFICIENT_FUNDS',
      registeredAt: '2',
      payoutIsWallet: true,
    });
    const onLedger = j['onLedger'] as Record<string, unknown>;
    assert.equal(onLedger['measuredBandwidth'], '6000000');
    assert.equal(onLedger['earned'], now.relays.get(A)?.earned.toString());
    assert.deepEqual(onLedger['openClaim'], { epoch: 1, cells: '1000', leaves: 2, failVotes: 1 });
    assert.equal((onLedger['lastSettlement'] as Record<string, unknown>)['penalised'], false);
    const node = j['node'] as Record<string, Record<string, unknown>>;
    assert.equal(node['receipts']?.['accepted'], 1234);
    assert.equal(node['receipts']?.['cellsThisEpoch'], '5000');
    assert.deepEqual(node['claims']?.['last'], { epoch: 1, cells: '1000', leaves: 2, outcome: 'committed' });
    assert.deepEqual(node['measurements'], { measured: 8, unreachable: 1, reported: 9 });
  });

  test('a relay not registered yet, and a client-only node', async () => {
    const hex = keyHex(vs[0]!.publicKey); // on the ledger, but not as a relay
    source.statusExtra = { ...source.statusExtra, identityKey: hex, registration: 'claiming' };
    const waiting = await cli(['relay']);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stdout, /\nRegistration {2}claiming; 1 failed steps, last: INSUFFICIENT_FUNDS\n/);
    assert.doesNotMatch(waiting.stdout, /\nBond/);
    assert.equal(
      (JSON.parse((await cli(['relay', '--json'])).stdout) as { onLedger: unknown }).onLedger,
      null,
    );

    const { registration: _r, registrationDetail: _d, ...rest } = source.statusExtra;
    source.statusExtra = { ...rest, roles: [] };
    const client = await cli(['relay']);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /a client only: this node relays nothing and earns nothing\n$/);
    assert.doesNotMatch(client.stdout, /This node/);
    const j = JSON.parse((await cli(['relay', '--json'])).stdout) as Record<string, unknown>;
    assert.deepEqual([j['relay'], j['registration'], j['onLedger']], [false, null, null]);
  });
});

describe('anonnet wallet', () => {
  before(() => {
    source.statusExtra = { wallet: PAYOUT };
  });

  test("this node's wallet: its balance and what the relays paying to it earned", async () => {
    const r = await cli(['wallet']);
    assert.equal(r.code, 0, r.stderr);
    const balance = now.accounts.get(PAYOUT)?.balance;
    const earned = [relayA, relayB, relayC].reduce(
      (sum, k) => sum + (now.relays.get(keyHex(k.publicKey))?.earned ?? 0n),
      0n,
    );
    assert.ok(
      balance !== undefined && balance > 0n && earned === balance,
      'all the payout came from relay A',
    );
    assert.match(r.stdout, new RegExp(`^Wallet {4}${PAYOUT} \\(this node's wallet\\)\\n`));
    assert.match(r.stdout, new RegExp(`\\nBalance {3}${balance} credits {4}nonce 0\\n`));
    assert.match(
      r.stdout,
      new RegExp(`\\nEarnings  ${earned} credits from 3 relays paying to this account\\n`),
    );
    assert.match(r.stdout, /\nRELAY\s+EARNED\s+LAST EPOCH\s+CLAIMED\s+PAID CELLS\s+QUALITY\s+DUE\s+PAID\n/);
    const b = keyHex(relayB.publicKey);
    assert.match(
      r.stdout,
      new RegExp(`\\n${b.slice(0, 8)}\\S*\\s+0\\s+0\\s+40000\\s+0\\s+\\d+‰\\s+\\d+\\s+penalised\\n`),
    );
    const c = keyHex(relayC.publicKey);
    assert.match(r.stdout, new RegExp(`\\n${c.slice(0, 8)}\\S*\\s+0\\s+-\\s+-\\s+-\\s+-\\s+-\\s+-\\n`));

    const j = JSON.parse((await cli(['wallet', '--json'])).stdout) as {
      account: string;
      balance: string;
      earned: string;
      relays: { account: string; earned: string; lastSettlement: Record<string, unknown> | null }[];
    };
    assert.equal(j.account, PAYOUT);
    assert.equal(j.balance, String(balance));
    assert.equal(j.earned, String(earned));
    assert.equal(j.relays.length, 3);
    const byAccount = new Map(j.relays.map((x) => [x.account, x]));
    assert.equal(byAccount.get(b)?.lastSettlement?.['penalised'], true);
    assert.equal(byAccount.get(c)?.lastSettlement, null);
  });

  test('another account: no relay pays to it; a bad account is a usage error', async () => {
    const other = keyHex(vs[1]!.publicKey);
    const r = await cli(['wallet', other]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Wallet {4}${other}\\n`));
    assert.match(r.stdout, /\nEarnings {2}none: no relay names this account as its payout\n$/);
    const bad = await cli(['wallet', 'nothex']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /an account must be 64 hex digits/);
  });
});
