// The API's views of committed ledger state (src/api/ledger-views.ts) over a real state that went
// through registrations, measurements, claims, audit failures and an epoch-end settlement: every new
// field of ListLedgerRelays and GetLedgerStatus's economy part, as values and as the REST JSON a
// script reads (64-bit numbers as decimal strings, absent messages absent).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ledgerEconomy, ledgerParams, ledgerRelays } from '../../../src/api/ledger-views.ts';
import { buildApi } from '../../../src/api/server.ts';
import { reputation } from '../../../src/ledger/reputation.ts';
import { keyHex, PARAM_ID } from '../../../src/ledger/state.ts';
import { EPOCH, history, relayA, relayB, relayC } from './economy-history.ts';
import { FakeLedger, FakeSource } from './fake-source.ts';
import { AUTH, TOKEN } from './requests.ts';

const A = keyHex(relayA.publicKey);
const B = keyHex(relayB.publicKey);
const C = keyHex(relayC.publicKey);

describe('ledger views', () => {
  const { settled, now } = history();

  it('lists every relay with its measurement, reputation, earnings, last settlement and open claim', () => {
    const list = ledgerRelays(now);
    assert.deepEqual(
      list.map((r) => r.account),
      [A, B, C].sort(),
      'sorted by account',
    );
    const [a, b, c] = [A, B, C].map((k) => list.find((r) => r.account === k));
    const paidA = settled.economy.settlements.get(A);
    assert.ok(paidA !== undefined && paidA.paid > 0n);
    assert.deepEqual(
      {
        measured: a?.measured,
        bw: a?.measuredBandwidth,
        lat: a?.measuredLatencyMs,
        epoch: a?.measuredEpoch,
        earned: a?.earned,
        rep: a?.reputation,
        uptime: a?.uptimeEpochs,
        penalties: a?.penalties,
        relayed: a?.relayedBytes,
        roles: a?.roles,
        exits: a?.exitPolicySummary,
      },
      {
        measured: true,
        bw: 6_000_000n,
        lat: 31,
        epoch: 1,
        earned: paidA.paid.toString(),
        rep: reputation(now, A).toString(),
        uptime: 1n,
        penalties: 0n,
        relayed: 40_000n * 2048n,
        roles: ['relay', 'exit'],
        exits: 'accept 80,443',
      },
    );
    assert.deepEqual(a?.lastSettlement, {
      epoch: 0,
      claimedCells: 40_000n,
      paidCells: 40_000n,
      qualityPermille: paidA.quality,
      due: paidA.due.toString(),
      paid: paidA.paid.toString(),
      penalised: false,
      failVotes: 0,
    });
    assert.deepEqual(a?.openClaim, { epoch: 1, cells: 1_000n, leaves: 2, failVotes: 1 });

    // B: penalised (bond burned, a penalty, reputation 0), never measured, nothing earned.
    assert.equal(b?.bond, '0');
    assert.equal(b?.penalties, 1n);
    assert.equal(b?.reputation, '0');
    assert.equal(b?.earned, '0');
    assert.deepEqual([b?.measured, b?.measuredBandwidth, b?.measuredEpoch], [false, 0n, 0]);
    assert.equal(b?.lastSettlement?.penalised, true);
    assert.equal(b?.lastSettlement?.failVotes, 2);
    assert.equal(b?.lastSettlement?.paid, '0');
    assert.equal(b?.openClaim, undefined);
    // C: registered just now: no settlement, no claim.
    assert.equal(c?.lastSettlement, undefined);
    assert.equal(c?.openClaim, undefined);
    assert.equal(c?.bond, '100');
  });

  it('sums the economy: pool, minted, burned, bonds, the epoch of the next block, the parameters', () => {
    const e = ledgerEconomy(now);
    assert.deepEqual(e, {
      pool: now.economy.pool.toString(),
      minted: now.minted.toString(),
      burned: now.burned.toString(),
      totalBonds: '200',
      epoch: 2,
      epochStartHeight: 21n,
      epochLength: EPOCH,
      openClaims: 1,
      relayBond: '100',
      creditsPerGib: '1000',
      poolCapPerEpoch: '10000000',
      unmeasuredBandwidth: BigInt(10 * 1024 * 1024),
      auditSamples: 64,
      capacityCap: 2,
      measureSample: 16,
    });
    // Conservation, as the surface shows it: balances + bonds + pool + burned = minted.
    let balances = 0n;
    for (const acc of now.accounts.values()) balances += acc.balance;
    assert.equal(
      balances + BigInt(e.totalBonds ?? 0) + BigInt(e.pool ?? 0) + BigInt(e.burned ?? 0),
      now.minted,
    );
    const params = ledgerParams(now.params);
    assert.deepEqual(Object.keys(params), Object.keys(PARAM_ID));
    assert.equal(params['epochLength'], String(EPOCH));
    assert.equal(params['relayBond'], '100');
  });

  describe('through REST', () => {
    let app: FastifyInstance;
    before(async () => {
      const ledger = new FakeLedger();
      ledger.relays = () => ledgerRelays(now);
      const status = ledger.status.bind(ledger);
      ledger.status = () => ({ ...status(), economy: ledgerEconomy(now), params: ledgerParams(now.params) });
      app = buildApi(new FakeSource({ ledger }), TOKEN);
      await app.ready();
    });
    after(() => app.close());

    it('GET /api/v1/ledger/relays: 64-bit numbers as strings, absent settlement and claim left out', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/ledger/relays', headers: AUTH });
      assert.equal(res.statusCode, 200);
      const relays = (res.json() as { relays: Record<string, unknown>[] }).relays;
      const byAccount = new Map(relays.map((r) => [r['account'], r]));
      const a = byAccount.get(A);
      assert.equal(a?.['measuredBandwidth'], '6000000');
      assert.equal(a?.['measuredLatencyMs'], 31);
      assert.equal(a?.['uptimeEpochs'], '1');
      assert.deepEqual(a?.['openClaim'], { epoch: 1, cells: '1000', leaves: 2, failVotes: 1 });
      const last = a?.['lastSettlement'] as Record<string, unknown>;
      assert.equal(last['claimedCells'], '40000');
      assert.equal(typeof last['qualityPermille'], 'number');
      const c = byAccount.get(C);
      assert.ok(c !== undefined && !('lastSettlement' in c) && !('openClaim' in c));
      assert.equal(c['measured'], false);
      assert.equal(c['measuredBandwidth'], '0');
    });

    it('GET /api/v1/ledger: the economy part and every parameter', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/ledger', headers: AUTH });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { economy: Record<string, unknown>; params: Record<string, string> };
      assert.equal(body.economy['totalBonds'], '200');
      assert.equal(body.economy['epochStartHeight'], '21');
      assert.equal(body.economy['creditsPerGib'], '1000');
      assert.equal(body.params['creditsPerGiB'], '1000');
      assert.equal(Object.keys(body.params).length, Object.keys(PARAM_ID).length);
    });
  });
});
