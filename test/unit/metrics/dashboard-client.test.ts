// The dashboard's browser-free parts, run under Node: the event-feed reader against a real HTTP server
// streaming text/event-stream, peer id → account key, the bandwidth window, and the lenient model.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { ApiCallError, getJson, getOptionalJson } from '../../../dashboard/src/api.ts';
import { BandwidthWindow } from '../../../dashboard/src/bandwidth.ts';
import { type FeedEvent, readEventFeed } from '../../../dashboard/src/events.ts';
import * as model from '../../../dashboard/src/model.ts';
import { identityKeyHex } from '../../../dashboard/src/peer-id.ts';
import { generateIdentity } from '../../../src/crypto/identity.ts';

let server: Server;
let base: string;
const seenAuth: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== 'Bearer good') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } }));
      return;
    }
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Split across writes mid-line, CRLF line ends, a comment and a two-line data field.
      res.write(': keep-alive\n\nevent: bootstrap\ndata: {"percent":');
      setTimeout(() => {
        res.write('100}\r\n\r\nevent: circuitBuilt\ndata: a\ndata: b\n\n');
        res.end('data: no-type\n\n');
      }, 20);
      return;
    }
    if (req.url === '/ledger') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'no ledger' } }));
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server?.close());

test('the event feed is read with the bearer header, events split across chunks', async () => {
  const events: FeedEvent[] = [];
  let opened = 0;
  const ran = await readEventFeed(
    `${base}/events`,
    'good',
    AbortSignal.timeout(5_000),
    (e) => events.push(e),
    () => opened++,
  );
  assert.equal(ran, true);
  assert.equal(opened, 1);
  assert.deepEqual(events, [
    { type: 'bootstrap', data: '{"percent":100}' },
    { type: 'circuitBuilt', data: 'a\nb' },
    { type: 'message', data: 'no-type' },
  ]);
  assert.equal(seenAuth.at(-1), 'Bearer good');
  assert.equal(await readEventFeed(`${base}/nothing`, 'good', AbortSignal.timeout(5_000), () => {}), false);
  await assert.rejects(
    readEventFeed(`${base}/events`, 'bad', AbortSignal.timeout(5_000), () => {}),
    (e: unknown) => e instanceof ApiCallError && e.status === 401,
  );
});

test('API calls: 401 is its own error; an absent service (503, 404) reads as undefined', async () => {
  await assert.rejects(
    getJson(`${base}/ledger`, 'bad', AbortSignal.timeout(5_000)),
    (e: unknown) => e instanceof ApiCallError && e.status === 401 && e.code === 'UNAUTHORIZED',
  );
  assert.equal(await getOptionalJson(`${base}/ledger`, 'good', AbortSignal.timeout(5_000)), undefined);
  assert.equal(await getOptionalJson(`${base}/nothing`, 'good', AbortSignal.timeout(5_000)), undefined);
  await assert.rejects(
    getOptionalJson(`${base}/ledger`, 'bad', AbortSignal.timeout(5_000)),
    (e: unknown) => e instanceof ApiCallError && e.status === 401,
  );
});

test('a peer id gives back its Ed25519 identity key (the ledger account)', () => {
  for (let i = 0; i < 20; i++) {
    const id = generateIdentity();
    const peerId = peerIdFromPublicKey(publicKeyFromRaw(id.publicKey)).toString();
    assert.equal(identityKeyHex(peerId), Buffer.from(id.publicKey).toString('hex'));
  }
  assert.equal(identityKeyHex('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), undefined);
  assert.equal(identityKeyHex('12D3KooW0OIl'), undefined);
});

test('the bandwidth window merges overlapping answers by time and stays bounded', () => {
  const w = new BandwidthWindow(5);
  const at = (s: number) => ({ at: s * 1000, readBps: s, writtenBps: 2 * s });
  assert.equal(w.merge([at(1), at(2), at(3)]), true);
  assert.equal(w.merge([at(2), at(3)]), false);
  assert.equal(w.merge([at(3), at(4), at(5), at(6), at(7)]), true);
  assert.deepEqual(w.series.t, [3, 4, 5, 6, 7]);
  assert.deepEqual(w.series.inBps, [3, 4, 5, 6, 7]);
  assert.deepEqual(w.series.outBps, [6, 8, 10, 12, 14]);
});

test('the model reads the protobuf JSON shapes and tolerates missing fields', () => {
  const o = model.overview({
    version: '0.1.0',
    peerId: 'p',
    roles: ['relay', 'exit'],
    uptimeMs: 1500,
    bootstrap: { percent: 100, phase: 'done', summary: 'Done' },
    peers: 4,
    relaysKnown: 7,
    ledger: false,
    identityKey: 'ab'.repeat(32),
    walletBalance: '1234',
  });
  assert.equal(o.percent, 100);
  assert.equal(o.identityKey, 'ab'.repeat(32));
  assert.equal(o.walletBalance, '1234', 'the wallet balance the status carries');
  assert.equal(o.phase, 'done');
  assert.deepEqual(o.roles, ['relay', 'exit']);
  assert.equal(o.ledger, false);
  const empty = model.overview(null);
  assert.equal(empty.percent, undefined);
  assert.deepEqual(empty.roles, []);
  assert.deepEqual([empty.identityKey, empty.walletBalance], [undefined, undefined]);

  const [c] = model.circuits({
    circuits: [{ id: 'c1', state: 'open', hops: ['a', 'b', 'c'], ageMs: 5, bytesIn: '12', streams: 1 }],
  });
  assert.deepEqual(c?.hops, ['a', 'b', 'c']);
  assert.equal(c?.bytesIn, 12, 'a 64-bit count written as a string still reads as a number');
  assert.equal(c?.bytesOut, undefined);
  assert.deepEqual(model.circuits({}), []);

  assert.equal(model.peerCount({ count: 3, peers: [{}, {}, {}] }), 3);
  assert.equal(model.peerCount({ peers: [{}, {}] }), 2);
  assert.equal(model.peerCount({}), undefined);
  assert.equal(model.ledger(undefined, undefined), undefined);
  const l = model.ledger({ height: '42' }, { balance: '1000' });
  assert.equal(l?.height, 42);
  assert.equal(l?.credits, '1000');
  assert.equal(l?.earned, undefined);
  assert.deepEqual(model.bandwidthHistory({ history: [{ at: 1000, readBytesPerSecond: 5 }, { bogus: 1 }] }), [
    { at: 1000, readBps: 5, writtenBps: 0 },
  ]);
});
