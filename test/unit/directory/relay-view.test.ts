import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import {
  defaultRelayViewLimits,
  freshStanding,
  isNewer,
  RelayView,
} from '../../../src/directory/relay-view.ts';
import { RelayViewStore } from '../../../src/directory/relay-view-store.ts';
import { clock, HOUR, makeVerify, ms, NOW, relay } from './relay-view-helpers.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-relay-view-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let dbCount = 0;
const dbPath = () => join(dir, `relays-${++dbCount}.sqlite`);

function view(opts: { now?: () => number; store?: RelayViewStore; maxRelays?: number } = {}) {
  const now = opts.now ?? (() => NOW);
  return new RelayView({
    verify: makeVerify(now),
    now,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.maxRelays === undefined
      ? {}
      : { limits: { ...defaultRelayViewLimits, maxRelays: opts.maxRelays } }),
  });
}

describe('RelayView.offer', () => {
  const a = relay(1);
  const b = relay(2);

  it('adds a verified descriptor, then reports the same bytes as unchanged', () => {
    const v = view();
    const d = a.descriptor();
    assert.equal(v.offer(a.peerId, d.bytes), 'added');
    assert.equal(v.size, 1);
    assert.equal(v.has(a.peerId), true);
    const entry = v.get(a.peerId);
    assert.deepEqual(entry?.signed.bytes, d.bytes);
    assert.equal(entry?.receivedAt, NOW);
    assert.equal(entry?.peerId, a.peerId);
    assert.equal(v.offer(a.peerId, d.bytes.slice()), 'unchanged');
    assert.equal(v.size, 1);
    assert.deepEqual(
      v.list().map((e) => e.peerId),
      [a.peerId],
    );
  });

  it('updates to a higher sequence, or the same sequence published later; older ones are stale', () => {
    const v = view();
    const first = a.descriptor({ sequence: 10n });
    const higher = a.descriptor({ sequence: 11n, publishedAt: ms(NOW - 120_000) });
    const later = a.descriptor({ sequence: 11n, publishedAt: ms(NOW - 30_000) });
    assert.equal(v.offer(a.peerId, first.bytes), 'added');
    assert.equal(v.offer(a.peerId, higher.bytes), 'updated');
    assert.equal(v.offer(a.peerId, later.bytes), 'updated');
    assert.deepEqual(v.get(a.peerId)?.signed.bytes, later.bytes);
    assert.equal(v.offer(a.peerId, higher.bytes), 'stale', 'same sequence, published earlier');
    assert.equal(v.offer(a.peerId, first.bytes), 'stale', 'a replayed older sequence');
    assert.deepEqual(v.get(a.peerId)?.signed.bytes, later.bytes);
  });

  it('settles an equivocation (same sequence and publishedAt) the same way in every order', () => {
    const x = a.descriptor({ bandwidth: 1 });
    const y = a.descriptor({ bandwidth: 2 });
    const winner = Buffer.compare(x.bytes, y.bytes) > 0 ? x : y;
    const v1 = view();
    v1.offer(a.peerId, x.bytes);
    v1.offer(a.peerId, y.bytes);
    const v2 = view();
    v2.offer(a.peerId, y.bytes);
    v2.offer(a.peerId, x.bytes);
    assert.deepEqual(v1.get(a.peerId)?.signed.bytes, winner.bytes);
    assert.deepEqual(v2.get(a.peerId)?.signed.bytes, winner.bytes);
    assert.equal(isNewer(winner, winner === x ? y : x), true);
    assert.equal(isNewer(winner === x ? y : x, winner), false);
    assert.equal(isNewer(x, x), false);
  });

  it('refuses what does not verify, counting refusals by code', () => {
    const v = view();
    assert.equal(v.offer(a.peerId, new Uint8Array([1, 2, 3])), 'refused');
    assert.equal(v.offer(a.peerId, a.descriptor({ expiresAt: ms(NOW - 1) }).bytes), 'refused');
    assert.equal(v.offer(a.peerId, a.descriptor({ roles: 0 }).bytes), 'refused');
    assert.equal(v.offer(a.peerId, new Uint8Array(0)), 'refused');
    const tampered = a.descriptor().bytes.slice();
    tampered[75 + 10] = (tampered[75 + 10] ?? 0) ^ 1; // inside the first onion key: signature breaks
    assert.equal(v.offer(a.peerId, tampered), 'refused');
    assert.equal(v.size, 0);
    assert.deepEqual(Object.fromEntries(v.refusals), {
      MALFORMED: 2,
      EXPIRED: 1,
      NO_ROLES: 1,
      BAD_SIGNATURE: 1,
    });
  });

  it('refuses a descriptor offered under another peer id, or under a non-Ed25519 or garbage id', () => {
    const v = view();
    assert.equal(v.offer(b.peerId, a.descriptor().bytes), 'refused');
    assert.equal(v.offer('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', a.descriptor().bytes), 'refused');
    assert.equal(v.offer('not a peer id', a.descriptor().bytes), 'refused');
    assert.equal(v.refusals.get('IDENTITY_MISMATCH'), 3);
    assert.equal(v.has(b.peerId), false);
    assert.equal(v.size, 0);
  });

  it('does not let a refused offer disturb the entry it already has', () => {
    const v = view();
    const good = a.descriptor();
    v.offer(a.peerId, good.bytes);
    assert.equal(v.offer(a.peerId, b.descriptor({ sequence: 99n }).bytes), 'refused');
    assert.deepEqual(v.get(a.peerId)?.signed.bytes, good.bytes);
  });

  it('keeps at most maxRelays, refusing new relays (VIEW_FULL) but still updating known ones', () => {
    const v = view({ maxRelays: 2 });
    assert.equal(v.offer(a.peerId, a.descriptor().bytes), 'added');
    assert.equal(v.offer(b.peerId, b.descriptor().bytes), 'added');
    const c = relay(3);
    assert.equal(v.offer(c.peerId, c.descriptor().bytes), 'refused');
    assert.equal(v.refusals.get('VIEW_FULL'), 1);
    assert.equal(v.size, 2);
    assert.equal(v.offer(a.peerId, a.descriptor({ sequence: 100n }).bytes), 'updated');
    assert.equal(v.has(c.peerId), false);
  });
});

describe('RelayView.sweep and onChange', () => {
  const a = relay(1);
  const b = relay(2);

  it('removes expired relays with the injected clock and emits added/removed', () => {
    const c = clock();
    const v = view({ now: c.now });
    const events: string[] = [];
    const off = v.onChange((event, peerId) => events.push(`${event}:${peerId === a.peerId ? 'a' : 'b'}`));
    v.offer(a.peerId, a.descriptor({ expiresAt: ms(NOW + HOUR) }).bytes);
    v.offer(b.peerId, b.descriptor({ expiresAt: ms(NOW + 3 * HOUR) }).bytes);
    v.offer(a.peerId, a.descriptor({ sequence: 8n, expiresAt: ms(NOW + HOUR) }).bytes); // update: no event
    assert.deepEqual(events, ['added:a', 'added:b']);

    assert.deepEqual(v.sweep(), []);
    c.set(NOW + HOUR - 1);
    assert.deepEqual(v.sweep(), []);
    c.set(NOW + HOUR); // expiresAt <= now: gone
    assert.deepEqual(v.sweep(), [a.peerId]);
    assert.equal(v.has(a.peerId), false);
    assert.equal(v.size, 1);
    assert.deepEqual(events, ['added:a', 'added:b', 'removed:a']);

    off();
    c.set(NOW + 3 * HOUR);
    assert.deepEqual(v.sweep(), [b.peerId]);
    assert.deepEqual(events, ['added:a', 'added:b', 'removed:a'], 'an unsubscribed listener hears nothing');
    assert.equal(v.size, 0);
  });

  it('records receivedAt from the clock on every update', () => {
    const c = clock();
    const v = view({ now: c.now });
    v.offer(a.peerId, a.descriptor().bytes);
    c.advance(1000);
    v.offer(a.peerId, a.descriptor({ sequence: 50n }).bytes);
    assert.equal(v.get(a.peerId)?.receivedAt, NOW + 1000);
  });
});

describe('RelayView persistence (RelayViewStore)', () => {
  const a = relay(1);
  const b = relay(2);
  const c3 = relay(3);

  it('a new view on the same file restores what was offered, and updates overwrite rows', () => {
    const path = dbPath();
    const store = new RelayViewStore(path);
    const v = view({ store });
    v.offer(a.peerId, a.descriptor().bytes);
    const newest = a.descriptor({ sequence: 20n });
    v.offer(a.peerId, newest.bytes);
    v.offer(b.peerId, b.descriptor().bytes);
    store.close();

    const store2 = new RelayViewStore(path);
    assert.equal(store2.loadAll().length, 2);
    const restored = view({ store: store2 });
    assert.equal(restored.load(), 2);
    assert.deepEqual(restored.get(a.peerId)?.signed.bytes, newest.bytes);
    assert.equal(restored.has(b.peerId), true);
    store2.close();
    store2.close(); // closing twice is harmless
  });

  it('sweep deletes rows too', () => {
    const path = dbPath();
    const c = clock();
    const store = new RelayViewStore(path);
    const v = view({ now: c.now, store });
    v.offer(a.peerId, a.descriptor({ expiresAt: ms(NOW + HOUR) }).bytes);
    v.offer(b.peerId, b.descriptor().bytes);
    c.set(NOW + HOUR);
    v.sweep();
    assert.deepEqual(
      store.loadAll().map((r) => r.peerId),
      [b.peerId],
    );
    store.close();
  });

  it('load drops rows that expired meanwhile, were tampered with, or sit under the wrong peer id', () => {
    const path = dbPath();
    const store = new RelayViewStore(path);
    view({ store }).offer(a.peerId, a.descriptor({ expiresAt: ms(NOW + HOUR) }).bytes);
    const good = b.descriptor({ expiresAt: ms(NOW + 5 * HOUR) });
    const tampered = good.bytes.slice();
    tampered[70] = (tampered[70] ?? 0) ^ 0xff; // bandwidth: signature no longer verifies
    store.put(b.peerId, good.bytes, good.descriptor.expiresAt, freshStanding(NOW));
    store.put(c3.peerId, b.descriptor().bytes, NOW + HOUR, freshStanding(NOW)); // another relay's descriptor
    store.put('12D3KooW-garbage', new Uint8Array([9, 9, 9]), NOW + HOUR, freshStanding(NOW));
    store.close();

    // Tamper with b's row directly in the file.
    const db = new DatabaseSync(path);
    db.prepare('UPDATE relays SET descriptor = ? WHERE peer_id = ?').run(tampered, b.peerId);
    db.close();

    const store2 = new RelayViewStore(path);
    const later = view({ now: () => NOW + 2 * HOUR, store: store2 });
    assert.equal(later.load(), 0);
    assert.equal(later.refusals.get('EXPIRED'), 1);
    assert.equal(later.refusals.get('BAD_SIGNATURE'), 1);
    assert.equal(later.refusals.get('IDENTITY_MISMATCH'), 2);
    assert.deepEqual(store2.loadAll(), [], 'refused rows are deleted');
    store2.close();
  });

  it('skips rows of the wrong column types', () => {
    const path = dbPath();
    new RelayViewStore(path).close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO relays (peer_id, descriptor, expires_at) VALUES (?, ?, ?)').run('x', 'text', 1);
    db.close();
    const store = new RelayViewStore(path);
    assert.deepEqual(store.loadAll(), []);
    store.close();
  });

  it('load without a store is a no-op; the store file is created on open', () => {
    assert.equal(view().load(), 0);
    const path = dbPath();
    const store = new RelayViewStore(path);
    assert.equal(existsSync(path), true);
    store.close();
  });
});
