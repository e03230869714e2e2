// Loads the configuration from a file (TOML or JSON), the environment and flags, in rising precedence,
// then validates the merged result once.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { type ConfigInput, configSchema, type NodeConfig } from './schema.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ConfigError';
}

type Plain = Record<string, unknown>;

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

const list = (v: string | undefined): string[] | undefined =>
  v === undefined || v === ''
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** The environment variables AnonNet reads (documented in the README). */
export function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const p2p: Plain = { listen: list(env['ANONNET_LISTEN']), bootstrap: list(env['ANONNET_BOOTSTRAP']) };
  return {
    dataDir: env['ANONNET_DATA_DIR'] || undefined,
    logLevel: env['ANONNET_LOG_LEVEL'] || undefined,
    p2p: Object.values(p2p).some((v) => v !== undefined) ? p2p : undefined,
  };
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
