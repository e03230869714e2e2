// Claimed heights (hardening issue, class 3): they expire, go with their peer, are ignored for a
// doubling while after failing to deliver, and the sync peer is chosen so a liar gains nothing by
// claiming more. Token buckets: each peer gets its share of a total.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HeightClaims } from '../../../src/consensus/height-claims.ts';
import { SharedBuckets, TokenBucket } from '../../../src/consensus/net/token-bucket.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('HeightClaims', () => {
  it('a claim expires unless repeated, and goes with its peer', () => {
    const c = clock();
    const claims = new HeightClaims({ ttlMs: 1000 }, c.now);
    claims.note('liar', 2 ** 40);
    assert.equal(claims.height('liar'), 2 ** 40);
    c.advance(900);
    claims.note('liar', 5);
    assert.equal(claims.height('liar'), 2 ** 40, 'the highest unexpired claim, refreshed');
    c.advance(900);
    assert.equal(claims.highest(), 2 ** 40);
    c.advance(200);
    assert.equal(claims.height('liar'), 0, 'expired');
    assert.equal(claims.highest(), 0);
    assert.equal(claims.pick(0), undefined);
    claims.note('honest', 10);
    claims.forget('honest');
    assert.equal(claims.size, 0);
    claims.note('a', 10);
    claims.prune(10);
    assert.equal(claims.size, 0, 'met by a commit');
  });

  it('a claim that does not deliver is ignored for a doubling while; a delivery clears it', () => {
    const c = clock();
    const claims = new HeightClaims({ penaltyMs: 1000, maxPenaltyMs: 3000 }, c.now);
    claims.note('liar', 100);
    claims.failed('liar');
    assert.equal(claims.height('liar'), 0);
    claims.note('liar', 100);
    assert.equal(claims.height('liar'), 0, 'ignored while penalised');
    c.advance(1001);
    claims.note('liar', 100);
    claims.failed('liar');
    c.advance(1500);
    assert.ok(claims.penalized('liar'), 'second failure: 2000 ms');
    c.advance(600);
    assert.ok(!claims.penalized('liar'));
    claims.failed('liar');
    claims.failed('liar');
    c.advance(3001);
    assert.ok(!claims.penalized('liar'), 'capped at maxPenaltyMs');
    claims.forget('liar');
    claims.failed('liar');
    assert.ok(claims.penalized('liar'), 'reconnecting does not clear a penalty');
  });

  it('asks a peer that delivered before, then the lowest claim above our height', () => {
    const c = clock();
    const claims = new HeightClaims({}, c.now);
    claims.note('liar', 2 ** 40);
    claims.note('honest', 12);
    claims.note('behind', 9);
    assert.equal(claims.pick(10), 'honest', 'the lowest claim above 10');
    claims.delivered('liar');
    assert.equal(claims.pick(10), 'liar', 'a peer that delivered comes first');
    assert.equal(claims.pick(2 ** 41), undefined);
  });

  it('holds at most maxPeers claims, making room from expired ones', () => {
    const c = clock();
    const claims = new HeightClaims({ maxPeers: 3, ttlMs: 100 }, c.now);
    for (const p of ['a', 'b', 'c', 'd']) claims.note(p, 5);
    assert.equal(claims.size, 3);
    assert.equal(claims.height('d'), 0);
    c.advance(101);
    claims.note('d', 5);
    assert.equal(claims.height('d'), 5);
  });
});

describe('token buckets', () => {
  it('a bucket passes its capacity at once, then its rate, and may go into debt for one large take', () => {
    const b = new TokenBucket(10, 20, 0);
    let n = 0;
    while (b.take(1, 0)) n++;
    assert.equal(n, 20);
    assert.ok(b.take(1, 150), 'refilled 1.5 tokens in 150 ms');
    const big = new TokenBucket(10, 20, 0);
    assert.ok(big.take(35, 0), 'one take larger than the capacity passes');
    assert.equal(big.tokens, -15);
    assert.ok(!big.take(1, 1000), 'then waits for the debt');
    assert.ok(big.take(1, 1600));
  });

  it('every peer gets its share of the total, however many peers there are', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), (peers, seconds) => {
        const c = clock();
        const perPeer = 100;
        const total = 1000;
        const buckets = new SharedBuckets({ perPeer, total, burstSeconds: 1 }, c.now);
        const taken = new Map<string, number>();
        const names = Array.from({ length: peers }, (_, i) => `p${i}`);
        for (const p of names) buckets.take(p, 0);
        for (let ms = 0; ms < seconds * 1000; ms += 10) {
          for (const p of names) if (buckets.take(p, 1)) taken.set(p, (taken.get(p) ?? 0) + 1);
          c.advance(10);
        }
        const share = Math.min(perPeer, total / peers);
        let sum = 0;
        for (const p of names) {
          const n = taken.get(p) ?? 0;
          sum += n;
          // At most its burst plus its rate over the time, and no peer is starved.
          assert.ok(n <= share * (seconds + 1) + 2, `${p}: ${n} > ${share * (seconds + 1)}`);
          assert.ok(n >= Math.floor(share * seconds) - 1, `${p} starved: ${n}`);
        }
        assert.ok(sum <= total * (seconds + 1) + peers * 2, 'the total holds');
      }),
      { numRuns: 60 },
    );
  });
});
