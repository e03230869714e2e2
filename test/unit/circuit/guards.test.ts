// Entry guards: chosen once, persisted, reused by the next instance, replaced when they leave the view
// (or stop being usable) and when they reach the end of their lifetime; skipped while unreachable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GuardSet } from '../../../src/circuit/guards.ts';
import type { RelayEntry } from '../../../src/directory/relay-view.ts';
import { entry, NOW, pathOptions, seeded } from './path-helpers.ts';

const MINUTE = 60_000;
const opts = { count: 2, lifetimeMs: 30 * MINUTE };

let dir: string;
let files = 0;
const guardFile = () => join(dir, `guards-${++files}.json`);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-guards-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const view: RelayEntry[] = [1, 2, 3, 4, 5, 6].map((n) =>
  entry(50 + n, { ip: `10.${50 + n}.0.1`, exit: n === 6 }),
);

function stored(path: string): Array<{ peerId: string; chosenAt: number }> {
  const v = JSON.parse(readFileSync(path, 'utf8')) as {
    version: number;
    guards: Array<{ peerId: string; chosenAt: number }>;
  };
  assert.equal(v.version, 1);
  return v.guards;
}

describe('GuardSet', () => {
  it('chooses `count` usable guards and persists them (0600)', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    const ids = g.current(view, pathOptions({ random: seeded(1) }));
    assert.equal(ids.length, 2);
    assert.equal(new Set(ids).size, 2);
    for (const id of ids) assert.ok(view.some((e) => e.peerId === id));
    assert.deepEqual(
      stored(path).map((s) => s.peerId),
      ids,
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // Asked again: the same guards.
    assert.deepEqual(g.current(view, pathOptions({ random: seeded(99), now: NOW + MINUTE })), ids);
  });

  it('reuses the persisted guards in a new instance', () => {
    const path = guardFile();
    const first = new GuardSet(path, opts).current(view, pathOptions({ random: seeded(2) }));
    for (const seed of [3, 4, 5]) {
      const again = new GuardSet(path, opts).current(
        view,
        pathOptions({ random: seeded(seed), now: NOW + 10 * MINUTE }),
      );
      assert.deepEqual(again, first);
    }
    assert.ok(
      stored(path).every((s) => s.chosenAt === NOW),
      'reuse does not re-choose',
    );
  });

  it('replaces a guard that is no longer usable, keeping the other', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    const [a, b] = g.current(view, pathOptions({ random: seeded(6) })) as [string, string];
    const without = view.filter((e) => e.peerId !== a);
    const now = g.current(without, pathOptions({ random: seeded(7), now: NOW + MINUTE }));
    assert.equal(now.length, 2);
    assert.ok(now.includes(b), 'the usable guard stays');
    assert.ok(!now.includes(a));
    // A guard we must avoid (or that is ourselves) is not usable either.
    const c = now.find((id) => id !== b)!;
    const later = g.current(
      view,
      pathOptions({ random: seeded(8), now: NOW + 2 * MINUTE, avoid: new Set([c]) }),
    );
    assert.ok(later.includes(b) && !later.includes(c));
  });

  it('never hands out more than `count` guards, even when a replaced guard comes back', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    const [a] = g.current(view, pathOptions({ random: seeded(9) })) as [string, string];
    g.current(
      view.filter((e) => e.peerId !== a),
      pathOptions({ random: seeded(10), now: NOW + MINUTE }),
    );
    const back = g.current(view, pathOptions({ random: seeded(11), now: NOW + 2 * MINUTE }));
    assert.equal(back.length, 2, back.join(' '));
    assert.ok(back.includes(a), 'the first-chosen guard is preferred again');
  });

  it('skips a guard found unreachable without replacing it', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    const [a, b] = g.current(view, pathOptions({ random: seeded(20) })) as [string, string];
    const down = g.current(view, pathOptions({ random: seeded(21), now: NOW + MINUTE }), new Set([a]));
    assert.deepEqual(down, [b]);
    assert.deepEqual(
      stored(path).map((s) => s.peerId),
      [a, b],
      'no guard was added',
    );
    assert.deepEqual(g.current(view, pathOptions({ random: seeded(22), now: NOW + 2 * MINUTE })), [a, b]);
  });

  it('when every guard is unreachable, adds one more guard once and goes back to the first ones', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    const [a, b] = g.current(view, pathOptions({ random: seeded(23) })) as [string, string];
    const both = new Set([a, b]);
    const [c, ...rest] = g.current(view, pathOptions({ random: seeded(24), now: NOW + MINUTE }), both);
    assert.equal(rest.length, 0);
    assert.ok(c !== undefined && !both.has(c));
    const again = g.current(view, pathOptions({ random: seeded(25), now: NOW + 2 * MINUTE }), both);
    assert.deepEqual(again, [c], 'the added guard is kept, not another one chosen');
    assert.equal(stored(path).length, 3);
    assert.deepEqual(g.current(view, pathOptions({ random: seeded(26), now: NOW + 3 * MINUTE })), [a, b]);
    // Nothing reachable left at all: no guard (the caller then tries without the health filter).
    const all = new Set(view.map((e) => e.peerId));
    assert.deepEqual(g.current(view, pathOptions({ random: seeded(27), now: NOW + 4 * MINUTE }), all), []);
  });

  it('replaces guards at the end of their lifetime', () => {
    const path = guardFile();
    const g = new GuardSet(path, opts);
    g.current(view, pathOptions({ random: seeded(12) }));
    const later = NOW + opts.lifetimeMs + MINUTE;
    // Onion keys of the fixture descriptors are valid for two hours: still usable then.
    const ids = new GuardSet(path, opts).current(view, pathOptions({ random: seeded(13), now: later }));
    assert.equal(ids.length, 2);
    const s = stored(path);
    assert.equal(s.length, 2);
    assert.ok(
      s.every((x) => x.chosenAt === later),
      'every guard was chosen again',
    );
  });

  it('starts afresh from a missing or unreadable file, and with too few relays uses what exists', () => {
    const path = guardFile();
    writeFileSync(path, '{not json');
    const g = new GuardSet(path, opts);
    const one = g.current(view.slice(0, 1), pathOptions({ random: seeded(14) }));
    assert.deepEqual(one, [view[0]!.peerId]);
    assert.deepEqual(g.current([], pathOptions({ random: seeded(15) })), []);
    writeFileSync(path, JSON.stringify({ version: 2, guards: [{ peerId: view[1]!.peerId, chosenAt: NOW }] }));
    const fresh = new GuardSet(path, opts).current(view, pathOptions({ random: seeded(16) }));
    assert.equal(fresh.length, 2);
  });

  it('chooses new guards among relays it has seen work when there are any, never a failed one', () => {
    const mixed: RelayEntry[] = [
      entry(71, { ip: '10.71.0.1', verified: ['v4:10.71'] }),
      entry(72, { ip: '10.72.0.1' }),
      entry(73, { ip: '10.73.0.1' }),
      entry(74, { ip: '10.74.0.1', probeFailures: 2 }),
    ];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const ids = new GuardSet(guardFile(), opts).current(mixed, pathOptions({ random: seeded(seed) }));
      assert.deepEqual(ids, [mixed[0]!.peerId], 'only the proven relay, even if fewer than `count`');
    }
    // All proven relays down: no unproven relay takes a guard place.
    const g = new GuardSet(guardFile(), opts);
    g.current(mixed, pathOptions({ random: seeded(10) }));
    assert.deepEqual(g.current(mixed, pathOptions({ random: seeded(11) }), new Set([mixed[0]!.peerId])), []);
    const unproven = mixed.slice(1);
    for (const seed of [7, 8, 9]) {
      const ids = new GuardSet(guardFile(), opts).current(unproven, pathOptions({ random: seeded(seed) }));
      assert.equal(ids.length, 2);
      assert.ok(!ids.includes(mixed[3]!.peerId));
    }
  });
});
