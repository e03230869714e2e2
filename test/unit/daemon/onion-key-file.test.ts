import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateOnionKeyPair, type OnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { DaemonError } from '../../../src/daemon/errors.ts';
import { loadOnionKeys, rotateOnionKeys, saveOnionKeys } from '../../../src/daemon/onion-key-file.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-onion-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = () => join(dir, `onion-keys-${++n}.json`);
const ms = (t: number) => t as UnixMillis;
const T0 = 1_800_000_000_000;
const L = 7 * 24 * 3_600_000; // a lifetime divisible by 4
const windows = (keys: readonly OnionKeyPair[]) => keys.map((k) => [k.validFrom - T0, k.validUntil - T0]);

describe('rotateOnionKeys', () => {
  it('creates a current key valid for one lifetime from now', () => {
    const r = rotateOnionKeys([], T0, L);
    assert.equal(r.changed, true);
    assert.deepEqual(windows(r.keys), [[0, L]]);
    assert.equal(r.keys[0]?.x25519Public.length, 32);
    assert.equal(r.keys[0]?.mlkemPublic.length, 1184);
  });

  it('changes nothing while the current key has more than half its life left', () => {
    const start = rotateOnionKeys([], T0, L).keys;
    for (const t of [T0, T0 + 1, T0 + L / 2]) {
      const r = rotateOnionKeys(start, t, L);
      assert.equal(r.changed, false, `at +${t - T0}`);
      assert.deepEqual(windows(r.keys), [[0, L]]);
      assert.equal(r.keys[0], start[0], 'the very same key object');
    }
  });

  it('adds the next key once half the lifetime is gone, starting a quarter lifetime before the current ends', () => {
    const start = rotateOnionKeys([], T0, L).keys;
    const r = rotateOnionKeys(start, T0 + L / 2 + 1, L);
    assert.equal(r.changed, true);
    assert.deepEqual(windows(r.keys), [
      [0, L],
      [(3 * L) / 4, (3 * L) / 4 + L],
    ]);
    assert.notDeepEqual(r.keys[1]?.x25519Public, r.keys[0]?.x25519Public);
    // The overlap: both keys valid over [3L/4, L).
    const [cur, next] = r.keys;
    assert.ok(cur && next && next.validFrom < cur.validUntil);
    assert.equal(cur.validUntil - next.validFrom, L / 4);
    // Running again changes nothing.
    const again = rotateOnionKeys(r.keys, T0 + L / 2 + 2, L);
    assert.equal(again.changed, false);
    assert.equal(again.keys.length, 2);
  });

  it('drops an expired key (validUntil <= now) and keeps rolling', () => {
    let keys = rotateOnionKeys([], T0, L).keys;
    keys = rotateOnionKeys(keys, T0 + L / 2 + 1, L).keys;
    const atEnd = rotateOnionKeys(keys, T0 + L, L);
    assert.equal(atEnd.changed, true);
    assert.deepEqual(windows(atEnd.keys), [[(3 * L) / 4, (7 * L) / 4]]);
    // The next one's half life: a third key appears, overlapping the second by a quarter.
    const third = rotateOnionKeys(atEnd.keys, T0 + (3 * L) / 4 + L / 2 + 1, L);
    assert.deepEqual(windows(third.keys), [
      [(3 * L) / 4, (7 * L) / 4],
      [(6 * L) / 4, (10 * L) / 4],
    ]);
  });

  it('keeps an expired private key for the grace period, then drops it', () => {
    const G = 5 * 60_000;
    let keys = rotateOnionKeys([], T0, L).keys;
    keys = rotateOnionKeys(keys, T0 + L / 2 + 1, L, G).keys;
    const inGrace = rotateOnionKeys(keys, T0 + L + G - 1, L, G);
    assert.equal(inGrace.changed, false);
    assert.equal(inGrace.keys.length, 2);
    const pastGrace = rotateOnionKeys(keys, T0 + L + G, L, G);
    assert.equal(pastGrace.changed, true);
    assert.deepEqual(windows(pastGrace.keys), [[(3 * L) / 4, (7 * L) / 4]]);
  });

  it('replaces keys that all expired long ago with a fresh current key', () => {
    const old = rotateOnionKeys([], T0, L).keys;
    const r = rotateOnionKeys(old, T0 + 10 * L, L);
    assert.equal(r.changed, true);
    assert.deepEqual(windows(r.keys), [[10 * L, 11 * L]]);
  });

  it('sorts the keys it keeps by validFrom and does not modify its input', () => {
    const a = generateOnionKeyPair(ms(T0), ms(T0 + L));
    const b = generateOnionKeyPair(ms(T0 + (3 * L) / 4), ms(T0 + (7 * L) / 4));
    const input = [b, a];
    const r = rotateOnionKeys(input, T0 + L / 2 + 1, L);
    assert.deepEqual(r.keys, [a, b]);
    assert.equal(r.changed, false);
    assert.deepEqual(input, [b, a]);
  });

  it('never leaves a moment without a current key over many rotations (simulated weeks)', () => {
    let keys: OnionKeyPair[] = [];
    const step = L / 10;
    for (let t = T0; t < T0 + 5 * L; t += step) {
      keys = rotateOnionKeys(keys, t, L).keys;
      assert.ok(
        keys.some((k) => k.validFrom <= t && t < k.validUntil),
        `no current key at +${t - T0}`,
      );
      assert.ok(keys.length <= 2, `${keys.length} keys at +${t - T0}`);
      // Until the next rotation, some key stays valid: rotation only needs to run every `step`.
      assert.ok(keys.some((k) => k.validFrom <= t + step && t + step < k.validUntil));
    }
  });
});

describe('saveOnionKeys / loadOnionKeys', () => {
  it('round-trips keys, mode 0600', () => {
    const path = freshPath();
    const keys = rotateOnionKeys(rotateOnionKeys([], T0, L).keys, T0 + L / 2 + 1, L).keys;
    saveOnionKeys(path, keys);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const loaded = loadOnionKeys(path);
    assert.deepEqual(loaded, keys);
    saveOnionKeys(path, []);
    assert.deepEqual(loadOnionKeys(path), []);
  });

  it('a missing file gives []', () => {
    assert.deepEqual(loadOnionKeys(join(dir, 'absent.json')), []);
  });

  it('an unreadable path throws ONION_KEY_FILE', () => {
    const path = freshPath();
    mkdirSync(path);
    assert.throws(
      () => loadOnionKeys(path),
      (err: unknown) => err instanceof DaemonError && err.code === 'ONION_KEY_FILE',
    );
  });

  it('a damaged file gives [] rather than a throw or unusable keys', () => {
    const path = freshPath();
    const [key] = rotateOnionKeys([], T0, L).keys;
    assert.ok(key);
    saveOnionKeys(path, [key]);
    const good = JSON.parse(readFileSync(path, 'utf8')) as {
      version: number;
      keys: Record<string, unknown>[];
    };
    const stored = good.keys[0]!;
    const withKey = (patch: Record<string, unknown>) =>
      JSON.stringify({ version: 1, keys: [{ ...stored, ...patch }] });
    const cases = [
      '',
      '{',
      'null',
      '[]',
      '"text"',
      JSON.stringify({ version: 2, keys: good.keys }),
      JSON.stringify({ version: 1 }),
      JSON.stringify({ version: 1, keys: {} }),
      JSON.stringify({ version: 1, keys: [null] }),
      JSON.stringify({ version: 1, keys: [{}] }),
      withKey({ x25519Private: 'zz' }),
      withKey({ x25519Private: String(stored['x25519Private']).slice(2) }),
      withKey({ mlkemSeed: '' }),
      withKey({ x25519Public: '00' }),
      withKey({ mlkemPublic: String(stored['mlkemPublic']).slice(0, 100) }),
      withKey({ x25519Public: 'ab'.repeat(32) }), // does not belong to the private key
      withKey({ validFrom: 'yesterday' }),
      withKey({ validUntil: T0 - 1 }),
      withKey({ validFrom: -5 }),
    ];
    for (const text of cases) {
      writeFileSync(path, text);
      let loaded: OnionKeyPair[] | undefined;
      assert.doesNotThrow(
        () => {
          loaded = loadOnionKeys(path);
        },
        text.slice(0, 80),
      );
      assert.deepEqual(loaded, [], text.slice(0, 80));
    }
  });
});
