// ListProposals, ProposeParam and VoteParam against a real ledger node in this process: a one-validator
// chain on a real libp2p host committing every 200 ms, the daemon's API source over it signing with the
// node identity through the node's real identity-transaction queue (economy/identity-txs.ts). The
// validator's proposal passes with its own vote and the parameter changes; a node that is no validator,
// and a client-only node, are refused with 403 NOT_A_VALIDATOR before anything is signed; bad input is a
// 400 naming the field; the gRPC face answers PermissionDenied with the same code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { FastifyInstance } from 'fastify';
import { ControlService } from '../../src/api/gen/anonnet/v1/control_pb.js';
import { ledgerApiSource } from '../../src/api/ledger-source.ts';
import { buildApi } from '../../src/api/server.ts';
import { LedgerNode } from '../../src/consensus/ledger-node.ts';
import { LedgerNet } from '../../src/consensus/net/ledger-net.ts';
import { generateIdentity, type Identity } from '../../src/crypto/identity.ts';
import { IdentityTxs } from '../../src/economy/identity-txs.ts';
import { credits } from '../../src/ledger/credits.ts';
import { keyHex } from '../../src/ledger/state.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createHost, type Host } from '../../src/p2p/host.ts';
import { FakeSource } from '../unit/api/fake-source.ts';
import { AUTH, TOKEN } from '../unit/api/requests.ts';
import { loopbackHostOptions } from './lib/mini-net.ts';

const validator = generateIdentity();
const outsider = generateIdentity(); // funded, registered as nothing: not a validator
const clientNode = generateIdentity(); // a client-only node's identity: it signs nothing

let dir: string;
let host: Host;
let ledger: LedgerNode;
/** The validator's daemon API, one of a node that is no validator, and one of a client-only node. */
let apps: { validator: FastifyInstance; outsider: FastifyInstance; client: FastifyInstance };

function apiFor(who: Identity | undefined): FastifyInstance {
  if (who === undefined)
    return buildApi(
      new FakeSource({ ledger: ledgerApiSource(ledger, { refuseSender: clientNode.publicKey }) }),
      TOKEN,
    );
  const txs = new IdentityTxs(ledger, who);
  const signer = { key: who.publicKey, send: txs.send.bind(txs) };
  const source = ledgerApiSource(ledger, { signer });
  return buildApi(new FakeSource({ ledger: source }), TOKEN);
}

async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  payload?: object,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await app.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
}

const errorOf = (body: Record<string, unknown>) => body['error'] as { code: string; field?: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-governance-'));
  host = await createHost({
    identitySeed: validator.seed,
    options: loopbackHostOptions,
    validators: {},
    selectors: {},
    agentVersion: 'anonnet-governance-test',
  });
  const net = new LedgerNet(host);
  await net.start();
  ledger = new LedgerNode({
    genesis: {
      chainId: 'governance-test',
      params: { blockIntervalMs: 200, validatorCount: 4, powDifficulty: 0, epochLength: 1000 },
      validators: [validator.publicKey],
      accounts: [validator, outsider].map((k) => ({ key: k.publicKey, balance: credits(1000) })),
    },
    storePath: join(dir, 'ledger.sqlite'),
    signStatePath: join(dir, 'sign-state.json'),
    identity: validator,
    net,
    log: createLogger({ level: 'silent' }),
    timeouts: { proposeMs: 400, prevoteMs: 150, precommitMs: 150, deltaMs: 50 },
  });
  ledger.start();
  apps = { validator: apiFor(validator), outsider: apiFor(outsider), client: apiFor(undefined) };
  for (const app of Object.values(apps)) await app.ready();
});

after(async () => {
  for (const app of Object.values(apps ?? {})) await app.close();
  ledger?.stop();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('governance through the API, on a real ledger', () => {
  it("a validator proposes, the proposal is listed, the validator's yes passes it, the parameter changes", async () => {
    const none = await call(apps.validator, 'GET', '/api/v1/ledger/proposals');
    assert.deepEqual(none, { status: 200, body: { proposals: [] } });

    const p = await call(apps.validator, 'POST', '/api/v1/ledger/proposals', {
      param: 'creditsPerGiB',
      value: '1500',
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const id = p.body['proposalId'] as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok(Number(p.body['height']) >= 1);

    const listed = await call(apps.validator, 'GET', '/api/v1/ledger/proposals');
    const proposals = listed.body['proposals'] as Record<string, unknown>[];
    assert.equal(proposals.length, 1);
    assert.deepEqual(
      { ...proposals[0], height: undefined },
      {
        id,
        param: 'creditsPerGiB',
        paramId: 9,
        value: '1500',
        current: '1000',
        proposer: keyHex(validator.publicKey),
        height: undefined,
        votes: [],
        yes: 0,
        no: 0,
        needed: 1,
      },
    );

    const v = await call(apps.validator, 'POST', `/api/v1/ledger/proposals/${id}/votes`, { yes: true });
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.equal(v.body['passed'], true);
    assert.equal(ledger.state.params.creditsPerGiB, 1500n);
    assert.equal(ledger.state.proposals.size, 0);
    const status = await call(apps.validator, 'GET', '/api/v1/ledger');
    assert.equal((status.body['params'] as Record<string, string>)['creditsPerGiB'], '1500');

    const gone = await call(apps.validator, 'POST', `/api/v1/ledger/proposals/${id}/votes`, { yes: true });
    assert.equal(gone.status, 404);
    assert.equal(errorOf(gone.body).code, 'NOT_FOUND');
  });

  it('a vote that does not pass: a no leaves the proposal open with the vote counted', async () => {
    const p = await call(apps.validator, 'POST', '/api/v1/ledger/proposals', {
      param: 'auditSamples',
      value: '96',
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const id = p.body['proposalId'] as string;
    const v = await call(apps.validator, 'POST', `/api/v1/ledger/proposals/${id}/votes`, { yes: false });
    assert.deepEqual([v.status, v.body['passed']], [200, false]);
    const [open] = (await call(apps.validator, 'GET', '/api/v1/ledger/proposals')).body[
      'proposals'
    ] as Record<string, unknown>[];
    assert.deepEqual([open?.['id'], open?.['yes'], open?.['no']], [id, 0, 1]);
    assert.deepEqual(open?.['votes'], [{ validator: keyHex(validator.publicKey), yes: false }]);
    const twice = await call(apps.validator, 'POST', `/api/v1/ledger/proposals/${id}/votes`, { yes: true });
    assert.equal(twice.status, 422);
    assert.match((twice.body['error'] as { message: string }).message, /^ALREADY_VOTED: /);
    assert.equal(ledger.state.params.auditSamples, 64);
  });

  it('a node that is no validator, and a client-only node, are refused with 403 before signing', async () => {
    const nonce = ledger.state.accounts.get(keyHex(outsider.publicKey))?.nonce;
    const [open] = [...ledger.state.proposals.keys()];
    assert.ok(open !== undefined);
    for (const app of [apps.outsider, apps.client]) {
      const p = await call(app, 'POST', '/api/v1/ledger/proposals', { param: 'relayBond', value: '50' });
      assert.equal(p.status, 403);
      assert.equal(errorOf(p.body).code, 'NOT_A_VALIDATOR');
      const v = await call(app, 'POST', `/api/v1/ledger/proposals/${open}/votes`, { yes: true });
      assert.equal(v.status, 403);
      assert.equal(errorOf(v.body).code, 'NOT_A_VALIDATOR');
    }
    assert.match(
      (
        (await call(apps.client, 'POST', '/api/v1/ledger/proposals', { param: 'relayBond', value: '5' }))
          .body['error'] as { message: string }
      ).message,
      /client only/,
    );
    assert.equal(ledger.state.accounts.get(keyHex(outsider.publicKey))?.nonce, nonce, 'nothing was signed');

    // The gRPC/Connect face: PermissionDenied, with the stable code in the metadata.
    const baseUrl = await apps.outsider.listen({ host: '127.0.0.1', port: 0 });
    const client = createClient(
      ControlService,
      createConnectTransport({
        baseUrl,
        httpVersion: '1.1',
        interceptors: [
          (next) => (req) => {
            req.header.set('authorization', `Bearer ${TOKEN}`);
            return next(req);
          },
        ],
      }),
    );
    const err = await client.proposeParam({ param: 'relayBond', value: '50' }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err?.code, Code.PermissionDenied);
    assert.equal(err?.metadata.get('anonnet-error-code'), 'NOT_A_VALIDATOR');
  });

  it('an unknown parameter or a value out of range is a 400 naming the field; nothing is signed', async () => {
    const nonce = ledger.state.accounts.get(keyHex(validator.publicKey))?.nonce;
    const cases: [object, string, RegExp][] = [
      [{ param: 'noSuchParam', value: '1' }, 'param', /unknown parameter "noSuchParam"/],
      [{ param: '__proto__', value: '1' }, 'param', /unknown parameter/],
      [{ param: 'auditSamples', value: '256' }, 'value', /auditSamples must be in 1\.\.255, got 256/],
      [{ param: 'epochLength', value: '0' }, 'value', /epochLength must be in 1\.\.1000000/],
      [{ param: 'relayBond', value: '-5' }, 'value', /not a whole number/],
      [{ param: 'relayBond', value: '18446744073709551616' }, 'value', /relayBond must be in 0\.\./],
    ];
    for (const [body, field, message] of cases) {
      const r = await call(apps.validator, 'POST', '/api/v1/ledger/proposals', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorOf(r.body).field, field);
      assert.match((r.body['error'] as { message: string }).message, message);
    }
    const badId = await call(apps.validator, 'POST', '/api/v1/ledger/proposals/abc/votes', { yes: true });
    assert.equal(badId.status, 400);
    assert.equal(errorOf(badId.body).field, 'proposalId');
    assert.equal(ledger.state.accounts.get(keyHex(validator.publicKey))?.nonce, nonce);
  });
});
