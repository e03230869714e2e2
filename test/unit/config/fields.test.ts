// Every field of the config schema has a flag of `anonnet node` and an environment variable that set
// it: a field added to the schema without them (a type the generator cannot parse, a flag whose name
// is taken by another meaning) fails here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { configFromFieldFlags } from '../../../src/cli/config-flags.ts';
import { leafPaths } from '../../../src/cli/leaf-paths.ts';
import { addNodeOptions, flagsToConfig, type NodeFlags } from '../../../src/cli/node-command.ts';
import { getPath, type Plain } from '../../../src/config/field-values.ts';
import { type ConfigField, configFields, envOfPath, flagOfPath } from '../../../src/config/fields.ts';
import { configFromEnv, loadConfig, mergeConfig } from '../../../src/config/load.ts';
import { configSchema } from '../../../src/config/schema.ts';

const fields = configFields();
const defaults: unknown = configSchema.parse({ dataDir: '/d' });

/** A value of the field's kind: its default when it has one. */
function sample(field: ConfigField): unknown {
  const d = getPath(defaults, field.path);
  if (d !== undefined && d !== null && !(Array.isArray(d) && d.length === 0)) return d;
  if (field.nullable) return null;
  return { number: 7, string: 'x', boolean: true, list: ['a', 'b'] }[field.kind];
}

const text = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

function parseFlags(argv: string[]): Plain {
  const cmd = addNodeOptions(new Command('node')).exitOverride();
  cmd.parse(argv, { from: 'user' });
  const flags = cmd.opts<NodeFlags>();
  return mergeConfig(configFromFieldFlags(flags), flagsToConfig(flags));
}

describe('config fields', () => {
  it('the schema walk finds every field that an empty config parses to', () => {
    const found = new Set(fields.map((f) => f.path.join('.')));
    for (const [path] of leafPaths(defaults)) assert.ok(found.has(path), `${path} is not a config field`);
    assert.ok(fields.length >= 88, `only ${fields.length} fields`);
  });

  it('names are the path, mechanically, and unique', () => {
    assert.equal(flagOfPath(['relay', 'limits', 'maxCircuits']), 'relay-limits-max-circuits');
    assert.equal(envOfPath(['relay', 'limits', 'maxCircuits']), 'ANONNET_RELAY_LIMITS_MAX_CIRCUITS');
    assert.equal(envOfPath(['dataDir']), 'ANONNET_DATA_DIR');
    assert.equal(new Set(fields.map((f) => f.flag)).size, fields.length);
    assert.equal(new Set(fields.flatMap((f) => [f.env, ...f.envAliases])).size, fields.length + 2);
  });

  it('every field is set by its environment variable', () => {
    for (const field of fields) {
      const value = sample(field);
      const got = getPath(configFromEnv({ [field.env]: text(value) }), field.path);
      assert.deepEqual(got, value, `${field.env} -> ${field.path.join('.')}`);
    }
  });

  it('every field is set by its flag of `anonnet node`', () => {
    const longs = new Set(addNodeOptions(new Command('node')).options.map((o) => o.long));
    for (const field of fields) {
      assert.ok(longs.has(`--${field.flag}`), `no flag --${field.flag}`);
      const value = sample(field);
      const argv =
        field.kind === 'boolean' && value === true ? [`--${field.flag}`] : [`--${field.flag}`, text(value)];
      assert.deepEqual(getPath(parseFlags(argv), field.path), value, argv.join(' '));
    }
  });

  it('a field set through env and flag, with values other than the default, reaches the config', () => {
    const c = loadConfig({
      env: { ANONNET_RELAY_LIMITS_MAX_CIRCUITS: '17', ANONNET_PROXY_HTTP_PORT: 'off' },
      flags: parseFlags(['--exit-max-lookups', '9', '--p2p-nat-upnp', 'false', '--circuits-guards', '2']),
    });
    assert.equal(c.relay.limits.maxCircuits, 17);
    assert.equal(c.proxy.httpPort, null);
    assert.equal(c.exit.maxLookups, 9);
    assert.equal(c.p2p.nat.upnp, false);
    assert.equal(c.circuits.guards, 2);
  });

  it('the older names keep working, and the named flags win over the generated ones', () => {
    const env = configFromEnv({ ANONNET_LISTEN: '/ip4/1.1.1.1/tcp/1', ANONNET_P2P_BOOTSTRAP: '' });
    assert.deepEqual(getPath(env, ['p2p', 'listen']), ['/ip4/1.1.1.1/tcp/1']);
    assert.equal(getPath(env, ['p2p', 'bootstrap']), undefined);
    const both = configFromEnv({
      ANONNET_LISTEN: '/ip4/1.1.1.1/tcp/1',
      ANONNET_P2P_LISTEN: '/ip4/2.2.2.2/tcp/2',
    });
    assert.deepEqual(getPath(both, ['p2p', 'listen']), ['/ip4/2.2.2.2/tcp/2']);
    const flags = parseFlags(['--socks-port', '1', '--proxy-socks-port', '2', '--no-upnp', '--hops', '4']);
    assert.equal(getPath(flags, ['proxy', 'socksPort']), 1);
    assert.equal(getPath(flags, ['p2p', 'nat', 'upnp']), false);
    assert.equal(getPath(flags, ['circuits', 'hops']), 4);
  });

  it('a string that is no value of the field is refused naming the field', () => {
    assert.throws(() => loadConfig({ env: { ANONNET_EXIT_MAX_SOCKETS: 'many' } }), /exit\.maxSockets/);
    assert.throws(() => loadConfig({ flags: parseFlags(['--p2p-nat-dcutr', 'maybe']) }), /p2p\.nat\.dcutr/);
  });
});

describe('roles: a client only, and what only a relay may set', () => {
  const load = (flags: Plain, env: NodeJS.ProcessEnv = {}) =>
    loadConfig({ env, flags: { dataDir: '/d', ...flags } });
  const PAYOUT = 'ab'.repeat(32);

  it('--client-only, --roles "" and ANONNET_RELAY_ROLES=none all mean no roles', () => {
    assert.deepEqual(load(parseFlags(['--client-only'])).relay.roles, []);
    assert.deepEqual(load(parseFlags(['--roles', ''])).relay.roles, []);
    assert.deepEqual(load({}, { ANONNET_RELAY_ROLES: 'none' }).relay.roles, []);
    assert.deepEqual(load({}, { ANONNET_RELAY_ROLES: '' }).relay.roles, ['relay'], 'empty: unset');
    assert.deepEqual(load(parseFlags(['--roles', 'relay,exit'])).relay.roles, ['relay', 'exit']);
  });

  it('--client-only with roles named is a contradiction', () => {
    assert.throws(() => parseFlags(['--client-only', '--roles', 'relay']), /contradict/);
  });

  it('exit and validator need the relay role; a payout account needs it too', () => {
    assert.throws(() => load(parseFlags(['--roles', 'exit'])), /relay\.roles: exit needs the relay role/);
    assert.throws(() => load(parseFlags(['--roles', 'validator'])), /needs the relay role/);
    assert.throws(
      () => load(parseFlags(['--client-only', '--payout', PAYOUT])),
      /relay\.payout: only a relay/,
    );
  });

  it('--payout takes an account (64 hex digits)', () => {
    assert.equal(load(parseFlags(['--payout', PAYOUT])).relay.payout, PAYOUT);
    assert.equal(load({}, { ANONNET_RELAY_PAYOUT: PAYOUT }).relay.payout, PAYOUT);
    assert.equal(load({}).relay.payout, null, "default: the node's wallet");
    assert.throws(() => load(parseFlags(['--payout', 'abc'])), /relay\.payout: must be an account/);
  });
});
