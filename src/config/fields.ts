// Every leaf field of the config schema, found by walking it, with the flag and the environment
// variable that set it. Names come from the field's path mechanically (relay.limits.maxCircuits:
// --relay-limits-max-circuits, ANONNET_RELAY_LIMITS_MAX_CIRCUITS), so a field added to the schema has
// both without more code; the older short flags of node-command.ts and env names below keep working.
import { z } from 'zod';
import { configSchema } from './schema.ts';

/** What a field holds, which says how a flag or env string becomes its value. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'list';

export interface ConfigField {
  /** The keys from the top of the config, e.g. ['relay', 'limits', 'maxCircuits']. */
  readonly path: readonly string[];
  readonly kind: FieldKind;
  /** `null` is a value of its own (a port turned off, no genesis). */
  readonly nullable: boolean;
  /** The long flag without its dashes, e.g. 'relay-limits-max-circuits'. */
  readonly flag: string;
  readonly env: string;
  /** Older environment names read when `env` is unset. */
  readonly envAliases: readonly string[];
}

/** Environment names that predate the generated ones, by dotted path. */
const ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'p2p.listen': ['ANONNET_LISTEN'],
  'p2p.bootstrap': ['ANONNET_BOOTSTRAP'],
};

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const flagOfPath = (path: readonly string[]): string => path.map(kebab).join('-');
export const envOfPath = (path: readonly string[]): string =>
  `ANONNET_${flagOfPath(path).replaceAll('-', '_').toUpperCase()}`;

/** Wrappers that do not change what a value is: defaults, optionality. */
function unwrap(s: z.ZodType): { inner: z.ZodType; nullable: boolean } {
  let inner = s;
  let nullable = false;
  for (;;) {
    if (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodNullable) {
      nullable = true;
      inner = inner.unwrap() as z.ZodType;
    } else {
      return { inner, nullable };
    }
  }
}

function kindOf(s: z.ZodType, path: readonly string[]): FieldKind {
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return 'string';
  if (s instanceof z.ZodNumber) return 'number';
  if (s instanceof z.ZodBoolean) return 'boolean';
  if (s instanceof z.ZodArray) return 'list';
  throw new Error(`config field ${path.join('.')}: no flag/env parser for its type`);
}

function walk(shape: Record<string, z.ZodType>, prefix: readonly string[], out: ConfigField[]): void {
  for (const [key, schema] of Object.entries(shape)) {
    const path = [...prefix, key];
    const { inner, nullable } = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      walk(inner.shape as Record<string, z.ZodType>, path, out);
      continue;
    }
    out.push({
      path,
      kind: kindOf(inner, path),
      nullable,
      flag: flagOfPath(path),
      env: envOfPath(path),
      envAliases: ENV_ALIASES[path.join('.')] ?? [],
    });
  }
}

/** The leaf fields of `schema` (the daemon's by default), in schema order. */
export function configFields(schema: z.ZodObject = configSchema): ConfigField[] {
  const out: ConfigField[] = [];
  walk(schema.shape as Record<string, z.ZodType>, [], out);
  return out;
}
