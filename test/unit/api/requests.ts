// A valid sample request for every REST rule, against a FakeSource with a FakeLedger.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { RestRule } from '../../../src/api/http-rules.ts';
import { FakeLedger, FakeSource } from './fake-source.ts';

export const TOKEN = 'test-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const ACCOUNT = '11'.repeat(32);
export const TX_ID = '22'.repeat(32);
export const PROPOSAL_ID = '33'.repeat(32);

export function fakes(): { source: FakeSource; ledger: FakeLedger } {
  const ledger = new FakeLedger();
  ledger.accounts.set(ACCOUNT, { balance: 12345678901234567890n, nonce: 3n });
  ledger.txs.set(TX_ID, { status: 'committed', height: 6n });
  ledger.open.push({
    id: PROPOSAL_ID,
    param: 'relayBond',
    paramId: 8,
    value: '200',
    current: '100',
    needed: 1,
  });
  return { source: new FakeSource({ ledger }), ledger };
}

const PATH_VALUES: Record<string, string> = {
  id: 'c1',
  account: ACCOUNT,
  tx_id: TX_ID,
  proposal_id: PROPOSAL_ID,
};
const BODIES: Record<string, unknown> = {
  BuildCircuit: {},
  UpdateConfig: { logLevel: 'debug' },
  SubmitTransaction: { tx: '00ff10' },
  ProposeParam: { param: 'creditsPerGiB', value: '1200' },
  VoteParam: { yes: false },
};

export interface SampleRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: unknown;
}

export function sampleRequest(rule: RestRule): SampleRequest {
  const url = rule.path.replace(/\{([a-z_]+)\}/g, (_m, name: string) => PATH_VALUES[name] ?? 'x');
  const body = BODIES[rule.method.name];
  return { method: rule.verb, url, ...(body !== undefined ? { payload: body } : {}) };
}

/** Sends `rule`'s sample request with the token through fastify.inject, `query` appended to its URL. */
export function injectSample(
  app: FastifyInstance,
  rule: RestRule,
  query = '',
): Promise<LightMyRequestResponse> {
  const req = sampleRequest(rule);
  return app.inject({
    method: req.method,
    url: `${req.url}${query}`,
    headers: AUTH,
    ...(req.payload !== undefined ? { payload: req.payload as object } : {}),
  });
}
