// The REST face through fastify.inject (no sockets): shapes, status codes, validation naming the field,
// and that no input produces a 500 or a stack trace.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { REST_RULES } from '../../../src/api/http-rules.ts';
import { buildApi } from '../../../src/api/server.ts';
import { FakeSource, PEER_A } from './fake-source.ts';
import { ACCOUNT, AUTH, fakes, sampleRequest, TOKEN, TX_ID } from './requests.ts';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function withApp(source = fakes().source) {
  const app = buildApi(source, TOKEN);
  return { app, source };
}

async function call(app: FastifyInstance, method: string, url: string, payload?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: AUTH,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return {
    status: res.statusCode,
    body: res.body.length > 0 ? (JSON.parse(res.body) as unknown) : undefined,
  };
}

describe('REST resources', () => {
  let app: FastifyInstance;
  let source: FakeSource;
  let ledger: ReturnType<typeof fakes>['ledger'];
  before(() => {
    const f = fakes();
    source = f.source;
    ledger = f.ledger;
    app = buildApi(source, TOKEN);
  });
  after(() => app.close());

  test('status answers every field in protobuf JSON', async () => {
    const r = await call(app, 'GET', '/api/v1/status');
    assert.equal(r.status, 200);
    const s = r.body as Record<string, unknown>;
    assert.equal(s['peerId'], source.status().peerId);
    assert.deepEqual(s['bootstrap'], { percent: 100, phase: 'done', summary: 'Done' });
    assert.equal(s['relayedCircuits'], 0, 'zero values are present, not omitted');
    assert.equal(s['ledger'], true);
    assert.equal(s['http'], undefined, 'an absent optional stays absent');
  });

  test('peers carry a count and per-transport counts', async () => {
    const r = await call(app, 'GET', '/api/v1/peers');
    assert.deepEqual((r.body as { transports: unknown }).transports, { tcp: 1, quic: 1 });
    assert.equal((r.body as { count: number }).count, 2);
  });

  test('circuits: list, build (201), close (204), close unknown (404)', async () => {
    const list = async () =>
      (
        (await call(app, 'GET', '/api/v1/circuits')).body as {
          circuits: Array<{ id: string; bytesIn: number; hops: string[] }>;
        }
      ).circuits;
    const before = await list();
    assert.equal(before[0]?.bytesIn, 5000, 'byte counts are JSON numbers');
    assert.equal(before[0]?.hops[0], PEER_A);
    const built = await call(app, 'POST', '/api/v1/circuits');
    assert.equal(built.status, 201);
    const id = (built.body as { id: string; buildMs: number }).id;
    assert.equal((built.body as { buildMs: number }).buildMs, 12.5);
    assert.ok((await list()).some((c) => c.id === id));
    const del = await call(app, 'DELETE', `/api/v1/circuits/${id}`);
    assert.equal(del.status, 204);
    assert.equal(del.body, undefined);
    assert.ok(!(await list()).some((c) => c.id === id));
    const again = await call(app, 'DELETE', `/api/v1/circuits/${id}`);
    assert.equal(again.status, 404);
    assert.equal((again.body as ErrorBody).error.code, 'NOT_FOUND');
  });

  test('a failed build is 503 CIRCUIT_BUILD_FAILED', async () => {
    source.buildFails = true;
    try {
      const r = await call(app, 'POST', '/api/v1/circuits');
      assert.equal(r.status, 503);
      assert.equal((r.body as ErrorBody).error.code, 'CIRCUIT_BUILD_FAILED');
    } finally {
      source.buildFails = false;
    }
  });

  test('streams filter by circuit; an unknown query parameter is named', async () => {
    const all = await call(app, 'GET', '/api/v1/streams');
    assert.equal((all.body as { streams: unknown[] }).streams.length, 1);
    const none = await call(app, 'GET', '/api/v1/streams?circuitId=other');
    assert.deepEqual(none.body, { streams: [] });
    const snake = await call(app, 'GET', '/api/v1/streams?circuit_id=c1');
    assert.equal((snake.body as { streams: unknown[] }).streams.length, 1);
    const bad = await call(app, 'GET', '/api/v1/streams?circuitID=c1');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as ErrorBody).error.field, 'circuitID');
  });

  test('bandwidth', async () => {
    const r = await call(app, 'GET', '/api/v1/bandwidth');
    assert.equal((r.body as { writtenBytesPerSecond: number }).writtenBytesPerSecond, 4096);
  });

  test('config: secrets hidden, writable fields change, others refused with the field named', async () => {
    const got = (await call(app, 'GET', '/api/v1/config')).body as {
      config: Record<string, unknown>;
      writable: string[];
    };
    assert.equal(got.config['secretKey'], undefined);
    assert.deepEqual(got.writable, ['logLevel', 'circuits.prebuilt']);

    const ok = await call(app, 'PATCH', '/api/v1/config', { circuits: { prebuilt: 5 } });
    assert.equal(ok.status, 200);
    assert.deepEqual(source.applied.at(-1), { path: 'circuits.prebuilt', value: 5 });
    assert.equal((ok.body as { config: { circuits: { prebuilt: number } } }).config.circuits.prebuilt, 5);

    const applied = source.applied.length;
    for (const [patch, field] of [
      [{ dataDir: '/elsewhere' }, 'dataDir'],
      [{ circuits: { hops: 1 } }, 'circuits.hops'],
      [{ circuits: { prebuilt: 99 } }, 'circuits.prebuilt'],
      [{ circuits: { prebuilt: 'two' } }, 'circuits.prebuilt'],
      [{ logLevel: 'loud' }, 'logLevel'],
      // A patch applies whole or not at all.
      [{ logLevel: 'debug', p2p: { minPeers: 1 } }, 'p2p.minPeers'],
      [{}, 'patch'],
      [[1, 2], 'patch'],
    ] as const) {
      const r = await call(app, 'PATCH', '/api/v1/config', patch);
      assert.equal(r.status, 400, JSON.stringify(patch));
      assert.equal((r.body as ErrorBody).error.code, 'INVALID_ARGUMENT');
      assert.equal((r.body as ErrorBody).error.field, field, JSON.stringify(patch));
    }
    assert.equal(source.applied.length, applied, 'nothing applied by refused patches');
  });

  test('ledger: status, balance, submit (hex and base64), transaction', async () => {
    const st = await call(app, 'GET', '/api/v1/ledger');
    assert.equal((st.body as { height: string }).height, '7', 'uint64 is a JSON string');
    assert.equal((st.body as { powDifficulty: number }).powDifficulty, 8);
    const relays = await call(app, 'GET', '/api/v1/ledger/relays');
    assert.deepEqual(relays.body, {
      relays: [
        {
          account: 'ef'.repeat(32),
          roles: ['relay', 'exit'],
          bandwidth: 1e6,
          exitPolicySummary: 'reject 25',
          height: '3',
          payout: 'aa'.repeat(32),
          bond: '100',
          measured: true,
          measuredBandwidth: '2000000',
          measuredLatencyMs: 40,
          measuredEpoch: 2,
          reputation: '15',
          earned: '40',
          uptimeEpochs: '1',
          penalties: '0',
          relayedBytes: '81920000',
        },
      ],
    });
    const bal = await call(app, 'GET', `/api/v1/ledger/accounts/${ACCOUNT.toUpperCase()}`);
    assert.deepEqual(bal.body, { account: ACCOUNT, balance: '12345678901234567890', nonce: '3' });
    const missing = await call(app, 'GET', `/api/v1/ledger/accounts/${'33'.repeat(32)}`);
    assert.equal(missing.status, 404);
    const badAccount = await call(app, 'GET', '/api/v1/ledger/accounts/xyz');
    assert.equal(badAccount.status, 400);
    assert.equal((badAccount.body as ErrorBody).error.field, 'account');

    const hex = await call(app, 'POST', '/api/v1/ledger/transactions', { tx: '00ff10' });
    assert.equal(hex.status, 202);
    assert.deepEqual([...(ledger.submitted.at(-1) ?? [])], [0, 255, 16]);
    const b64 = await call(app, 'POST', '/api/v1/ledger/transactions', {
      tx: Buffer.from([1, 2, 3, 250]).toString('base64'),
    });
    assert.equal(b64.status, 202);
    assert.deepEqual([...(ledger.submitted.at(-1) ?? [])], [1, 2, 3, 250]);
    const id = (b64.body as { txId: string }).txId;
    const pending = await call(app, 'GET', `/api/v1/ledger/transactions/${id}`);
    assert.deepEqual(pending.body, { txId: id, status: 'pending', height: '0', refusalCode: '' });
    const committed = await call(app, 'GET', `/api/v1/ledger/transactions/${TX_ID}`);
    assert.equal((committed.body as { height: string }).height, '6');
    for (const [body, field] of [
      [{ tx: 'not base64!' }, 'tx'],
      [{ tx: '' }, 'tx'],
      [{ tx: 5 }, 'tx'],
      [{ txx: 'ab' }, 'txx'],
    ] as const) {
      const r = await call(app, 'POST', '/api/v1/ledger/transactions', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((r.body as ErrorBody).error.field, field);
    }
    const badTx = await call(app, 'GET', '/api/v1/ledger/transactions/abc');
    assert.equal((badTx.body as ErrorBody).error.field, 'txId');
  });
});

describe('REST errors', () => {
  test('without a ledger its routes answer 503 LEDGER_UNAVAILABLE (after input checks)', async () => {
    const { app } = withApp(new FakeSource());
    for (const rule of REST_RULES.filter((r) => r.path.startsWith('/api/v1/ledger'))) {
      const req = sampleRequest(rule);
      const r = await call(app, req.method, req.url, req.payload);
      assert.equal(r.status, 503, rule.path);
      assert.equal((r.body as ErrorBody).error.code, 'LEDGER_UNAVAILABLE');
    }
    const bad = await call(app, 'GET', '/api/v1/ledger/accounts/nothex');
    assert.equal(bad.status, 400);
    await app.close();
  });

  test('every endpoint names a bad field with 400 INVALID_ARGUMENT', async () => {
    const { app } = withApp();
    for (const rule of REST_RULES) {
      const req = sampleRequest(rule);
      const r =
        rule.body === ''
          ? await call(app, req.method, `${req.url}?bogusField=1`)
          : await call(app, req.method, req.url, { bogusField: 1 });
      assert.equal(r.status, 400, `${rule.verb} ${rule.path}`);
      assert.equal((r.body as ErrorBody).error.code, 'INVALID_ARGUMENT');
      assert.equal((r.body as ErrorBody).error.field, 'bogusField', `${rule.verb} ${rule.path}`);
    }
    const kinds = await call(app, 'GET', '/api/v1/events?kinds=circuitBuilt,nonsense');
    assert.equal(kinds.status, 400);
    assert.equal((kinds.body as ErrorBody).error.field, 'kinds');
    await app.close();
  });

  test('unknown routes are 404 with a code; bad JSON is 400; other media types 415', async () => {
    const { app } = withApp();
    const nf = await call(app, 'GET', '/api/v1/nothing');
    assert.equal(nf.status, 404);
    assert.equal((nf.body as ErrorBody).error.code, 'NOT_FOUND');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/ledger/transactions',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: '{"tx": ',
    });
    assert.equal(bad.statusCode, 400);
    assert.equal((JSON.parse(bad.body) as ErrorBody).error.code, 'INVALID_ARGUMENT');
    const media = await app.inject({
      method: 'PATCH',
      url: '/api/v1/config',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      payload: 'logLevel=debug',
    });
    assert.equal(media.statusCode, 415);
    assert.equal((JSON.parse(media.body) as ErrorBody).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    await app.close();
  });

  test('no input gives a 500 or a stack trace (property)', async () => {
    const { app } = withApp();
    const json = fc.jsonValue({ maxDepth: 3 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...REST_RULES.filter((r) => !r.streaming)),
        json,
        fc.string({ maxLength: 40 }),
        async (rule, body, segment) => {
          const url = sampleRequest(rule).url.replace(
            /c1$|[0-9a-f]{64}$/,
            encodeURIComponent(segment) || 'x',
          );
          const res = await app.inject({
            method: rule.verb,
            url,
            headers: AUTH,
            ...(rule.verb === 'POST' || rule.verb === 'PATCH'
              ? { payload: JSON.stringify(body), headers: { ...AUTH, 'content-type': 'application/json' } }
              : {}),
          });
          assert.ok(
            res.statusCode < 500,
            `${rule.verb} ${url} ${JSON.stringify(body)} -> ${res.statusCode} ${res.body}`,
          );
          assert.ok(!/\n\s+at /.test(res.body), 'no stack trace');
          if (res.statusCode >= 400) assert.ok((JSON.parse(res.body) as ErrorBody).error.code);
        },
      ),
      { numRuns: 300 },
    );
    await app.close();
  });
});
