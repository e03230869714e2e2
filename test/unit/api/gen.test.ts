// src/api/gen/ is what `npm run gen:proto` makes from proto/: regenerate into a temporary directory
// and compare byte for byte, so a proto change without regenerating fails here with the fix named.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin');

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

test('src/api/gen matches a fresh `buf generate` of proto/ (else run `npm run gen:proto`)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'anonnet-gen-'));
  try {
    await promisify(execFile)(join(bin, 'buf'), ['generate', '-o', out], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    });
    const fresh = join(out, 'src/api/gen');
    const committed = join(root, 'src/api/gen');
    const names = listFiles(fresh).sort();
    assert.deepEqual(listFiles(committed).sort(), names, 'the same files (run `npm run gen:proto`)');
    for (const n of names) {
      assert.ok(
        readFileSync(join(fresh, n), 'utf8') === readFileSync(join(committed, n), 'utf8'),
        `src/api/gen/${n} is out of date: run \`npm run gen:proto\``,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('buf lint accepts proto/', async () => {
  await promisify(execFile)(join(bin, 'buf'), ['lint'], { cwd: root });
});
