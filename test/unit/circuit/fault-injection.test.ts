// The test-only cell fault injection: refused outside test-network mode, inert until triggered, one
// flipped backward cell once triggered, and exactly one claimer among several relays.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TAMPER_ENV, tampererFromEnv } from '../../../src/circuit/fault-injection.ts';
import { CELL_BYTES } from '../../../src/wire/cell.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('test-only cell fault injection', () => {
  it('is off without the variable and refused outside test-network mode', () => {
    assert.equal(tampererFromEnv({}, false), undefined);
    assert.throws(
      () => tampererFromEnv({ [TAMPER_ENV]: '/tmp/x' }, false),
      (err: Error & { code?: string }) => err.code === 'FAULT_INJECTION_REFUSED',
    );
  });

  it('flips one bit of one backward cell, once, and only one of two relays claims it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anonnet-fault-'));
    const file = join(dir, 'flip');
    const a = tampererFromEnv({ [TAMPER_ENV]: file }, true, 10)!;
    const b = tampererFromEnv({ [TAMPER_ENV]: file }, true, 10)!;
    try {
      const cell = new Uint8Array(CELL_BYTES);
      a.tamper(cell, 'backward');
      assert.ok(
        cell.every((x) => x === 0),
        'untouched before the trigger',
      );
      writeFileSync(file, '');
      await sleep(60);
      a.tamper(cell, 'forward');
      assert.ok(
        cell.every((x) => x === 0),
        'forward cells are left alone',
      );
      a.tamper(cell, 'backward');
      const flipped = cell.reduce((n, x) => n + (x === 0 ? 0 : 1), 0);
      assert.equal(flipped, 1);
      const other = new Uint8Array(CELL_BYTES);
      b.tamper(other, 'backward');
      a.tamper(other, 'backward');
      assert.ok(
        other.every((x) => x === 0),
        'one flip in all',
      );
      assert.deepEqual(readdirSync(dir), [`flip.${process.pid}`]);
    } finally {
      a.stop();
      b.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
