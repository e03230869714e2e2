import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/daemon/atomic-file.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-atomic-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('writeFileAtomic', () => {
  it('writes a string, mode 0600 by default, leaving no temporary file', () => {
    const path = join(dir, 'a.json');
    writeFileAtomic(path, '{"x":1}\n');
    assert.equal(readFileSync(path, 'utf8'), '{"x":1}\n');
    assert.equal(mode(path), 0o600);
    assert.deepEqual(readdirSync(dir), ['a.json']);
  });

  it('writes bytes exactly, and an empty file', () => {
    const path = join(dir, 'b.bin');
    const data = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    writeFileAtomic(path, data);
    assert.deepEqual(new Uint8Array(readFileSync(path)), data);
    writeFileAtomic(path, new Uint8Array(0));
    assert.equal(readFileSync(path).length, 0);
  });

  it('replaces an existing file, taking the new mode', () => {
    const path = join(dir, 'c.txt');
    writeFileSync(path, 'old content that is longer');
    chmodSync(path, 0o644);
    writeFileAtomic(path, 'new');
    assert.equal(readFileSync(path, 'utf8'), 'new');
    assert.equal(mode(path), 0o600);
    writeFileAtomic(path, 'public', 0o640);
    assert.equal(mode(path), 0o640);
  });

  it('overwrites a temporary file left by an earlier crash of this process', () => {
    const path = join(dir, 'd.txt');
    writeFileSync(`${path}.tmp-${process.pid}`, 'torn garbage, much longer than the real content');
    writeFileAtomic(path, 'ok');
    assert.equal(readFileSync(path, 'utf8'), 'ok');
    assert.equal(
      readdirSync(dir).some((f) => f.startsWith('d.txt.tmp')),
      false,
    );
  });

  it('throws when the folder does not exist, creating nothing', () => {
    const missing = join(dir, 'no-such-dir', 'e.txt');
    assert.throws(() => writeFileAtomic(missing, 'x'), { code: 'ENOENT' });
  });
});
