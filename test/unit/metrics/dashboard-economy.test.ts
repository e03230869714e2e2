// The dashboard's Economy panel model (dashboard/src/economy.ts) on the JSON the real API routes answer:
// the ledger views over a real chain (test/unit/api/economy-history.ts: a paid relay, a penalised one, a
// new one, an open claim) and the status's economy part as the daemon maps it (economyOf), so the page
// and the API cannot drift apart; and lenient on what an older daemon lacks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { FastifyInstance } from 'fastify';
import { networkEconomy, nodeEconomy, relayEconomy } from '../../../dashboard/src/economy.ts';
import { NodeEconomySchema } from '../../../src/api/gen/anonnet/v1/node_pb.js';
import { ledgerEconomy, ledgerParams, ledgerRelays } from '../../../src/api/ledger-views.ts';
import { buildApi } from '../../../src/api/server.ts';
import { keyHex } from '../../../src/ledger/state.ts';
import { economyOf } from '../../../src/node/api-source.ts';
import { history, relayA, relayB, relayC } from '../api/economy-history.ts';
import { FakeLedger, FakeSource } from '../api/fake-source.ts';
import { AUTH, TOKEN } from '../api/requests.ts';

const { now } = history();
let app: FastifyInstance;

const get = async (url: string): Promise<unknown> => {
  const r = await app.inject({ method: 'GET', url, headers: AUTH });
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
};

before(async () => {
  const ledger = new FakeLedger();
  ledger.relays = () => ledgerRelays(now);
  const status = ledger.status.bind(ledger);
  ledger.status = () => ({ ...status(), economy: ledgerEconomy(now), params: ledgerParams(now.params) });
  const source = new FakeSource({ ledger });
  source.statusExtra = {
    economy: create(
      NodeEconomySchema,
      economyOf({
        epoch: 2,
        receipts: {
          accepted: 12,
          refused: { MALFORMED: 1, BAD_SIGNATURE: 0, NOT_OURS: 0, WRONG_EPOCH: 2, STALE: 0, FULL: 0 },
          cellsThisEpoch: '4096',
        },
        claims: {
          claimsSubmitted: 3,
          claimsRefused: 1,
          auditsAnswered: 48,
          auditsRefused: 0,
          last: { epoch: 1, cells: '1000', leaves: 2, outcome: 'committed' },
        },
        audits: { audited: 5, passed: 4, failed: 1, unanswered: 0 },
        measurements: { measured: 6, unreachable: 2, reported: 8 },
      }),
    ),
  };
  app = buildApi(source, TOKEN);
  await app.ready();
});
after(() => app.close());

test('this relay: bond, measurement, reputation, earnings, last settlement, open claim', async () => {
  const relays = await get('/api/v1/ledger/relays');
  const a = keyHex(relayA.publicKey);
  const reg = now.relays.get(a);
  const settled = now.economy.settlements.get(a);
  assert.ok(reg !== undefined && settled !== undefined);
  assert.deepEqual(relayEconomy(relays, a), {
    bond: '100',
    measured: '5.7 MiB/s, 31 ms (epoch 1)',
    reputation: ledgerRelays(now).find((r) => r.account === a)?.reputation,
    earned: reg.earned.toString(),
    lastSettlement: `epoch 0: paid ${settled.paid} of ${settled.due} credits, q ${settled.quality}‰`,
    openClaim: 'epoch 1: 1000 cells, 1 failed audit',
  });
  assert.equal(relayEconomy(relays, keyHex(relayB.publicKey))?.lastSettlement, 'epoch 0: penalised');
  const c = relayEconomy(relays, keyHex(relayC.publicKey));
  assert.deepEqual([c?.measured, c?.lastSettlement, c?.openClaim], ['not measured yet', 'none yet', 'none']);
  assert.equal(relayEconomy(relays, 'ff'.repeat(32)), undefined, 'not registered');
  assert.equal(relayEconomy(relays, undefined), undefined);
});

test("this node's counters and the network's pool, supply, epoch and prices", async () => {
  assert.deepEqual(nodeEconomy(await get('/api/v1/status')), {
    epoch: 2,
    receipts: '12 kept, 3 refused; 4096 cells this epoch',
    claims: '3 sent, 1 refused; last: epoch 1, committed',
    audits: '5 audited: 4 passed, 1 failed, 0 unanswered',
    measurements: '6 measured, 2 unreachable',
  });
  assert.deepEqual(networkEconomy(await get('/api/v1/ledger')), {
    pool: now.economy.pool.toString(),
    minted: now.minted.toString(),
    burned: now.burned.toString(),
    bonds: '200',
    epoch: '2 (blocks 21–30)',
    price: '1000 credits/GiB',
    relayBond: '100',
    limits: 'pool cap 10000000/epoch, unmeasured relays 10.0 MiB/s',
  });
});

test('lenient: an older daemon without these fields shows dashes, not a broken page', () => {
  assert.equal(nodeEconomy({ peerId: 'x' }), undefined);
  assert.equal(networkEconomy({ height: '3' }), undefined);
  assert.equal(networkEconomy(undefined), undefined);
  assert.deepEqual(relayEconomy({ relays: [{ account: 'aa' }] }, 'aa'), {
    bond: undefined,
    measured: 'not measured yet',
    reputation: undefined,
    earned: undefined,
    lastSettlement: 'none yet',
    openClaim: 'none',
  });
  assert.deepEqual(networkEconomy({ economy: { epoch: 4 } }), {
    pool: undefined,
    minted: undefined,
    burned: undefined,
    bonds: undefined,
    epoch: '4',
    price: undefined,
    relayBond: undefined,
    limits: undefined,
  });
  assert.equal(nodeEconomy({ economy: {} })?.receipts, '0 kept, 0 refused; 0 cells this epoch');
});
