import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertDeepConfig, configSummary, deepConfigProblems } from '../../../src/cli/check-config.ts';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'anonnet-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('check-config', () => {
  it('finds nothing wrong with the defaults and sums them up', () => {
    const config = loadConfig({ flags: { dataDir: '/var/lib/anonnet' } });
    assert.deepEqual(deepConfigProblems(config), []);
    assert.doesNotThrow(() => assertDeepConfig(config));
    const summary = configSummary(config);
    assert.match(summary, /^configuration ok/);
    assert.match(summary, /data directory {2}\/var\/lib\/anonnet/);
    assert.match(summary, /socks proxy {5}127\.0\.0\.1:9050/);
    assert.match(summary, /ledger {10}off/);
  });

  it('says which proxies and API are off', () => {
    const config = loadConfig({ flags: { dataDir: '/d', proxy: { socksPort: null }, api: { port: null } } });
    assert.match(configSummary(config), /socks proxy {5}off/);
    assert.match(configSummary(config), /control api {5}off/);
  });

  it('names the exit policy, the family and the genesis problems the schema cannot see', () => {
    const genesis = join(dir, 'genesis.json');
    writeFileSync(genesis, '{"not": "a genesis"}');
    const config = loadConfig({
      flags: {
        dataDir: '/d',
        relay: { exitPolicy: ['accept *:443', 'bogus'], family: ['not-a-peer-id'] },
        ledger: { genesis },
      },
    });
    const problems = deepConfigProblems(config);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0] ?? '', /^relay\.exitPolicy: .*bogus/);
    assert.match(problems[1] ?? '', /^relay\.family: not-a-peer-id/);
    assert.match(problems[2] ?? '', /^ledger\.genesis: /);
    assert.throws(() => assertDeepConfig(config), ConfigError);
  });

  it('names a genesis file that cannot be read', () => {
    const config = loadConfig({ flags: { dataDir: '/d', ledger: { genesis: join(dir, 'missing.json') } } });
    assert.match(deepConfigProblems(config)[0] ?? '', /^ledger\.genesis: .*missing\.json/);
  });
});
