// The relay view's bounds and eviction policy (src/directory/relay-view.ts, docs/security.md section
// 11): a newcomer takes only a free place or the place of a relay ranking strictly below it; ranking
// is evidence first (failed probe < nothing < verified address or circuits < both), then age; one
// network holds at most maxPerSubnet places, counted where a relay was verified, else everywhere it
// claims. Properties: under any flood, the bounds hold, the per-network index matches the entries,
// and established relays (verified and used) are never pushed out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import fc from 'fast-check';
import { accountingSubnets, RelayView, type RelayViewLimits } from '../../../src/directory/relay-view.ts';
import { RelayViewStore } from '../../../src/directory/relay-view-store.ts';
import { clock, makeVerify, relay } from './relay-view-helpers.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-view-eviction-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const signedCache = new Map<string, Uint8Array>();
/** Relay n's descriptor listing one TCP address per IPv4 address given (cached: signing is slow). */
function desc(n: number, ips: readonly string[]): Uint8Array {
  const key = `${n}|${ips.join(',')}`;
  let bytes = signedCache.get(key);
  if (bytes === undefined) {
    bytes = relay(n).descriptor({ addresses: ips.map((ip) => multiaddr(`/ip4/${ip}/tcp/4950`).bytes) }).bytes;
    signedCache.set(key, bytes);
  }
  return bytes;
}
const id = (n: number) => relay(n).peerId;

function makeView(limits: RelayViewLimits, opts: { selfId?: string; store?: RelayViewStore } = {}) {
  const c = clock();
  const connected = new Map<string, string>();
  const view = new RelayView({
    verify: makeVerify(c.now),
    now: c.now,
    limits,
    connectedSubnet: (peerId) => connected.get(peerId),
    ...(opts.selfId ? { selfId: opts.selfId } : {}),
    ...(opts.store ? { store: opts.store } : {}),
  });
  return { view, c, connected };
}

describe('RelayView eviction', () => {
  it('refuses a fresh relay when every held relay ranks alike or above (VIEW_FULL)', () => {
    const { view, c } = makeView({ maxRelays: 3, maxPerSubnet: 10 });
    for (const n of [1, 2, 3]) {
      assert.equal(view.offer(id(n), desc(n, [`10.${n}.0.1`])), 'added');
      c.advance(1000);
    }
    assert.equal(view.offer(id(4), desc(4, ['10.4.0.1'])), 'refused');
    assert.equal(view.refusals.get('VIEW_FULL'), 1);
    assert.deepEqual(
      view.list().map((e) => e.peerId),
      [id(1), id(2), id(3)],
    );
  });

  it('lets a verified newcomer take the place of the youngest relay known only by its descriptor', () => {
    const { view, c, connected } = makeView({ maxRelays: 3, maxPerSubnet: 10 });
    for (const n of [1, 2, 3]) {
      view.offer(id(n), desc(n, [`10.${n}.0.1`]));
      c.advance(1000);
    }
    view.markConnected(id(3), 'v4:10.3'); // 3 is verified: 2 is now the youngest unverified relay
    connected.set(id(4), 'v4:10.4'); // we are connected to 4 when its descriptor arrives
    assert.equal(view.offer(id(4), desc(4, ['10.4.0.1'])), 'added');
    assert.equal(view.has(id(2)), false);
    assert.equal(view.evictions.get('VIEW_FULL'), 1);
    assert.deepEqual(view.get(id(4))?.standing.verifiedSubnets, ['v4:10.4']);
  });

  it('lets any newcomer take the place of a relay whose probe failed, most failures first', () => {
    const { view, c } = makeView({ maxRelays: 3, maxPerSubnet: 10 });
    for (const n of [1, 2, 3]) {
      view.offer(id(n), desc(n, [`10.${n}.0.1`]));
      c.advance(1000);
    }
    view.markProbeFailed(id(1));
    view.markProbeFailed(id(2));
    view.markProbeFailed(id(2));
    assert.equal(view.offer(id(4), desc(4, ['10.4.0.1'])), 'added');
    assert.equal(view.has(id(2)), false, 'two failures go before one');
    assert.equal(view.offer(id(5), desc(5, ['10.5.0.1'])), 'added');
    assert.equal(view.has(id(1)), false);
    // A relay that answers again is as good as new: it is no longer the first to go.
    view.markProbeFailed(id(3));
    view.markConnected(id(3), 'v4:10.3');
    assert.equal(view.offer(id(6), desc(6, ['10.6.0.1'])), 'refused');
    assert.equal(view.has(id(3)), true);
  });

  it('holds at most maxPerSubnet relays of one network; the lowest-ranked of it goes first', () => {
    const { view, c, connected } = makeView({ maxRelays: 100, maxPerSubnet: 2 });
    view.offer(id(1), desc(1, ['10.1.0.1']));
    c.advance(1000);
    view.offer(id(2), desc(2, ['10.1.0.2']));
    c.advance(1000);
    assert.equal(view.offer(id(3), desc(3, ['10.1.0.3'])), 'refused');
    assert.equal(view.refusals.get('SUBNET_FULL'), 1);
    // Other networks are not affected.
    assert.equal(view.offer(id(4), desc(4, ['10.2.0.1'])), 'added');
    // A verified relay of 10.1/16 pushes out the youngest unverified one there.
    connected.set(id(5), 'v4:10.1');
    assert.equal(view.offer(id(5), desc(5, ['10.1.0.5'])), 'added');
    assert.equal(view.has(id(2)), false);
    assert.equal(view.subnetCount('v4:10.1'), 2);
    assert.equal(view.evictions.get('SUBNET_FULL'), 1);
  });

  it('counts an unverified relay in every network it claims: listing many networks wins nothing', () => {
    const { view } = makeView({ maxRelays: 100, maxPerSubnet: 1 });
    view.offer(id(1), desc(1, ['10.1.0.1']));
    assert.equal(view.offer(id(2), desc(2, ['10.9.0.1', '10.1.0.2'])), 'refused');
    assert.equal(view.offer(id(3), desc(3, ['10.9.0.1', '10.8.0.1'])), 'added');
    assert.equal(view.subnetCount('v4:10.9'), 1);
    assert.equal(view.subnetCount('v4:10.8'), 1);
  });

  it('moves a relay to the network it connected from; in a full network the lowest-ranked leaves', () => {
    const { view, c } = makeView({ maxRelays: 100, maxPerSubnet: 2 });
    for (const n of [1, 2]) {
      view.offer(id(n), desc(n, [`10.1.0.${n}`]));
      view.markConnected(id(n), 'v4:10.1');
      c.advance(1000);
    }
    // Relays 3 and 4 claim far-away networks but connect from 10.1/16.
    view.offer(id(3), desc(3, ['10.50.0.1']));
    c.advance(1000);
    view.offer(id(4), desc(4, ['10.51.0.1']));
    view.markCircuitBuilt(id(4)); // 4 carried a circuit: it will rank above 1 and 2 once verified
    assert.equal(view.subnetCount('v4:10.50'), 1);
    view.markConnected(id(3), 'v4:10.1');
    assert.equal(view.has(id(3)), false, 'the youngest verified relay of a full network leaves');
    assert.equal(view.subnetCount('v4:10.50'), 0);
    view.markConnected(id(4), 'v4:10.1');
    assert.equal(view.has(id(4)), true);
    assert.equal(view.has(id(2)), false, 'it pushed out the youngest of the network');
    assert.equal(view.subnetCount('v4:10.1'), 2);
    assert.equal(view.subnetCount('v4:10.51'), 0);
  });

  it('keeps the old descriptor when an update claims a network that has no room for it', () => {
    const { view, c } = makeView({ maxRelays: 100, maxPerSubnet: 1 });
    view.offer(id(1), desc(1, ['10.1.0.1']));
    c.advance(1000);
    const first = desc(2, ['10.2.0.1']);
    view.offer(id(2), first);
    const moved = relay(2).descriptor({ sequence: 99n, addresses: [multiaddr('/ip4/10.1.0.9/tcp/1').bytes] });
    assert.equal(view.offer(id(2), moved.bytes), 'refused');
    assert.deepEqual(view.get(id(2))?.signed.bytes, first);
    assert.equal(view.subnetCount('v4:10.2'), 1);
  });

  it('never evicts this node itself', () => {
    const { view, c, connected } = makeView({ maxRelays: 2, maxPerSubnet: 1 }, { selfId: id(1) });
    view.offer(id(1), desc(1, ['10.1.0.1']));
    c.advance(1000);
    // A relay verified in our own network still ranks below us: the network's one place is ours.
    connected.set(id(3), 'v4:10.1');
    assert.equal(view.offer(id(3), desc(3, ['10.1.0.3'])), 'refused');
    // A full view gives up another relay's place, not ours.
    view.offer(id(2), desc(2, ['10.2.0.1']));
    connected.set(id(4), 'v4:10.4');
    assert.equal(view.offer(id(4), desc(4, ['10.4.0.1'])), 'added');
    assert.equal(view.has(id(1)), true);
    assert.equal(view.has(id(2)), false);
  });

  it('keeps standings across a restart, so long-known relays stay ahead of fresh ones', () => {
    const path = join(dir, 'standing.sqlite');
    const store = new RelayViewStore(path);
    const first = makeView({ maxRelays: 3, maxPerSubnet: 10 }, { store });
    first.view.offer(id(1), desc(1, ['10.1.0.1']));
    first.view.markConnected(id(1), 'v4:10.1');
    first.view.markCircuitBuilt(id(1));
    first.c.advance(1000);
    first.view.offer(id(2), desc(2, ['10.2.0.1']));
    first.view.markProbeFailed(id(2));
    store.close();

    const store2 = new RelayViewStore(path);
    const second = makeView({ maxRelays: 3, maxPerSubnet: 10 }, { store: store2 });
    second.c.advance(5000);
    assert.equal(second.view.load(), 2);
    const s1 = second.view.get(id(1))?.standing;
    assert.deepEqual(s1?.verifiedSubnets, ['v4:10.1']);
    assert.equal(s1?.circuitsBuilt, 1);
    assert.equal(second.view.get(id(2))?.standing.probeFailures, 1);
    assert.ok((s1?.firstSeenAt ?? Infinity) < (second.view.get(id(2))?.standing.firstSeenAt ?? 0));
    store2.close();
  });

  it('a restart with smaller limits keeps the best-ranked relays', () => {
    const path = join(dir, 'shrink.sqlite');
    const store = new RelayViewStore(path);
    const first = makeView({ maxRelays: 10, maxPerSubnet: 10 }, { store });
    for (const n of [1, 2, 3, 4]) {
      first.view.offer(id(n), desc(n, [`10.${n}.0.1`]));
      first.c.advance(1000);
    }
    first.view.markConnected(id(4), 'v4:10.4');
    store.close();
    const store2 = new RelayViewStore(path);
    const second = makeView({ maxRelays: 2, maxPerSubnet: 10 }, { store: store2 });
    assert.equal(second.view.load(), 2);
    assert.deepEqual(
      second.view
        .list()
        .map((e) => e.peerId)
        .sort(),
      [id(1), id(4)].sort(),
    );
    store2.close();
  });
});

/** Networks a flood may claim or connect from: few, so per-network caps are hit often. */
const NETS = ['10.1', '10.2', '10.3', '172.16', '172.17'];
const ESTABLISHED = [100, 101, 102, 103];

type Op =
  | { kind: 'offer'; n: number; nets: number[] }
  | { kind: 'connect'; n: number; net: number }
  | { kind: 'circuit'; n: number }
  | { kind: 'probeFail'; n: number }
  | { kind: 'tick' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('offer' as const),
      n: fc.integer({ min: 0, max: 39 }),
      nets: fc.uniqueArray(fc.integer({ min: 0, max: NETS.length - 1 }), { minLength: 1, maxLength: 3 }),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('connect' as const),
      n: fc.integer({ min: 0, max: 39 }),
      net: fc.integer({ min: 0, max: NETS.length - 1 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('circuit' as const), n: fc.integer({ min: 0, max: 39 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('probeFail' as const), n: fc.integer({ min: 0, max: 39 }) }),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: 'tick' as const }), weight: 1 },
);

describe('RelayView under a flood (property)', () => {
  it('holds its bounds, keeps its index exact, and never pushes out established relays', () => {
    const limits = { maxRelays: 12, maxPerSubnet: 4 };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const { view, c, connected } = makeView(limits);
        // Established relays: one per network, verified there, and each carried a circuit.
        ESTABLISHED.forEach((n, i) => {
          assert.equal(view.offer(id(n), desc(n, [`${NETS[i]}.0.${n}`])), 'added');
          view.markConnected(id(n), `v4:${NETS[i]}`);
          view.markCircuitBuilt(id(n));
          c.advance(1000);
        });
        for (const op of ops) {
          c.advance(100);
          if (op.kind === 'offer') {
            view.offer(
              id(op.n),
              desc(
                op.n,
                op.nets.map((k) => `${NETS[k]}.9.${op.n}`),
              ),
            );
          } else if (op.kind === 'connect') {
            connected.set(id(op.n), `v4:${NETS[op.net]}`);
            view.markConnected(id(op.n), `v4:${NETS[op.net]}`);
          } else if (op.kind === 'circuit') view.markCircuitBuilt(id(op.n));
          else if (op.kind === 'probeFail') view.markProbeFailed(id(op.n));
          else c.advance(60_000);

          assert.ok(view.size <= limits.maxRelays, `size ${view.size}`);
          const counts = new Map<string, number>();
          for (const e of view.list())
            for (const s of accountingSubnets(e)) counts.set(s, (counts.get(s) ?? 0) + 1);
          for (const [s, k] of counts) {
            assert.ok(k <= limits.maxPerSubnet, `${s} holds ${k}`);
            assert.equal(view.subnetCount(s), k, `index of ${s}`);
          }
          for (const net of NETS) assert.equal(view.subnetCount(`v4:${net}`), counts.get(`v4:${net}`) ?? 0);
          for (const n of ESTABLISHED) assert.ok(view.has(id(n)), `established relay ${n} was pushed out`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('admits a verified newcomer into a view full of relays known only by their descriptors', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { minLength: 8, maxLength: 8 }),
        (flood) => {
          const { view, c, connected } = makeView({ maxRelays: 8, maxPerSubnet: 8 });
          for (const n of flood) {
            view.offer(id(n), desc(n, [`10.${n}.0.1`]));
            c.advance(10);
          }
          assert.equal(view.size, 8);
          connected.set(id(100), 'v4:172.16');
          assert.equal(view.offer(id(100), desc(100, ['172.16.0.1'])), 'added');
          assert.equal(view.size, 8);
          // The one that left is the youngest of the flood.
          assert.equal(view.has(id(flood.at(-1)!)), false);
        },
      ),
      { numRuns: 20 },
    );
  });
});
