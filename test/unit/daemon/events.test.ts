// The event bus: per-subscriber bounded queues that drop the oldest and say how many, kinds filters,
// the latest bootstrap state for late subscribers, and clean ends (close, abort).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../../../src/daemon/events.ts';

const peers = (n: number) => ({ case: 'peerCount' as const, value: { peers: n } });

test('a lagging subscriber loses its oldest events and is told how many', async () => {
  const bus = new EventBus({ queueLimit: 3, now: () => 1000 });
  const sub = bus.subscribe({ kinds: ['circuitBuilt'] });
  for (let i = 0; i < 10; i++) bus.publish({ case: 'circuitBuilt', value: { id: `c${i}` } });
  assert.equal(sub.size, 3);
  assert.equal(sub.dropped, 7);
  const first = await sub.next();
  assert.equal(first?.kind.case, 'dropped');
  assert.equal(first?.kind.case === 'dropped' && first.kind.value.count, 7);
  const rest = [await sub.next(), await sub.next(), await sub.next()].map((e) =>
    e?.kind.case === 'circuitBuilt' ? e.kind.value.id : '?',
  );
  assert.deepEqual(rest, ['c7', 'c8', 'c9']);
  // A fast subscriber on the same bus loses nothing.
  sub.close();
  assert.equal(bus.subscribers, 0);
});

test('slow and fast subscribers are independent', async () => {
  const bus = new EventBus({ queueLimit: 2 });
  const slow = bus.subscribe({ kinds: ['peerCount'] });
  const fast = bus.subscribe({ kinds: ['peerCount'] });
  const seen: number[] = [];
  const reading = (async () => {
    for await (const e of fast) {
      if (e.kind.case === 'peerCount') seen.push(e.kind.value.peers);
      if (seen.length === 5) break;
    }
  })();
  for (let i = 1; i <= 5; i++) {
    bus.publish(peers(i));
    await new Promise((r) => setImmediate(r));
  }
  await reading;
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(slow.dropped, 3);
  assert.equal(bus.subscribers, 1, 'breaking out of for-await closed the fast one');
  bus.close();
  assert.equal(await slow.next(), undefined);
});

test('late subscribers get the latest bootstrap and peer count first', async () => {
  const bus = new EventBus();
  bus.publish({ case: 'bootstrap', value: { percent: 10, phase: 'identity', summary: 'x' } });
  bus.publish({ case: 'bootstrap', value: { percent: 25, phase: 'listening', summary: 'y' } });
  bus.publish(peers(4));
  bus.publish({ case: 'circuitBuilt', value: { id: 'old' } });
  const sub = bus.subscribe();
  const a = await sub.next();
  const b = await sub.next();
  assert.equal(a?.kind.case === 'bootstrap' && a.kind.value.percent, 25);
  assert.equal(b?.kind.case === 'peerCount' && b.kind.value.peers, 4);
  assert.equal(sub.size, 0, 'older events are not replayed');
  sub.close();
});

test('an abort signal ends the subscription and a waiting next()', async () => {
  const bus = new EventBus();
  const ac = new AbortController();
  const sub = bus.subscribe({ signal: ac.signal });
  const waiting = sub.next();
  ac.abort();
  assert.equal(await waiting, undefined);
  assert.equal(bus.subscribers, 0);
  assert.ok(sub.closed);
  const pre = bus.subscribe({ signal: AbortSignal.abort() });
  assert.ok(pre.closed);
  assert.equal(bus.subscribers, 0);
});
