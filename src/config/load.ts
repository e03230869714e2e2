// Loads the configuration from a file (TOML or JSON), the environment and flags, in rising precedence,
// then validates the merged result once.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { type Plain, parseFieldValue, setPath } from './field-values.ts';
import { configFields } from './fields.ts';
import { type ConfigInput, configSchema, type NodeConfig } from './schema.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ConfigError';
}

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace those of `base`. */
export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? mergeConfig(prev, v) : v;
  }
  return out;
}

export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = extname(path) === '.json' ? JSON.parse(text) : parseToml(text);
    if (!isPlain(parsed)) throw new Error('the top level must be a table/object');
    return parsed;
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'TOML'}: ${(err as Error).message}`,
    );
  }
}

/**
 * The environment variables AnonNet reads: one per config field (ANONNET_ and the field's path, e.g.
 * ANONNET_RELAY_LIMITS_MAX_CIRCUITS; lists comma-separated; src/config/fields.ts), and the older names
 * ANONNET_LISTEN and ANONNET_BOOTSTRAP. Unset and empty variables are left out.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  for (const field of configFields()) {
    const name = [field.env, ...field.envAliases].find((n) => env[n] !== undefined && env[n] !== '');
    const raw = name === undefined ? undefined : env[name];
    if (raw !== undefined) setPath(out, field.path, parseFieldValue(field, raw));
  }
  return out;
}

export const defaultDataDir = (): string => join(homedir(), '.anonnet');

export interface LoadConfigInput {
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from flags (already shaped like the config), highest precedence. */
  readonly flags?: ConfigInput | Plain;
  /** Values a caller supplies below everything else (the testnet's settings). */
  readonly base?: Plain;
}

export function loadConfig(input: LoadConfigInput): NodeConfig {
  let merged: Plain = mergeConfig({ dataDir: defaultDataDir() }, input.base ?? {});
  const file = input.file ?? input.env?.['ANONNET_CONFIG'];
  if (file) merged = mergeConfig(merged, readConfigFile(file));
  if (input.env) merged = mergeConfig(merged, configFromEnv(input.env));
  if (input.flags) merged = mergeConfig(merged, input.flags as Plain);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration${file ? ` (file ${file})` : ''}:\n${lines.join('\n')}`);
  }
  return result.data;
}
