import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  configFromEnv,
  defaultDataDir,
  loadConfig,
  mergeConfig,
  readConfigFile,
} from '../../../src/config/load.ts';

const PEER = '12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `fn`, expects a ConfigError, returns its message. */
function configError(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'CONFIG_INVALID');
  assert.equal(caught.name, 'ConfigError');
  return caught.message;
}

describe('loadConfig: defaults', () => {
  it('fills every default from nothing', () => {
    const c = loadConfig({});
    assert.equal(c.dataDir, defaultDataDir());
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.p2p.listen, ['/ip4/0.0.0.0/tcp/4950', '/ip4/0.0.0.0/udp/4950/quic-v1']);
    assert.deepEqual(c.p2p.bootstrap, []);
    assert.deepEqual(c.p2p.transports, ['tcp', 'quic']);
    assert.equal(c.p2p.minPeers, 20);
    assert.equal(c.p2p.maxConnections, 512);
    assert.equal(c.p2p.allowPrivateAddresses, false);
    assert.deepEqual(c.p2p.nat, {
      autonat: true,
      dcutr: true,
      relayClient: true,
      relayServer: true,
      upnp: true,
    });
    const { limits, ...relay } = c.relay;
    assert.equal(limits.maxCircuits, 2000);
    assert.deepEqual(relay, {
      roles: ['relay'],
      payout: null,
      bandwidth: 10 * 1024 * 1024,
      exitPolicy: ['reject *:25', 'accept *:*'],
      family: [],
    });
    assert.equal(c.directory.descriptorLifetimeMs, 3_600_000);
    assert.equal(c.directory.powDifficulty, 24);
    assert.equal(c.directory.maxRelays, 10_000);
    assert.equal(c.directory.maxRelaysPerSubnet, 128);
    assert.equal(c.circuits.unmeasuredWeightCap, 1);
    assert.equal(c.directory.minRelays, 3);
  });

  it('ends the default data directory in .anonnet', () => {
    assert.match(defaultDataDir(), /\.anonnet$/);
  });
});

describe('loadConfig: precedence base < file < env < flags', () => {
  it('reads a TOML file and deep-merges it over the defaults', () => {
    const path = file(
      'a.toml',
      [
        'logLevel = "debug"',
        '[p2p]',
        'maxConnections = 80',
        '[p2p.nat]',
        'upnp = false',
        '[relay]',
        'roles = ["relay", "exit"]',
      ].join('\n'),
    );
    const c = loadConfig({ file: path });
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.p2p.maxConnections, 80);
    assert.equal(c.p2p.minPeers, 20, 'a sibling default survives');
    assert.equal(c.p2p.nat.upnp, false);
    assert.equal(c.p2p.nat.autonat, true, 'a nested sibling default survives');
    assert.deepEqual(c.relay.roles, ['relay', 'exit']);
  });

  it('reads a JSON file', () => {
    const path = file('a.json', JSON.stringify({ dataDir: '/from/json', directory: { minRelays: 7 } }));
    const c = loadConfig({ file: path });
    assert.equal(c.dataDir, '/from/json');
    assert.equal(c.directory.minRelays, 7);
  });

  it('env beats the file, flags beat env; unset values fall through', () => {
    const path = file(
      'b.toml',
      [
        'dataDir = "/from/file"',
        'logLevel = "warn"',
        '[p2p]',
        'maxConnections = 70',
        'listen = ["/ip4/1.1.1.1/tcp/1"]',
      ].join('\n'),
    );
    const env = {
      ANONNET_DATA_DIR: '/from/env',
      ANONNET_LOG_LEVEL: 'error',
      ANONNET_LISTEN: '/ip4/2.2.2.2/tcp/2, /ip6/::1/tcp/3',
    };
    const fromEnv = loadConfig({ file: path, env });
    assert.equal(fromEnv.dataDir, '/from/env');
    assert.equal(fromEnv.logLevel, 'error');
    assert.deepEqual(fromEnv.p2p.listen, ['/ip4/2.2.2.2/tcp/2', '/ip6/::1/tcp/3']);
    assert.equal(fromEnv.p2p.maxConnections, 70, 'the file value the env does not touch stays');

    const fromFlags = loadConfig({
      file: path,
      env,
      flags: {
        dataDir: '/from/flags',
        logLevel: undefined,
        p2p: { maxConnections: 90, listen: ['/ip4/3.3.3.3/tcp/3'] },
      },
    });
    assert.equal(fromFlags.dataDir, '/from/flags');
    assert.equal(fromFlags.logLevel, 'error', 'an undefined flag does not erase the env value');
    assert.equal(fromFlags.p2p.maxConnections, 90);
    assert.deepEqual(fromFlags.p2p.listen, ['/ip4/3.3.3.3/tcp/3'], 'arrays are replaced, not merged');
  });

  it('base is below the file', () => {
    const path = file('c.toml', 'logLevel = "trace"');
    const c = loadConfig({ base: { logLevel: 'debug', dataDir: '/base', p2p: { minPeers: 1 } }, file: path });
    assert.equal(c.logLevel, 'trace');
    assert.equal(c.dataDir, '/base');
    assert.equal(c.p2p.minPeers, 1);
  });

  it('ANONNET_CONFIG names the file; an explicit file wins over it', () => {
    const viaEnv = file('env.toml', 'logLevel = "debug"');
    const explicit = file('explicit.toml', 'logLevel = "warn"');
    assert.equal(loadConfig({ env: { ANONNET_CONFIG: viaEnv } }).logLevel, 'debug');
    assert.equal(loadConfig({ file: explicit, env: { ANONNET_CONFIG: viaEnv } }).logLevel, 'warn');
  });

  it('ANONNET_BOOTSTRAP is a comma list; empty entries and an empty variable are ignored', () => {
    const bootstrap = `/ip4/1.2.3.4/tcp/4950/p2p/${PEER}`;
    const c = loadConfig({ env: { ANONNET_BOOTSTRAP: ` ${bootstrap} ,,` } });
    assert.deepEqual(c.p2p.bootstrap, [bootstrap]);
    const empty = loadConfig({ env: { ANONNET_BOOTSTRAP: '', ANONNET_DATA_DIR: '', ANONNET_LOG_LEVEL: '' } });
    assert.deepEqual(empty.p2p.bootstrap, []);
    assert.equal(empty.dataDir, defaultDataDir());
    assert.equal(empty.logLevel, 'info');
  });
});

describe('loadConfig: refusals name the field', () => {
  it('an invalid field gives CONFIG_INVALID naming its path', () => {
    const msg = configError(() => loadConfig({ flags: { p2p: { maxConnections: 0 } } }));
    assert.match(msg, /p2p\.maxConnections/);
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { maxConnections: 1.5 } } })),
      /p2p\.maxConnections/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { logLevel: 'loud' } })),
      /logLevel/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { directory: { powDifficulty: 33 } } })),
      /directory\.powDifficulty/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { transports: [] } } })),
      /p2p\.transports/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { transports: ['udp'] } } })),
      /p2p\.transports\.0/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { dataDir: '' } })),
      /dataDir/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { directory: { walkIntervalMs: 0 } } })),
      /directory\.walkIntervalMs/,
    );
  });

  it('an invalid env value is refused, naming its field', () => {
    assert.match(
      configError(() => loadConfig({ env: { ANONNET_LOG_LEVEL: 'verbose' } })),
      /logLevel/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ANONNET_LISTEN: 'tcp:4950' } })),
      /p2p\.listen\.0/,
    );
  });

  it('names the file when a value in it is invalid', () => {
    const path = file('bad-value.toml', '[p2p]\nminPeers = -1');
    const msg = configError(() => loadConfig({ file: path }));
    assert.match(msg, /p2p\.minPeers/);
    assert.ok(msg.includes(path));
  });

  it('refuses unknown keys at every level', () => {
    assert.match(
      configError(() => loadConfig({ flags: { colour: 'blue' } })),
      /colour/,
    );
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { maxPeer: 3 } } })),
      /p2p.*maxPeer/s,
    );
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { nat: { stun: true } } } })),
      /p2p\.nat.*stun/s,
    );
    const path = file('unknown.toml', '[relay]\nexit = true');
    assert.match(
      configError(() => loadConfig({ file: path })),
      /relay.*exit/s,
    );
  });

  it('refuses minPeers > maxConnections and descriptorLifetimeMs > maxDescriptorLifetimeMs', () => {
    const msg = configError(() => loadConfig({ flags: { p2p: { minPeers: 60, maxConnections: 50 } } }));
    assert.match(msg, /p2p\.minPeers: must not exceed p2p\.maxConnections/);
    assert.doesNotThrow(() => loadConfig({ flags: { p2p: { minPeers: 50, maxConnections: 50 } } }));
    assert.match(
      configError(() =>
        loadConfig({
          flags: { directory: { descriptorLifetimeMs: 10_000, maxDescriptorLifetimeMs: 9_999 } },
        }),
      ),
      /directory\.descriptorLifetimeMs/,
    );
  });

  it('refuses listen addresses that are not multiaddrs', () => {
    for (const bad of ['0.0.0.0:4950', 'ip4/1.2.3.4/tcp/1', '/tcp/4950', '']) {
      assert.match(
        configError(() => loadConfig({ flags: { p2p: { listen: [bad] } } })),
        /p2p\.listen\.0/,
        bad,
      );
    }
    for (const good of ['/ip6/::/tcp/1', '/dns4/example.org/tcp/1', '/dns/a.b/udp/1/quic-v1']) {
      assert.doesNotThrow(() => loadConfig({ flags: { p2p: { listen: [good] } } }), good);
    }
  });

  it('refuses bootstrap addresses without /p2p/<peer id> or that are not multiaddrs', () => {
    for (const bad of [
      '/ip4/1.2.3.4/tcp/4950',
      `/ip4/1.2.3.4/tcp/4950/p2p/`,
      `/ip4/1.2.3.4/tcp/4950/p2p/${PEER}/extra`,
      `/ip4/1.2.3.4/tcp/4950/p2p/0OIl`,
      `p2p/${PEER}`,
    ]) {
      const msg = configError(() => loadConfig({ flags: { p2p: { bootstrap: [bad] } } }));
      assert.match(msg, /p2p\.bootstrap\.0/, bad);
    }
    assert.match(
      configError(() => loadConfig({ flags: { p2p: { bootstrap: ['/ip4/1.2.3.4/tcp/1'] } } })),
      /must end in \/p2p\/<peer id>/,
    );
    const ok = `/dns4/boot.example/tcp/4950/p2p/${PEER}`;
    assert.deepEqual(loadConfig({ flags: { p2p: { bootstrap: [ok] } } }).p2p.bootstrap, [ok]);
  });

  it('lists every problem at once', () => {
    const msg = configError(() => loadConfig({ flags: { logLevel: 'x', p2p: { maxConnections: -1 } } }));
    assert.match(msg, /logLevel/);
    assert.match(msg, /p2p\.maxConnections/);
  });
});

describe('readConfigFile', () => {
  it('names a missing file', () => {
    const path = join(dir, 'missing.toml');
    const msg = configError(() => readConfigFile(path));
    assert.match(msg, /cannot read config file/);
    assert.ok(msg.includes(path));
    assert.ok(configError(() => loadConfig({ file: path })).includes(path));
  });

  it('names an unreadable file (a directory, or mode 000 when not root)', () => {
    const sub = join(dir, 'a-dir.toml');
    mkdirSync(sub);
    assert.match(
      configError(() => readConfigFile(sub)),
      /cannot read config file/,
    );
    if (process.getuid?.() !== 0) {
      const locked = file('locked.toml', 'logLevel = "info"');
      chmodSync(locked, 0);
      assert.match(
        configError(() => readConfigFile(locked)),
        /cannot read config file/,
      );
    }
  });

  it('names invalid TOML and invalid JSON as such', () => {
    const toml = file('broken.toml', '[p2p\nmaxConnections = ');
    const msg = configError(() => loadConfig({ file: toml }));
    assert.ok(msg.includes(toml));
    assert.match(msg, /is not valid TOML/);
    const json = file('broken.json', '{"p2p": ');
    assert.match(
      configError(() => readConfigFile(json)),
      /broken\.json is not valid JSON/,
    );
  });

  it('refuses a JSON file whose top level is not an object', () => {
    assert.match(
      configError(() => readConfigFile(file('array.json', '[1, 2]'))),
      /top level/,
    );
    assert.match(
      configError(() => readConfigFile(file('null.json', 'null'))),
      /top level/,
    );
    assert.match(
      configError(() => readConfigFile(file('num.json', '3'))),
      /top level/,
    );
  });

  it('treats any extension other than .json as TOML', () => {
    assert.deepEqual({ ...readConfigFile(file('conf', 'logLevel = "warn"')) }, { logLevel: 'warn' });
    assert.match(
      configError(() => readConfigFile(file('conf.yaml', 'logLevel: warn'))),
      /not valid TOML/,
    );
  });
});

describe('mergeConfig and configFromEnv', () => {
  it('merges plain objects deeply, replaces arrays and scalars, skips undefined', () => {
    const base = { a: 1, n: { x: 1, y: [1, 2], deep: { k: 'v' } }, arr: [1] };
    const over = { a: 2, n: { y: [3], deep: { j: 'w' }, z: undefined }, arr: [9, 9], extra: null };
    assert.deepEqual(mergeConfig(base, over), {
      a: 2,
      n: { x: 1, y: [3], deep: { k: 'v', j: 'w' } },
      arr: [9, 9],
      extra: null,
    });
    assert.deepEqual(base, { a: 1, n: { x: 1, y: [1, 2], deep: { k: 'v' } }, arr: [1] }, 'inputs untouched');
  });

  it('an object replaces a scalar and a scalar replaces an object', () => {
    assert.deepEqual(mergeConfig({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 }), { a: { x: 1 }, b: 2 });
  });

  it('reads only the documented variables, leaving out the unset ones', () => {
    assert.deepEqual(configFromEnv({ HOME: '/x', ANONNET_OTHER: 'y' }), {});
    assert.deepEqual(configFromEnv({ ANONNET_LISTEN: '/ip4/1.1.1.1/tcp/1' }), {
      p2p: { listen: ['/ip4/1.1.1.1/tcp/1'] },
    });
  });
});
