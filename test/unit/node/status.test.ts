import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readNodeStatus, type StatusSources } from '../../../src/node/status.ts';

const piece = <T>(status: T) => ({ status: () => status });

function sources(ledger: boolean): StatusSources {
  return {
    roles: ['relay'],
    startedAt: 1_000,
    now: () => 4_000,
    progress: { current: { percent: 100, phase: 'done', summary: 'Done' } },
    p2p: {
      peerId: 'peer',
      ...piece({ peers: 2, listen: ['/ip4/1.2.3.4'], connections: { open: 2, refused: {} } }),
    },
    directory: piece({
      relaysKnown: 1,
      relays: ['r'],
      refusals: {},
      relayView: { evictions: {}, probes: 3, probeFailures: 1 },
    }),
    discovery: piece({ dhtLookups: 4, directFetches: 5 }),
    publishing: { published: 6 },
    proxies: piece({ socks: '127.0.0.1:9050', http: undefined }),
    api: piece({ api: 'http://127.0.0.1:9080' }),
    client: piece({ circuitsOpen: 7 }),
    relay: piece({
      relayedCircuits: 8,
      links: { cellsOut: 0, sendsOut: 0, cellsIn: 0, chunksIn: 0 },
      cellQueues: { bytes: 0, overflowClosed: 0, oomClosed: 0 },
    }),
    exit: piece({ sockets: 0, lookups: 0, refused: {} }),
    ledger: piece(ledger ? { ledger: { height: 9 } as never } : {}),
    economy: piece({}),
    wallet: piece({ wallet: 'ab'.repeat(32) }),
    registration: piece(
      ledger ? { registration: { state: 'registered' as const, failures: 0, payoutIsWallet: true } } : {},
    ),
  };
}

test('status.json keeps every field, in the order it always had, from the pieces the subsystems own', () => {
  const s = readNodeStatus(sources(true));
  assert.deepEqual(Object.keys(s), [
    'version',
    'pid',
    'peerId',
    'roles',
    'startedAt',
    'uptimeMs',
    'bootstrap',
    'peers',
    'relaysKnown',
    'relays',
    'descriptorsPublished',
    'dhtLookups',
    'directFetches',
    'refusals',
    'relayView',
    'listen',
    'socks',
    'http',
    'api',
    'circuitsOpen',
    'relayedCircuits',
    'links',
    'cellQueues',
    'connections',
    'exit',
    'ledger',
    'wallet',
    'registration',
  ]);
  assert.equal(s.uptimeMs, 3_000);
  assert.equal(s.peerId, 'peer');
  assert.equal(s.descriptorsPublished, 6);
  assert.equal(s.circuitsOpen, 7);
  assert.equal(s.wallet, 'ab'.repeat(32));
  assert.equal(s.registration?.state, 'registered');
  const noLedger = readNodeStatus(sources(false));
  assert.equal('ledger' in noLedger, false);
  assert.equal('registration' in noLedger, false);
});
