import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../../src/crypto/identity.ts';
import { verifyPow } from '../../../src/crypto/pow.ts';
import { DaemonError } from '../../../src/daemon/errors.ts';
import { loadOrCreateIdentity, solvePowAsync } from '../../../src/daemon/identity-file.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-identity-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshPath = () => join(dir, `identity-${++n}.json`);
const mode = (path: string) => statSync(path).mode & 0o777;
const isIdentityFileError = (pattern: RegExp) => (err: unknown) =>
  err instanceof DaemonError && err.code === 'IDENTITY_FILE' && pattern.test(err.message);

describe('loadOrCreateIdentity', () => {
  it('creates an identity with valid proof-of-work, stored mode 0600', async () => {
    const path = freshPath();
    const made = await loadOrCreateIdentity(path, 6);
    assert.equal(made.created, true);
    assert.equal(made.identity.publicKey.length, 32);
    assert.equal(verifyPow(made.identity.publicKey, made.powNonce, 6), true);
    assert.equal(mode(path), 0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(stored).sort(), ['powNonce', 'seed', 'version']);
    assert.equal(stored['version'], 1);
    assert.equal(stored['seed'], Buffer.from(made.identity.seed).toString('hex'));
    assert.equal(stored['powNonce'], made.powNonce.toString());
    const msg = new TextEncoder().encode('m');
    assert.equal(verifySignature(made.identity.publicKey, msg, made.identity.sign(msg)), true);
  });

  it('reuses the stored key on the next load (created=false), without rewriting the file', async () => {
    const path = freshPath();
    const first = await loadOrCreateIdentity(path, 6);
    const before = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtimeMs;
    const second = await loadOrCreateIdentity(path, 6);
    assert.equal(second.created, false);
    assert.deepEqual(second.identity.publicKey, first.identity.publicKey);
    assert.equal(second.powNonce, first.powNonce);
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.equal(statSync(path).mtimeMs, mtime);
    const lower = await loadOrCreateIdentity(path, 0);
    assert.equal(lower.powNonce, first.powNonce, 'a lower difficulty keeps the stored nonce');
  });

  it('re-solves the proof-of-work for a raised difficulty, keeping the key, and saves it', async () => {
    const path = freshPath();
    const first = await loadOrCreateIdentity(path, 0);
    assert.equal(first.powNonce, 0n, 'difficulty 0: the first nonce');
    const raised = await loadOrCreateIdentity(path, 10);
    assert.equal(raised.created, false);
    assert.deepEqual(raised.identity.publicKey, first.identity.publicKey);
    assert.equal(verifyPow(raised.identity.publicKey, raised.powNonce, 10), true);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { powNonce: string };
    assert.equal(stored.powNonce, raised.powNonce.toString());
    assert.equal(mode(path), 0o600);
    const again = await loadOrCreateIdentity(path, 10);
    assert.equal(again.powNonce, raised.powNonce);
  });

  it('refuses a damaged file with IDENTITY_FILE and leaves it in place', async () => {
    const seed = 'ab'.repeat(32);
    const cases = [
      '',
      'not json',
      'null',
      '[]',
      JSON.stringify({ version: 2, seed, powNonce: '1' }),
      JSON.stringify({ seed, powNonce: '1' }),
      JSON.stringify({ version: 1, seed: seed.slice(2), powNonce: '1' }),
      JSON.stringify({ version: 1, seed: seed.toUpperCase(), powNonce: '1' }),
      JSON.stringify({ version: 1, seed: 'zz'.repeat(32), powNonce: '1' }),
      JSON.stringify({ version: 1, seed, powNonce: 1 }),
      JSON.stringify({ version: 1, seed, powNonce: '-1' }),
      JSON.stringify({ version: 1, seed, powNonce: '0x10' }),
      JSON.stringify({ version: 1, seed, powNonce: '1'.repeat(21) }),
      JSON.stringify({ version: 1, seed }),
    ];
    for (const text of cases) {
      const path = freshPath();
      writeFileSync(path, text);
      await assert.rejects(loadOrCreateIdentity(path, 0), isIdentityFileError(/is damaged/), text);
      assert.equal(readFileSync(path, 'utf8'), text);
    }
  });

  it('refuses an unreadable path with IDENTITY_FILE', async () => {
    const path = freshPath();
    mkdirSync(path);
    await assert.rejects(loadOrCreateIdentity(path, 0), isIdentityFileError(/cannot read identity file/));
  });

  it('honours an abort signal, before and during the proof-of-work, writing nothing', async () => {
    const path = freshPath();
    const reason = new Error('stop');
    await assert.rejects(
      loadOrCreateIdentity(path, 4, { signal: AbortSignal.abort(reason) }),
      (err) => err === reason,
    );
    assert.throws(() => readFileSync(path), { code: 'ENOENT' });

    // Difficulty 40 would take hours; the abort must cut it short.
    const started = Date.now();
    await assert.rejects(
      loadOrCreateIdentity(path, 40, { signal: AbortSignal.timeout(50) }),
      (err: unknown) => err instanceof DOMException && err.name === 'TimeoutError',
    );
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    assert.throws(() => readFileSync(path), { code: 'ENOENT' });
  });

  it('aborting a re-solve keeps the old file', async () => {
    const path = freshPath();
    await loadOrCreateIdentity(path, 0);
    const before = readFileSync(path, 'utf8');
    await assert.rejects(loadOrCreateIdentity(path, 40, { signal: AbortSignal.timeout(30) }));
    assert.equal(readFileSync(path, 'utf8'), before);
  });
});

describe('solvePowAsync', () => {
  it('finds the same nonce as a linear search, across chunk boundaries', async () => {
    const key = new Uint8Array(32).fill(7);
    const nonce = await solvePowAsync(key, 16);
    assert.equal(verifyPow(key, nonce, 16), true);
    for (let i = 0n; i < nonce; i++) assert.equal(verifyPow(key, i, 16), false);
  });
});
