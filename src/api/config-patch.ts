// GET/PATCH of the configuration: the effective config without secrets, and a whitelist of fields that
// are safe to change while the daemon runs. Anything else is refused with the field named.
import { z } from 'zod';
import { invalidArgument } from './errors.ts';
import type { JsonObject, JsonValue } from './source.ts';

/** The writable fields (dotted paths as in the config file) and the values each accepts. */
export const WRITABLE: Readonly<Record<string, z.ZodType>> = {
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
  'circuits.prebuilt': z.number().int().min(0).max(32),
};

const SECRET_KEY = /secret|password|passphrase|token|private|seed/i;

/** A copy of `value` without any key that looks like it holds a secret. */
export function withoutSecrets(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!SECRET_KEY.test(k)) out[k] = withoutSecrets(v);
  return out;
}

/** The patch's leaves as dotted paths, each validated; throws INVALID_ARGUMENT naming the field. */
export function validatePatch(patch: JsonObject): Array<{ path: string; value: JsonValue }> {
  const leaves: Array<{ path: string; value: JsonValue }> = [];
  const walk = (obj: JsonObject, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix + k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(path in WRITABLE))
        walk(v, `${path}.`);
      else leaves.push({ path, value: v });
    }
  };
  walk(patch, '');
  if (leaves.length === 0) throw invalidArgument('patch', 'no field to change');
  for (const { path, value } of leaves) {
    const schema = WRITABLE[path];
    if (schema === undefined)
      throw invalidArgument(
        path,
        `not writable while running (writable: ${Object.keys(WRITABLE).join(', ')})`,
      );
    const r = schema.safeParse(value);
    if (!r.success) throw invalidArgument(path, r.error.issues[0]?.message ?? 'invalid value');
  }
  return leaves;
}
