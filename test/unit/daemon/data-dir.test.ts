import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { files, lockDataDir, prepareDataDir } from '../../../src/daemon/data-dir.ts';
import { DaemonError } from '../../../src/daemon/errors.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'anonnet-datadir-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  const dir = join(root, `d${++n}`);
  prepareDataDir(dir);
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;
const isDaemonError = (code: string) => (err: unknown) =>
  err instanceof DaemonError && err.name === 'DaemonError' && err.code === code;

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.equal(r.status, 0);
  assert.ok(r.pid > 0);
  return r.pid;
}

describe('prepareDataDir', () => {
  it('creates nested folders, the data directory mode 0700', () => {
    const dir = join(root, 'nested', 'deeper', 'data');
    prepareDataDir(dir);
    assert.equal(mode(dir), 0o700);
  });

  it('tightens an existing folder that others can read', () => {
    const dir = join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    prepareDataDir(dir);
    assert.equal(mode(dir), 0o700);
    prepareDataDir(dir); // again: no change, no error
    assert.equal(mode(dir), 0o700);
  });

  it('refuses a path that is a file, or under one, with DATA_DIR', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    assert.throws(() => prepareDataDir(file), isDaemonError('DATA_DIR'));
    assert.throws(() => prepareDataDir(join(file, 'sub')), isDaemonError('DATA_DIR'));
  });
});

describe('lockDataDir', () => {
  it('writes our pid mode 0600; release removes it and is idempotent', () => {
    const dir = freshDir();
    const release = lockDataDir(dir);
    const lock = join(dir, files.lock);
    assert.equal(readFileSync(lock, 'utf8'), `${process.pid}\n`);
    assert.equal(mode(lock), 0o600);
    release();
    assert.equal(existsSync(lock), false);
    release();
    const again = lockDataDir(dir);
    assert.equal(existsSync(lock), true);
    again();
  });

  it('refuses a lock held by a live process with LOCKED, naming its pid, and leaves it alone', () => {
    const dir = freshDir();
    const lock = join(dir, files.lock);
    const live = process.ppid; // the test runner: alive for as long as this test runs
    assert.notEqual(live, process.pid);
    writeFileSync(lock, `${live}\n`);
    assert.throws(
      () => lockDataDir(dir),
      (err: unknown) => isDaemonError('LOCKED')(err) && (err as Error).message.includes(`pid ${live}`),
    );
    assert.equal(readFileSync(lock, 'utf8'), `${live}\n`);
  });

  it('takes over a stale lock left by a dead process', () => {
    const dir = freshDir();
    const lock = join(dir, files.lock);
    writeFileSync(lock, `${deadPid()}\n`);
    const release = lockDataDir(dir);
    assert.equal(readFileSync(lock, 'utf8'), `${process.pid}\n`);
    release();
    assert.equal(existsSync(lock), false);
  });

  it('takes over a lock file with garbage or empty content, or our own pid', () => {
    for (const content of ['garbage', '', '\n', `${process.pid}\n`]) {
      const dir = freshDir();
      const lock = join(dir, files.lock);
      writeFileSync(lock, content);
      const release = lockDataDir(dir);
      assert.equal(readFileSync(lock, 'utf8'), `${process.pid}\n`, JSON.stringify(content));
      release();
    }
  });

  it('refuses a data directory that does not exist with DATA_DIR', () => {
    assert.throws(() => lockDataDir(join(root, 'missing')), isDaemonError('DATA_DIR'));
  });
});
