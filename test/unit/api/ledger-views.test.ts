// The API's views of committed ledger state (src/api/ledger-views.ts) over a real state that went
// through registrations, measurements, claims, audit failures and an epoch-end settlement: every new
// field of ListLedgerRelays and GetLedgerStatus's economy part, as values and as the REST JSON a
// script reads (64-bit numbers as decimal strings, absent messages absent).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ledgerEconomy, ledgerParams, ledgerRelays } from '../../../src/api/ledger-views.ts';
import { buildApi } from '../../../src/api/server.ts';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import { reputation } from '../../../src/ledger/reputation.ts';
import { keyHex, type LedgerState, PARAM_ID } from '../../../src/ledger/state.ts';
import type { SignedTx, TxBody } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, keyring, testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';
import { FakeLedger, FakeSource } from './fake-source.ts';
import { AUTH, TOKEN } from './requests.ts';

const vs = validatorIds.slice(0, 4);
const relayA = identityFromSeed(new Uint8Array(32).fill(0x61));
const relayB = identityFromSeed(new Uint8Array(32).fill(0x62));
const relayC = identityFromSeed(new Uint8Array(32).fill(0x63));
const payout = identityFromSeed(new Uint8Array(32).fill(0x71));
const A = keyHex(relayA.publicKey);
const B = keyHex(relayB.publicKey);
const C = keyHex(relayC.publicKey);
const EPOCH = 10;

/** Applies real blocks (each carrying the validators' commit of the last) up to `height`, `txs` at their heights. */
function runTo(chain: ChainDriver, height: number, txs: ReadonlyMap<number, readonly SignedTx[]>): void {
  while (chain.state.height < height) {
    const at = chain.state.height + 1;
    const block = chain.build({ txs: (txs.get(at) ?? []).map((t) => t.bytes) });
    chain.apply(block); // throws with the refusal when any transaction does not apply
  }
}

const register = (roles: number): TxBody => ({
  kind: 'REGISTER_RELAY',
  roles,
  bandwidth: 2_000_000,
  onionKeyHash: new Uint8Array(32),
  payout: payout.publicKey,
  exitPolicySummary: roles & 2 ? new TextEncoder().encode('accept 80,443') : new Uint8Array(0),
});
const claim = (epoch: number, cells: bigint, leaves = 4): TxBody => ({
  kind: 'RELAY_CLAIM',
  epoch,
  cells,
  leaves,
  root: new Uint8Array(32).fill(9),
});
const fail = (relay: Uint8Array, epoch: number): TxBody => ({ kind: 'AUDIT_FAIL', relay, epoch, reason: 1 });

/**
 * Epoch 1: A and B claim epoch 0, two of four validators fail B's claim, three measure A; the epoch ends
 * (height 20): A is paid, B penalised. Epoch 2: A claims epoch 1 and one validator fails it; C registers.
 */
function history(): { settled: LedgerState; now: LedgerState } {
  const genesis = testGenesisState(vs, {
    epochLength: EPOCH,
    blockIntervalMs: 1000,
    startingCredits: 1000n as never,
    relayBond: 100n as never,
    unmeasuredBandwidth: 10 * 1024 * 1024,
  });
  const chain = new ChainDriver(genesis, keyring(vs));
  const grant = (who: Identity) => tx(who, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n });
  const measure = (i: number, bw: number) =>
    tx(vs[i]!, i < 2 ? 3n : 2n, {
      kind: 'MEASUREMENT',
      epoch: 1,
      entries: [{ relay: relayA.publicKey, bandwidth: bw, latencyMs: 30 + i }],
    });
  runTo(
    chain,
    20,
    new Map([
      [1, [relayA, relayB, relayC, ...vs].map(grant)],
      [2, [tx(relayA, 2n, register(3)), tx(relayB, 2n, register(1))]],
      [12, [tx(relayA, 3n, claim(0, 40_000n)), tx(relayB, 3n, claim(0, 40_000n))]],
      [13, [tx(vs[0]!, 2n, fail(relayB.publicKey, 0)), tx(vs[1]!, 2n, fail(relayB.publicKey, 0))]],
      [14, [measure(0, 5_000_000), measure(1, 6_000_000), measure(2, 7_000_000)]],
    ]),
  );
  const settled = chain.state;
  runTo(
    chain,
    23,
    new Map([
      [22, [tx(relayA, 4n, claim(1, 1_000n, 2))]],
      [23, [tx(vs[3]!, 2n, fail(relayA.publicKey, 1)), tx(relayC, 2n, register(1))]],
    ]),
  );
  return { settled, now: chain.state };
}

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
      auditSamples: 48,
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
