// `anonnet node --check-config` in a process of its own: exit 0 and a summary for a good configuration,
// 2 and the fields named for a bad one, and in both cases nothing started (no data directory made).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'anonnet-check-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function anonnet(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANONNET_')));
  return spawnSync(process.execPath, [MAIN, 'node', ...args], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('anonnet node --check-config', () => {
  it('exits 0 with a summary of file, env and flags, starting nothing', () => {
    const dataDir = join(dir, 'data-ok');
    const file = join(dir, 'ok.toml');
    writeFileSync(file, '[relay]\nroles = ["relay", "exit"]\n[proxy]\nhttpPort = 8200\n');
    const r = anonnet(['--check-config', '--config', file, '--data-dir', dataDir, '--circuits-hops', '4'], {
      ANONNET_PROXY_SOCKS_PORT: 'off',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /configuration ok/);
    assert.match(r.stdout, /roles {11}relay, exit/);
    assert.match(r.stdout, /socks proxy {5}off/);
    assert.match(r.stdout, /http proxy {6}127\.0\.0\.1:8200/);
    assert.match(r.stdout, /circuits {8}4 hops/);
    assert.equal(existsSync(dataDir), false, 'the data directory is not created');
  });

  it('exits 2 naming every bad field, from the file, the environment and the flags', () => {
    const dataDir = join(dir, 'data-bad');
    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[p2p]\nmaxConnections = 0\n');
    const r = anonnet(['--check-config', '-c', file, '-d', dataDir, '--exit-max-lookups', 'many'], {
      ANONNET_RELAY_LIMITS_MAX_CIRCUITS: '-1',
    });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, /invalid configuration/);
    assert.match(r.stderr, /p2p\.maxConnections/);
    assert.match(r.stderr, /exit\.maxLookups/);
    assert.match(r.stderr, /relay\.limits\.maxCircuits/);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(dataDir), false);
  });

  it('exits 2 on what the daemon would refuse at start (an exit policy line)', () => {
    const r = anonnet(['--check-config', '-d', join(dir, 'd3'), '--exit-policy', 'allow everything']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /relay\.exitPolicy/);
  });
});
