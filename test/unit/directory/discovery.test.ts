import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayRecordKey } from '../../../src/directory/dht-records.ts';
import { type DiscoveryInit, RelayDiscovery } from '../../../src/directory/discovery.ts';
import { RelayView } from '../../../src/directory/relay-view.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { FakeDht } from './fake-dht.ts';
import { clock, HOUR, makeVerify, ms, NOW, relay } from './relay-view-helpers.ts';

const log = createLogger({ level: 'silent' });

function setup(overrides: Partial<DiscoveryInit> = {}, c = clock()) {
  const dht = new FakeDht();
  const view = new RelayView({ verify: makeVerify(c.now), now: c.now });
  const discovery = new RelayDiscovery({
    dht,
    view,
    selfId: relay(9).peerId,
    connectedPeers: () => [],
    walkIntervalMs: 20,
    now: c.now,
    log,
    ...overrides,
  });
  return { dht, view, discovery, clock: c };
}

describe('RelayDiscovery', () => {
  const a = relay(1);
  const b = relay(2);
  const self = relay(9);

  it('fetches descriptors of peers found by random walks into the view, never its own', async () => {
    const { dht, view, discovery } = setup();
    dht.set(relayRecordKey(a.peerId), a.descriptor().bytes);
    dht.set(relayRecordKey(b.peerId), b.descriptor().bytes);
    dht.set(relayRecordKey(self.peerId), self.descriptor().bytes);
    dht.walkPeers = [a.peerId, self.peerId, b.peerId, 'QmNoRecordHere'];
    discovery.start();
    discovery.start(); // a second start is a no-op
    try {
      await dht.until(() => view.size === 2 && dht.gets.length >= 3);
      assert.equal(view.has(a.peerId), true);
      assert.equal(view.has(b.peerId), true);
      assert.equal(view.has(self.peerId), false);
      assert.equal(dht.getsFor(relayRecordKey(self.peerId)), 0);
      assert.equal(dht.getsFor(relayRecordKey('QmNoRecordHere')), 1);
      assert.ok(discovery.lookups >= 3);
    } finally {
      await discovery.stop();
    }
    assert.equal(dht.getsFor(relayRecordKey(self.peerId)), 0);
  });

  it('asks for connected peers too, and walks again soon when told', async () => {
    const { dht, view, discovery } = setup({ connectedPeers: () => [a.peerId], walkIntervalMs: 60_000 });
    dht.set(relayRecordKey(a.peerId), a.descriptor().bytes);
    discovery.start();
    try {
      await dht.until(() => view.has(a.peerId) && dht.walks === 1);
      discovery.walkSoon();
      await dht.until(() => dht.walks === 2, 500); // not the 1 s of the first interval
    } finally {
      await discovery.stop();
    }
  });

  it('refetches a known relay only once its descriptor is past half its life', async () => {
    const { dht, view, discovery, clock: c } = setup();
    const first = a.descriptor({ publishedAt: ms(NOW), expiresAt: ms(NOW + 2 * HOUR) });
    const key = relayRecordKey(a.peerId);
    dht.set(key, first.bytes);
    discovery.want(a.peerId);
    await dht.until(() => view.has(a.peerId));
    assert.equal(dht.getsFor(key), 1);

    c.set(NOW + 10 * 60_000);
    discovery.want(a.peerId);
    c.set(NOW + HOUR); // exactly half: not yet
    discovery.want(a.peerId);
    assert.equal(dht.getsFor(key), 1);

    const second = a.descriptor({ sequence: 8n, publishedAt: ms(NOW + HOUR), expiresAt: ms(NOW + 3 * HOUR) });
    dht.set(key, second.bytes);
    c.set(NOW + HOUR + 1);
    discovery.want(a.peerId);
    await dht.until(() => view.get(a.peerId)?.signed.descriptor.sequence === 8n);
    assert.equal(dht.getsFor(key), 2);
    await discovery.stop();
  });

  it('does not ask again for a peer tried moments ago (the walk interval, at most 5 s)', async () => {
    const { dht, discovery, clock: c } = setup({ walkIntervalMs: 60_000 });
    const key = relayRecordKey('QmMissing');
    discovery.want('QmMissing');
    await dht.until(() => discovery.lookups === 1 && dht.getsFor(key) === 1);
    await new Promise((resolve) => setImmediate(resolve));
    discovery.want('QmMissing');
    c.advance(4_999);
    discovery.want('QmMissing');
    assert.equal(dht.getsFor(key), 1);
    c.advance(2);
    discovery.want('QmMissing');
    await dht.until(() => dht.getsFor(key) === 2);
    await discovery.stop();
  });

  it('offers every record a lookup returns; the view keeps the newest', async () => {
    const { dht, view, discovery } = setup();
    const older = a.descriptor({ sequence: 3n });
    const newer = a.descriptor({ sequence: 4n });
    dht.set(relayRecordKey(a.peerId), newer.bytes, older.bytes);
    discovery.want(a.peerId);
    await dht.until(() => view.has(a.peerId));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(view.get(a.peerId)?.signed.descriptor.sequence, 4n);
    await discovery.stop();
  });

  it('bounds its queue, counting dropped wants, and runs at most `concurrency` lookups', async () => {
    const { dht, discovery } = setup({ concurrency: 2, maxQueue: 3 });
    dht.hangGets = true;
    for (let i = 0; i < 8; i++) discovery.want(`QmPeer${i}`);
    discovery.want('QmPeer3'); // already queued: neither queued twice nor dropped
    discovery.want('QmPeer0'); // in flight
    assert.equal(dht.gets.length, 2, 'two in flight');
    assert.equal(discovery.dropped, 3, '2 in flight + 3 queued, 3 dropped');

    dht.release();
    await dht.until(() => dht.gets.length === 4);
    dht.release();
    await dht.until(() => dht.gets.length === 5);
    dht.release();
    assert.deepEqual(
      dht.gets.map((k) => k.replace('/anonnet-relay/', '')),
      ['QmPeer0', 'QmPeer1', 'QmPeer2', 'QmPeer3', 'QmPeer4'],
    );
    await discovery.stop();
  });

  it('serves refreshes, then connected peers, then ids from DHT answers: a flood delays only those', async () => {
    const c = clock();
    const { dht, view, discovery } = setup(
      { concurrency: 1, maxQueue: 50, isConnected: (id) => id === b.peerId },
      c,
    );
    view.offer(a.peerId, a.descriptor().bytes);
    c.advance(2 * HOUR); // past half the descriptor's life: due for a refresh
    dht.hangGets = true;
    for (let i = 0; i < 52; i++) discovery.want(`QmSybil${i}`);
    discovery.want(b.peerId);
    discovery.want(a.peerId);
    assert.equal(discovery.dropped, 1, 'one in flight, 50 queued, one dropped');
    for (let n = 2; n <= 4; n++) {
      dht.release();
      await dht.until(() => dht.gets.length === n);
    }
    assert.deepEqual(
      dht.gets.map((k) => k.replace('/anonnet-relay/', '')),
      ['QmSybil0', a.peerId, b.peerId, 'QmSybil1'],
    );
    await discovery.stop();
  });

  it('asks a connected peer for its own descriptor on first contact, and the DHT only when that fails', async () => {
    const served = new Map([[a.peerId, a.descriptor().bytes]]);
    const { dht, view, discovery } = setup({
      isConnected: (id) => id === a.peerId || id === b.peerId,
      fetchDirect: async (id) => {
        const bytes = served.get(id);
        if (bytes === undefined) throw new Error('no answer');
        return bytes;
      },
    });
    dht.set(relayRecordKey(b.peerId), b.descriptor().bytes);
    discovery.want(a.peerId);
    discovery.want(b.peerId);
    await dht.until(() => view.has(a.peerId) && view.has(b.peerId));
    assert.equal(dht.getsFor(relayRecordKey(a.peerId)), 0, 'a answered directly');
    assert.equal(dht.getsFor(relayRecordKey(b.peerId)), 1, 'b did not: the DHT');
    assert.equal(discovery.direct, 1);
    await discovery.stop();
  });

  it('stop() ends promptly during a walk, a lookup or a pause, and wants after it do nothing', async () => {
    for (const hang of ['walk', 'get', 'none'] as const) {
      const { dht, discovery } = setup({ walkIntervalMs: 60_000, connectedPeers: () => ['QmConnected'] });
      dht.hangWalks = hang === 'walk';
      dht.hangGets = hang === 'get';
      discovery.start();
      await dht.until(() => dht.walks === 1 && dht.gets.length === 1);
      if (hang === 'none') await new Promise((resolve) => setTimeout(resolve, 10)); // into the pause
      const t0 = performance.now();
      await discovery.stop();
      assert.ok(performance.now() - t0 < 100, `${hang}: stop took ${performance.now() - t0} ms`);
      const walks = dht.walks;
      discovery.want('QmAfterStop');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(dht.walks, walks, `${hang}: no walk after stop`);
      assert.equal(dht.getsFor(relayRecordKey('QmAfterStop')), 0, `${hang}: no lookup after stop`);
    }
  });

  it('survives a failing lookup and walk', async () => {
    const start = Date.now();
    const running = { now: () => NOW + Date.now() - start, set() {}, advance() {} };
    const { dht, view, discovery } = setup({}, running);
    let failures = 2;
    const realGet = dht.get.bind(dht);
    dht.get = async (key, opts) => {
      if (failures-- > 0) throw new Error('lookup failed');
      return realGet(key, opts);
    };
    dht.randomWalk = async () => {
      dht.walks++;
      if (dht.walks === 1) throw new Error('walk failed');
      return [a.peerId];
    };
    dht.set(relayRecordKey(a.peerId), a.descriptor().bytes);
    discovery.start();
    try {
      await dht.until(() => view.has(a.peerId), 3_000);
    } finally {
      await discovery.stop();
    }
  });
});
