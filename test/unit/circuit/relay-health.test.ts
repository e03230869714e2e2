// Relays found unreachable sit out path selection for a backoff that doubles per failure in a row, is
// capped, ends early when a circuit is built through the relay, and is bounded in memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayHealth } from '../../../src/circuit/relay-health.ts';

const opts = { baseMs: 1_000, maxMs: 5_000, maxEntries: 3 };

describe('RelayHealth', () => {
  it('leaves a failed relay out for the base backoff, then lets it back', () => {
    const h = new RelayHealth(opts);
    h.markUnreachable('a', 0);
    assert.ok(h.isUnreachable('a', 999));
    assert.deepEqual([...h.unreachable(999)], ['a']);
    assert.ok(!h.isUnreachable('a', 1_000));
    assert.deepEqual([...h.unreachable(1_000)], []);
    assert.ok(!h.isUnreachable('b', 0), 'a relay never marked is reachable');
  });

  it('doubles the backoff with each failure in a row, up to the cap', () => {
    const h = new RelayHealth(opts);
    const ends: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      h.markUnreachable('a', now);
      let t = now;
      while (h.isUnreachable('a', t)) t += 100;
      ends.push(t - now);
      now = t;
    }
    assert.deepEqual(ends, [1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('forgets the failures of a relay a circuit was built through', () => {
    const h = new RelayHealth(opts);
    h.markUnreachable('a', 0);
    h.markUnreachable('a', 0);
    h.markReachable('a');
    assert.ok(!h.isUnreachable('a', 0));
    h.markUnreachable('a', 10_000);
    assert.ok(!h.isUnreachable('a', 11_000), 'back to the base backoff');
  });

  it('remembers at most maxEntries relays, dropping ended backoffs first', () => {
    const h = new RelayHealth(opts);
    h.markUnreachable('old', 0); // ended by t=1000
    h.markUnreachable('b', 2_000);
    h.markUnreachable('c', 2_000);
    h.markUnreachable('d', 2_000);
    assert.equal(h.size, 3);
    assert.deepEqual([...h.unreachable(2_000)].sort(), ['b', 'c', 'd']);
    // All still backing off: the oldest failure goes.
    h.markUnreachable('e', 2_100);
    assert.equal(h.size, 3);
    assert.deepEqual([...h.unreachable(2_100)].sort(), ['c', 'd', 'e']);
  });
});
