// Path selection with a ledger (docs/economy.md, "The ledger's relay list is the list"; DESIGN.md
// decision 1): the candidates are the ledger's listed relays that have a live descriptor in the view,
// weighed by the ledger, so clients with different DHT views choose alike; a relay's claim of 4 GB/s
// buys it no more than its measured share; unmeasured relays weigh at most unmeasuredBandwidth; a
// penalised relay is never chosen.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CircuitError } from '../../../src/circuit/errors.ts';
import { GuardSet } from '../../../src/circuit/guards.ts';
import { candidates, selectPath } from '../../../src/circuit/path-selection.ts';
import { ledgerRelayList, type RelayList } from '../../../src/directory/ledger-relay-list.ts';
import type { RelayEntry } from '../../../src/directory/relay-view.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { HOUR, relay } from '../directory/relay-view-helpers.ts';
import { ledgerState, UNMEASURED } from './ledger-helpers.ts';
import { entry, NOW, pathOptions, seeded } from './path-helpers.ts';

const peer = (n: number) => relay(n).peerId;
const MiB = 1024 * 1024;
const ip = (n: number) => `10.${n}.0.1`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-path-ledger-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Candidates as comparable data: peer id → weight, plus the hop each would be. */
function candidateSet(view: readonly RelayEntry[], list: RelayList) {
  return candidates(view, pathOptions({ list }))
    .map((c) => ({
      peerId: c.entry.peerId,
      weight: c.weight,
      subnets: [...c.subnets].sort(),
      addresses: c.hop.addresses.map(String),
    }))
    .sort((a, b) => a.peerId.localeCompare(b.peerId));
}

describe('selectPath with the ledger relay list', () => {
  // Eight registered relays (two measured exits, one unmeasured, one penalised), in distinct /16s.
  const state = ledgerState([
    { n: 1, claim: 20 * MiB, measured: 10 * MiB, reputation: 'max' },
    { n: 2, claim: 20 * MiB, measured: 12 * MiB },
    { n: 3, claim: 20 * MiB, measured: 8 * MiB, reputation: 'max' },
    { n: 4, claim: 20 * MiB, measured: 9 * MiB },
    { n: 5, claim: 20 * MiB, measured: 11 * MiB, reputation: 'max' },
    { n: 6, claim: 20 * MiB, measured: 10 * MiB },
    { n: 7, claim: 4_000_000_000 }, // unmeasured
    { n: 8, claim: 20 * MiB, measured: 30 * MiB, bond: credits(0) }, // penalised
  ]);
  const list = ledgerRelayList(state);
  const exits = new Set([5, 6]);

  it('gives two clients with different DHT views the same candidates and weights', () => {
    // Client A knows the registered relays (descriptors claiming 1 MB/s) and two relays the ledger does
    // not list; client B knows the same registered relays under descriptors claiming 4 GB/s, with
    // evidence of its own (verified networks), and another unlisted relay, in another order.
    const viewA = [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => entry(n, { ip: ip(n), exit: exits.has(n) })),
      entry(20, { ip: ip(20), exit: true, bandwidth: 4_000_000_000 }),
      entry(21, { ip: ip(21) }),
    ];
    const viewB = [
      entry(22, { ip: ip(22), exit: true, verified: ['v4:10.22'] }),
      ...[8, 7, 6, 5, 4, 3, 2, 1].map((n) =>
        entry(n, { ip: ip(n), exit: exits.has(n), bandwidth: 4_000_000_000, verified: [`v4:10.${n}`] }),
      ),
    ];
    const a = candidateSet(viewA, list);
    const b = candidateSet(viewB, list);
    assert.deepEqual(a, b);
    // Exactly the listed, live relays: not the penalised one, none the ledger does not list.
    assert.deepEqual(
      a.map((c) => c.peerId),
      [1, 2, 3, 4, 5, 6, 7].map(peer).sort((x, y) => x.localeCompare(y)),
    );
    for (const c of a) {
      const n = [1, 2, 3, 4, 5, 6, 7].find((k) => peer(k) === c.peerId)!;
      assert.equal(
        c.weight,
        list.relays.get(Buffer.from(relay(n).identity.publicKey).toString('hex'))?.weight,
      );
    }
    // Without a ledger the two views differ (today's behaviour for --no-ledger networks).
    const noLedger = (v: readonly RelayEntry[]) =>
      candidates(v, pathOptions())
        .map((c) => c.entry.peerId)
        .sort();
    assert.notDeepEqual(noLedger(viewA), noLedger(viewB));

    // The same random stream picks the same paths from either view, over many paths.
    const guards = [peer(1), peer(2), peer(3)];
    const ordered = (v: readonly RelayEntry[]) => [...v].sort((x, y) => x.peerId.localeCompare(y.peerId)); // the same order of listed relays
    const ra = seeded(41);
    const rb = seeded(41);
    for (let i = 0; i < 500; i++) {
      const pa = selectPath(ordered(viewA), pathOptions({ list, random: ra, port: 443 }), guards);
      const pb = selectPath(ordered(viewB), pathOptions({ list, random: rb, port: 443 }), guards);
      assert.deepEqual(
        pa.map((h) => h.peerId),
        pb.map((h) => h.peerId),
      );
    }
  });

  it('uses a listed relay only with a live descriptor, and never one the ledger does not list', () => {
    const view = [1, 2, 3, 4, 5, 6].map((n) => entry(n, { ip: ip(n), exit: exits.has(n) }));
    // Relay 7 is listed but absent from the view: no keys, no addresses, not a candidate.
    assert.ok(!candidates(view, pathOptions({ list })).some((c) => c.entry.peerId === peer(7)));
    // An expired descriptor (the view not swept yet) is not live: the fixtures' descriptors expire at
    // NOW + 3 h, while their second onion key stays valid until NOW + 4 h.
    const expiry = NOW + 3 * HOUR;
    assert.equal(candidates(view, pathOptions({ list, now: expiry - 1 })).length, view.length);
    assert.equal(candidates(view, pathOptions({ list, now: expiry })).length, 0);
    // A relay whose probe failed is not live.
    const failed = [...view, entry(7, { ip: ip(7), probeFailures: 2 })];
    assert.ok(!candidates(failed, pathOptions({ list })).some((c) => c.entry.peerId === peer(7)));
    // An empty list: no path at all, whatever the view knows.
    const empty = ledgerRelayList(ledgerState([]));
    assert.throws(
      () => selectPath(view, pathOptions({ list: empty }), [peer(1)]),
      (e: unknown) => e instanceof CircuitError && e.code === 'NO_PATH',
    );
    // A guard the ledger does not list is not used, even if this client chose it before.
    const withUnlisted = [...view, entry(30, { ip: ip(30) })];
    assert.throws(
      () => selectPath(withUnlisted, pathOptions({ list, port: 443 }), [peer(30)]),
      (e: unknown) => e instanceof CircuitError && e.code === 'NO_PATH',
    );
  });

  it('keeps the network, family and exit-policy rules', () => {
    const rules = ledgerState([1, 2, 3, 4, 5, 6].map((n) => ({ n, claim: 20 * MiB, measured: 10 * MiB })));
    const view = [
      entry(1, { ip: '10.1.0.1' }),
      entry(2, { ip: '10.1.7.7' }), // 1's network
      entry(3, { ip: ip(3), family: [4] }),
      entry(4, { ip: ip(4), family: [3], exit: true }), // 3's family
      entry(5, { ip: ip(5), exit: true, exitPolicy: ['accept *:443', 'reject *:*'] }),
      entry(6, { ip: ip(6) }),
    ];
    const l = ledgerRelayList(rules);
    const random = seeded(42);
    for (let i = 0; i < 300; i++) {
      const ids = selectPath(view, pathOptions({ list: l, random, port: 80 }), [peer(3), peer(1)]).map(
        (h) => h.peerId,
      );
      assert.equal(ids[2], peer(4), 'only 4 exits to port 80');
      assert.equal(ids[0], peer(1), 'guard 3 is 4s family');
      assert.notEqual(ids[1], peer(2), 'relay 2 shares guard 1s network');
    }
  });

  it('makes new guards only of listed relays, drawn by their weight', () => {
    const weights = ledgerState([
      { n: 1, claim: 100 * MiB, measured: 90 * MiB, reputation: 'max' },
      ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => ({
        n,
        claim: 100 * MiB,
        measured: 10 * MiB,
        reputation: 'max' as const,
      })),
    ]);
    const l = ledgerRelayList(weights);
    const view = [
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => entry(n, { ip: ip(n) })),
      entry(30, { ip: ip(30) }),
    ];
    let heavy = 0;
    const trials = 600;
    for (let i = 0; i < trials; i++) {
      const g = new GuardSet(join(dir, `guards-${i}.json`), { count: 1, lifetimeMs: HOUR });
      const [id] = g.current(view, pathOptions({ list: l, random: seeded(1000 + i) }));
      assert.ok(id !== undefined && id !== peer(30), 'an unlisted relay never becomes a guard');
      if (id === peer(1)) heavy++;
    }
    // Relay 1 weighs half the total: about half the first guards, where a uniform draw gives a tenth.
    assert.ok(
      heavy > 0.4 * trials && heavy < 0.6 * trials,
      `heavy relay was the guard ${heavy} of ${trials}`,
    );
  });
});

describe('weights against a relay that claims 4 GB/s', () => {
  // Twenty honest relays measured at about 10 MiB/s (±5%), every one an exit, plus relay 60, whose
  // registration and descriptor both claim 4 GB/s.
  const honest = [...Array(20).keys()].map((i) => 40 + i);
  const LIAR = 60;
  const PENALISED = 61;
  const measuredHonest = (n: number) => Math.round(10 * MiB * (0.95 + ((n * 7) % 11) / 100));
  const meanHonest = honest.reduce((s, n) => s + measuredHonest(n), 0) / honest.length;
  const view = [
    ...honest.map((n) => entry(n, { ip: ip(n), exit: true })),
    entry(LIAR, { ip: ip(LIAR), exit: true, bandwidth: 4_000_000_000 }),
    entry(PENALISED, { ip: ip(PENALISED), exit: true, bandwidth: 4_000_000_000 }),
  ];
  const guards = [peer(40), peer(41), peer(42)];
  const N = 20_000;

  /** Shares of the exit and middle positions over N paths. */
  function shares(list: RelayList, seed: number) {
    const random = seeded(seed);
    const exit = new Map<string, number>();
    const middle = new Map<string, number>();
    const opts = pathOptions({ list, random, port: 443 });
    for (let i = 0; i < N; i++) {
      const [g, m, e] = selectPath(view, opts, guards).map((h) => h.peerId);
      assert.ok(g !== undefined && guards.includes(g));
      exit.set(e!, (exit.get(e!) ?? 0) + 1);
      middle.set(m!, (middle.get(m!) ?? 0) + 1);
    }
    return {
      exit: (id: string) => (exit.get(id) ?? 0) / N,
      middle: (id: string) => (middle.get(id) ?? 0) / N,
      exitCounts: exit,
      middleCounts: middle,
    };
  }

  it('measured like the others, it is the exit at most 1.2x its fair share; a penalised relay never', () => {
    const state = ledgerState([
      ...honest.map((n) => ({ n, claim: 20 * MiB, measured: measuredHonest(n) })),
      { n: LIAR, claim: 4_000_000_000, measured: Math.round(meanHonest) },
      { n: PENALISED, claim: 4_000_000_000, measured: 4_000_000_000, bond: credits(0) },
    ]);
    const list = ledgerRelayList(state);
    const s = shares(list, 7);
    const fairExit = 1 / 21; // 21 listed exits of about equal measured bandwidth
    assert.ok(
      s.exit(peer(LIAR)) <= 1.2 * fairExit,
      `liar exit share ${s.exit(peer(LIAR))} (fair ${fairExit})`,
    );
    // And it is still used: weights follow measurement, the claim neither helps nor hurts.
    assert.ok(s.exit(peer(LIAR)) >= 0.8 * fairExit, `liar exit share ${s.exit(peer(LIAR))}`);
    // The middle: 19 relays left after a guard and an exit.
    const fairMiddle = 1 / 19;
    assert.ok(s.middle(peer(LIAR)) <= 1.2 * fairMiddle, `liar middle share ${s.middle(peer(LIAR))}`);
    assert.equal(s.exitCounts.get(peer(PENALISED)), undefined);
    assert.equal(s.middleCounts.get(peer(PENALISED)), undefined);
  });

  it('unmeasured, it weighs at most unmeasuredBandwidth whatever it claims', () => {
    const state = ledgerState([
      ...honest.map((n) => ({ n, claim: 20 * MiB, measured: measuredHonest(n), reputation: 'max' as const })),
      { n: LIAR, claim: 4_000_000_000, reputation: 'max' },
    ]);
    const list = ledgerRelayList(state);
    const liarWeight = candidates(view, pathOptions({ list })).find(
      (c) => c.entry.peerId === peer(LIAR),
    )?.weight;
    assert.equal(liarWeight, UNMEASURED);
    const total = honest.reduce((sum, n) => sum + measuredHonest(n), 0) + UNMEASURED;
    const expected = UNMEASURED / total; // ~0.5%
    const s = shares(list, 8);
    assert.ok(
      s.exit(peer(LIAR)) <= 1.2 * expected + 0.002,
      `unmeasured liar exit share ${s.exit(peer(LIAR))} (expected ${expected})`,
    );
    // The honest relays share the rest by their measurement: the fastest beats the slowest.
    const fastest = honest.reduce((a, b) => (measuredHonest(a) >= measuredHonest(b) ? a : b));
    const slowest = honest.reduce((a, b) => (measuredHonest(a) <= measuredHonest(b) ? a : b));
    assert.ok(s.exit(peer(fastest)) > s.exit(peer(slowest)));
  });
});
