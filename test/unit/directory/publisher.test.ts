import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { relayRecordKey } from '../../../src/directory/dht-records.ts';
import { DescriptorPublisher, type PublisherInit } from '../../../src/directory/publisher.ts';
import { createLogger } from '../../../src/log/logger.ts';
import type { SignedDescriptor } from '../../../src/wire/descriptor-types.ts';
import { FakeDht } from './fake-dht.ts';
import { relay } from './relay-view-helpers.ts';

const log = createLogger({ level: 'silent' });
const me = relay(1);
const key = new TextDecoder().decode(relayRecordKey(me.peerId));
const turn = () => new Promise((resolve) => setImmediate(resolve));
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await turn();
}

function setup(overrides: Partial<PublisherInit> = {}) {
  const dht = new FakeDht();
  const built: SignedDescriptor[] = [];
  const published: [SignedDescriptor, number][] = [];
  let sequence = 0n;
  const publisher = new DescriptorPublisher({
    dht,
    peerId: me.peerId,
    lifetimeMs: 3_600_000,
    build: () => me.descriptor({ sequence: ++sequence }),
    log,
    onBuilt: (s) => built.push(s),
    onPublished: (s, peers) => published.push([s, peers]),
    ...overrides,
  });
  return { dht, built, published, publisher };
}

describe('DescriptorPublisher', () => {
  it('publishes its descriptor under its record key, then waits a quarter lifetime', async () => {
    const { dht, built, published, publisher } = setup();
    dht.acceptors = 3;
    publisher.start();
    publisher.start(); // no second loop
    await dht.until(() => publisher.published === 1);
    await settle();
    assert.equal(dht.puts.length, 1);
    assert.equal(dht.puts[0]?.key, key);
    assert.equal(built.length, 1);
    assert.deepEqual(dht.puts[0]?.value, built[0]?.bytes);
    assert.deepEqual(published, [[built[0], 3]]);
    assert.deepEqual(dht.records.get(key), [built[0]?.bytes]);
    await publisher.stop();
  });

  it('republishes a freshly built descriptor at once on republishSoon()', async () => {
    const { dht, built, publisher } = setup();
    publisher.start();
    await dht.until(() => publisher.published === 1);
    await settle();
    publisher.republishSoon();
    await dht.until(() => publisher.published === 2);
    assert.equal(built.length, 2);
    assert.equal(built[1]?.descriptor.sequence, 2n);
    assert.deepEqual(dht.puts[1]?.value, built[1]?.bytes);
    await publisher.stop();
  });

  it('a republishSoon() during a put leads to another put right after it', async () => {
    const { dht, publisher } = setup();
    dht.hangPuts = true;
    publisher.start();
    await dht.until(() => dht.puts.length === 1);
    publisher.republishSoon();
    dht.release();
    await dht.until(() => dht.puts.length === 2);
    dht.release();
    await dht.until(() => publisher.published === 2);
    await publisher.stop();
  });

  it('backs off 0.5 s, 1 s, 2 s ... 10 s while no peer accepts, then settles to a quarter lifetime', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { dht, published, publisher } = setup();
    dht.acceptors = 0;
    publisher.start();
    await settle();
    const putsAfter = async (ms: number): Promise<number> => {
      t.mock.timers.tick(ms);
      await settle();
      return dht.puts.length;
    };
    assert.equal(dht.puts.length, 1);
    assert.equal(await putsAfter(499), 1);
    assert.equal(await putsAfter(1), 2);
    assert.equal(await putsAfter(999), 2);
    assert.equal(await putsAfter(1), 3);
    assert.equal(await putsAfter(1_999), 3);
    assert.equal(await putsAfter(1), 4);
    assert.equal(await putsAfter(4_000), 5);
    assert.equal(await putsAfter(8_000), 6);
    assert.equal(await putsAfter(9_999), 6, 'capped at 10 s');
    assert.equal(await putsAfter(1), 7);
    assert.equal(await putsAfter(10_000), 8);
    assert.deepEqual(published, []);
    assert.equal(publisher.published, 0);
    assert.equal(dht.records.has(key), false);

    dht.acceptors = 2;
    assert.equal(await putsAfter(10_000), 9);
    assert.equal(publisher.published, 1);
    assert.equal(await putsAfter(900_000 - 1), 9, 'a quarter of the 1 h lifetime');
    assert.equal(await putsAfter(1), 10);

    dht.acceptors = 0; // back-off starts again from 0.5 s
    assert.equal(await putsAfter(900_000), 11);
    assert.equal(await putsAfter(500), 12);
    await publisher.stop();
  });

  it('retries no slower than a quarter lifetime, and treats a failing put as no acceptor', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { dht, publisher } = setup({ lifetimeMs: 1_000 });
    let calls = 0;
    dht.put = async () => {
      calls++;
      throw new Error('no route');
    };
    publisher.start();
    await settle();
    assert.equal(calls, 1);
    for (let i = 2; i <= 5; i++) {
      t.mock.timers.tick(250);
      await settle();
      assert.equal(calls, i);
    }
    assert.equal(publisher.published, 0);
    await publisher.stop();
  });

  it('stop() ends promptly during a put, during back-off and during the long wait', async () => {
    for (const phase of ['put', 'backoff', 'wait'] as const) {
      const { dht, publisher } = setup();
      dht.hangPuts = phase === 'put';
      dht.acceptors = phase === 'backoff' ? 0 : 1;
      publisher.start();
      await dht.until(() => dht.puts.length === 1);
      await settle();
      const t0 = performance.now();
      await publisher.stop();
      assert.ok(performance.now() - t0 < 100, `${phase}: stop took ${performance.now() - t0} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(dht.puts.length, 1, `${phase}: no put after stop`);
    }
  });

  it('stop() before start() and twice is harmless', async () => {
    const { dht, publisher } = setup();
    await publisher.stop();
    await publisher.stop();
    assert.equal(dht.puts.length, 0);
  });
});
