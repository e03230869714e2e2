// Path selection: distinct relays, one relay per /16 unless allowed, an exit whose policy accepts the
// port, the guard first, NO_PATH when the view cannot supply a path, and bandwidth weighting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitError } from '../../../src/circuit/errors.ts';
import { candidates, selectPath } from '../../../src/circuit/path-selection.ts';
import type { RelayEntry } from '../../../src/directory/relay-view.ts';
import { claimedSubnets } from '../../../src/directory/subnet.ts';
import { HOUR, relay } from '../directory/relay-view-helpers.ts';
import { entry, NOW, pathOptions, seeded } from './path-helpers.ts';

const peer = (n: number) => relay(n).peerId;

/** Six relays in six /16s; 5 and 6 are exits (6 only for port 443). */
const view: RelayEntry[] = [
  entry(1, { ip: '10.1.0.1' }),
  entry(2, { ip: '10.2.0.1' }),
  entry(3, { ip: '10.3.0.1' }),
  entry(4, { ip: '10.4.0.1' }),
  entry(5, { ip: '10.5.0.1', exit: true }),
  entry(6, { ip: '10.6.0.1', exit: true, exitPolicy: ['accept *:443', 'reject *:*'] }),
];

/** NO_EXIT when no exit accepts the port (the proxy answers "not allowed by ruleset"), else NO_PATH. */
function noPath(fn: () => unknown, code: 'NO_PATH' | 'NO_EXIT' = 'NO_PATH'): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CircuitError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

describe('selectPath', () => {
  it('picks distinct relays, the guard first and an exit last', () => {
    const random = seeded(1);
    for (let i = 0; i < 200; i++) {
      const path = selectPath(view, pathOptions({ random, port: 80 }), [peer(1), peer(2)]);
      assert.equal(path.length, 3);
      const ids = path.map((h) => h.peerId);
      assert.equal(new Set(ids).size, 3, ids.join(' '));
      assert.ok([peer(1), peer(2)].includes(ids[0]!), 'first hop is a guard');
      assert.equal(ids[2], peer(5), 'only relay 5 exits to port 80');
      for (const hop of path) {
        assert.equal(hop.addresses.length, 1);
        assert.ok(hop.addresses[0]!.toString().endsWith(`/p2p/${hop.peerId}`));
      }
    }
  });

  it('chooses the exit by port policy', () => {
    const random = seeded(2);
    const exits = new Set<string>();
    for (let i = 0; i < 100; i++)
      exits.add(selectPath(view, pathOptions({ random, port: 443 }), [peer(1)]).at(-1)!.peerId);
    assert.deepEqual([...exits].sort(), [peer(5), peer(6)].sort());
    // Before any request (no port), any exit with an accept rule will do.
    assert.ok(
      [peer(5), peer(6)].includes(selectPath(view, pathOptions({ random }), [peer(1)]).at(-1)!.peerId),
    );
    // Without relay 5, only 443 has an exit.
    const only443 = view.filter((e) => e.peerId !== peer(5));
    assert.equal(selectPath(only443, pathOptions({ random, port: 443 }), [peer(1)]).at(-1)!.peerId, peer(6));
    noPath(() => selectPath(only443, pathOptions({ random, port: 80 }), [peer(1)]), 'NO_EXIT');
    noPath(() => selectPath(only443, pathOptions({ random, port: 25, hops: 1 }), []), 'NO_EXIT');
  });

  it('never puts two relays of one /16 on a path unless allowSameSubnet', () => {
    // Three relays, two of them in 10.1/16: no 3-hop path without allowSameSubnet.
    const crowded = [
      entry(11, { ip: '10.1.0.1' }),
      entry(12, { ip: '10.1.200.7' }),
      entry(13, { ip: '10.9.0.1', exit: true }),
    ];
    noPath(() => selectPath(crowded, pathOptions({ random: seeded(3) }), [peer(11)]));
    const path = selectPath(crowded, pathOptions({ random: seeded(3), allowSameSubnet: true }), [peer(11)]);
    assert.deepEqual(
      path.map((h) => h.peerId),
      [peer(11), peer(12), peer(13)],
    );

    // A bigger view with shared /16s: every path keeps its hops in distinct /16s.
    const mixed = [
      ...view,
      entry(7, { ip: '10.1.9.9' }),
      entry(8, { ip: '10.5.7.7' }),
      entry(9, { ip: '10.2.1.1', exit: true }),
    ];
    const subnetOfPeer = new Map(
      mixed.map((e) => [e.peerId, claimedSubnets(e.signed.descriptor.addresses)[0]]),
    );
    const random = seeded(4);
    for (let i = 0; i < 200; i++) {
      const ids = selectPath(mixed, pathOptions({ random, port: 80 }), [peer(1), peer(7)]).map(
        (h) => h.peerId,
      );
      assert.equal(new Set(ids.map((id) => subnetOfPeer.get(id))).size, 3, ids.join(' '));
    }
  });

  it('fails with NO_PATH when no guard is usable, too few relays, or zero hops', () => {
    const random = seeded(5);
    noPath(() => selectPath(view, pathOptions({ random }), []));
    noPath(() => selectPath(view, pathOptions({ random }), ['12D3KooWnotInTheView']));
    // The only guard is the only exit for the port: taken by the exit, so no guard is left.
    noPath(() => selectPath(view, pathOptions({ random, port: 80 }), [peer(5)]));
    noPath(() => selectPath(view.slice(4, 6), pathOptions({ random, hops: 3 }), [peer(5), peer(6)]));
    noPath(() => selectPath(view, pathOptions({ random, hops: 0 }), [peer(1)]));
    noPath(() => selectPath([], pathOptions({ random }), [peer(1)]));
    // Four hops need four distinct relays: fine here; seven are too many.
    assert.equal(selectPath(view, pathOptions({ random, hops: 4 }), [peer(1)]).length, 4);
    noPath(() => selectPath(view, pathOptions({ random, hops: 7 }), [peer(1)]));
  });

  it('skips ourselves, avoided relays, non-relays and relays without a current onion key', () => {
    const opts = pathOptions({ selfId: peer(1), avoid: new Set([peer(2)]) });
    const withDescriptor = (e: RelayEntry, d: Partial<RelayEntry['signed']['descriptor']>): RelayEntry => ({
      ...e,
      signed: { ...e.signed, descriptor: { ...e.signed.descriptor, ...d } },
    });
    const stale = entry(20, { ip: '10.20.0.1' });
    const noKey = withDescriptor(stale, {
      onionKeys: stale.signed.descriptor.onionKeys.map((k) => ({ ...k, validUntil: k.validFrom })),
    });
    const notRelay = withDescriptor(entry(21, { ip: '10.21.0.1' }), { roles: 0 });
    const ids = candidates([...view, noKey, notRelay], opts).map((c) => c.entry.peerId);
    assert.deepEqual(ids.sort(), [peer(3), peer(4), peer(5), peer(6)].sort());
    // The onion key chosen is the one valid now.
    const c = candidates(view, pathOptions({ now: NOW }))[0]!;
    assert.ok(c.hop.onionKey.validFrom <= NOW && NOW < c.hop.onionKey.validUntil);
    assert.equal(candidates(view, pathOptions({ now: NOW + 10 * HOUR })).length, 0);
  });

  it('weights relays by claimed bandwidth, capped at the median claim of their pool', () => {
    // Claims 0.5, 1, 1, 3 MB/s and 0: the lower median is 1 MB/s, so 3 MB/s weighs 1 MB/s.
    const weighted = [
      entry(31, { ip: '10.31.0.1', exit: true, bandwidth: 500_000 }),
      entry(32, { ip: '10.32.0.1', exit: true, bandwidth: 1_000_000 }),
      entry(33, { ip: '10.33.0.1', exit: true, bandwidth: 1_000_000 }),
      entry(34, { ip: '10.34.0.1', exit: true, bandwidth: 3_000_000 }),
      entry(35, { ip: '10.35.0.1', exit: true, bandwidth: 0 }), // counted as 1 byte/s: almost never
    ];
    const random = seeded(6);
    const counts = new Map<string, number>();
    const N = 7000;
    for (let i = 0; i < N; i++) {
      const id = selectPath(weighted, pathOptions({ random, hops: 1 }), [])[0]!.peerId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const share = (n: number) => (counts.get(peer(n)) ?? 0) / N;
    assert.ok(Math.abs(share(34) - 1 / 3.5) < 0.03, `3 MB/s claim got ${share(34)}`);
    assert.ok(Math.abs(share(31) - 0.5 / 3.5) < 0.03, `0.5 MB/s claim got ${share(31)}`);
    assert.ok((counts.get(peer(35)) ?? 0) <= 2);

    // A larger multiple lets claims above the median count, up to that multiple.
    const loose = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const id = selectPath(weighted, pathOptions({ random, hops: 1, unmeasuredWeightCap: 3 }), [])[0]!
        .peerId;
      loose.set(id, (loose.get(id) ?? 0) + 1);
    }
    const looseShare = (loose.get(peer(34)) ?? 0) / N;
    assert.ok(Math.abs(looseShare - 3 / 5.5) < 0.03, `3 MB/s claim with cap 3x got ${looseShare}`);
  });

  it('gives a relay claiming 4 GB/s at most its fair share, as exit and as middle', () => {
    // Nine honest exits at 10 MiB/s (the default claim) and one liar claiming 4 GB/s (the u32 limit).
    const honest = [...Array(9).keys()].map((i) =>
      entry(50 + i, { ip: `10.${50 + i}.0.1`, exit: true, bandwidth: 10 * 1024 * 1024 }),
    );
    const liar = entry(60, { ip: '10.60.0.1', exit: true, bandwidth: 4_000_000_000 });
    const relays = [...honest, liar];
    const guards = [peer(50), peer(51), peer(52)];
    const random = seeded(11);
    const N = 6000;
    let asExit = 0;
    let asMiddle = 0;
    for (let i = 0; i < N; i++) {
      const ids = selectPath(relays, pathOptions({ random, port: 443 }), guards).map((h) => h.peerId);
      if (ids[2] === liar.peerId) asExit++;
      if (ids[1] === liar.peerId) asMiddle++;
    }
    // Fair share of the exit position: 1 in 10 (every relay is an exit). Before the cap: ~100%.
    const fairExit = N / 10;
    assert.ok(asExit <= 1.5 * fairExit, `liar was the exit of ${asExit} of ${N} (fair ${fairExit})`);
    // Middles are chosen among the 8 relays left after the exit and the guard.
    const fairMiddle = N / 8;
    assert.ok(
      asMiddle <= 1.5 * fairMiddle,
      `liar was the middle of ${asMiddle} of ${N} (fair ${fairMiddle})`,
    );
  });

  it('puts a relay in every network it names or was seen in, so a false first address does not help', () => {
    // Relay 71 really is in 10.70/16 (we saw it connect from there) but its descriptor's first address
    // is in 10.99/16; relay 72 lists a second address in 10.70/16 behind a first one in 10.98/16.
    const relays = [
      entry(70, { ip: '10.70.0.1' }),
      entry(71, { ip: '10.99.0.1', verified: ['v4:10.70'] }),
      entry(72, { ip: '10.98.0.1', moreAddresses: ['/ip4/10.70.5.5/tcp/4950'] }),
      entry(73, { ip: '10.73.0.1', exit: true }),
      entry(74, { ip: '10.74.0.1' }),
    ];
    const random = seeded(12);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const ids = selectPath(relays, pathOptions({ random, port: 80 }), [peer(70)]).map((h) => h.peerId);
      assert.equal(ids[0], peer(70));
      seen.add(ids[1]!);
      assert.ok(![peer(71), peer(72)].includes(ids[1]!), `a relay of 10.70/16 was the middle after guard 70`);
    }
    assert.deepEqual([...seen], [peer(74)]);
    // With only those two as middles, there is no path at all.
    const only = relays.filter((e) => e.peerId !== peer(74));
    noPath(() => selectPath(only, pathOptions({ random, port: 80 }), [peer(70)]));
  });

  it('tries another exit when the one chosen leaves no path (a relay naming every network)', () => {
    // Exit 81 lists an address in the network of every relay but the guard: it passes the guard check,
    // then leaves no middle. It must not make path selection fail while exit 82 works.
    const everywhere = ['/ip4/10.83.0.9/tcp/1', '/ip4/10.84.0.9/tcp/1', '/ip4/10.82.0.9/tcp/1'];
    const relays = [
      entry(80, { ip: '10.80.0.1' }),
      entry(81, { ip: '10.81.0.1', exit: true, moreAddresses: everywhere, bandwidth: 4_000_000_000 }),
      entry(82, { ip: '10.82.0.1', exit: true }),
      entry(83, { ip: '10.83.0.1' }),
      entry(84, { ip: '10.84.0.1' }),
    ];
    const random = seeded(13);
    for (let i = 0; i < 200; i++) {
      const ids = selectPath(relays, pathOptions({ random, port: 80 }), [peer(80)]).map((h) => h.peerId);
      assert.equal(ids[2], peer(82));
    }
  });

  it('never uses a relay whose probe failed; prefers relays with evidence while they suffice', () => {
    const proven = (n: number, exit = false) =>
      entry(n, { ip: `10.${n}.0.1`, exit, verified: [`v4:10.${n}`] });
    const relays = [
      proven(90),
      proven(91),
      proven(92, true),
      entry(93, { ip: '10.93.0.1', exit: true }), // known only by its descriptor
      entry(94, { ip: '10.94.0.1', exit: true, probeFailures: 1 }), // its address did not answer
    ];
    const random = seeded(14);
    const used = new Set<string>();
    for (let i = 0; i < 300; i++)
      for (const h of selectPath(relays, pathOptions({ random, port: 80 }), [peer(90)])) used.add(h.peerId);
    assert.deepEqual([...used].sort(), [peer(90), peer(91), peer(92)].sort());
    // Without the proven exit, the unproven one fills in; the failed one never.
    const noProvenExit = relays.filter((e) => e.peerId !== peer(92));
    for (let i = 0; i < 100; i++) {
      const ids = selectPath(noProvenExit, pathOptions({ random, port: 80 }), [peer(90)]).map(
        (h) => h.peerId,
      );
      assert.equal(ids[2], peer(93));
    }
    assert.ok(!candidates(relays, pathOptions()).some((c) => c.entry.peerId === peer(94)));
  });
});
