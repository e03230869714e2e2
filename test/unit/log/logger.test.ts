import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../../src/log/logger.ts';

test('a child logger (one per subsystem) keeps the redaction rules and adds its module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anonnet-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    const log = createLogger({ level: 'info', destination: path });
    log.child({ module: 'p2p' }).info({ seed: 's', payload: 'p', key: { privateKey: 'k' } }, 'child line');
    const line = JSON.parse(readFileSync(path, 'utf8').trim()) as Record<string, unknown>;
    assert.equal(line['module'], 'p2p');
    assert.equal(line['msg'], 'child line');
    assert.equal(line['seed'], undefined);
    assert.equal(line['payload'], undefined);
    assert.deepEqual(line['key'], {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
