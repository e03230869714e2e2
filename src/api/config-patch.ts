// GET/PATCH of the configuration: the effective config without secrets, and a whitelist of fields that
// are safe to change while the daemon runs. Anything else is refused with the field named.
import type { z } from 'zod';
import { configSchema } from '../config/schema.ts';
import { invalidArgument } from './errors.ts';
import type { JsonObject, JsonValue } from './source.ts';

/**
 * The writable fields (dotted paths as in the config file) and the values each accepts. A Map, not an
 * object literal: a key such as "constructor" or "__proto__" from a request must never find something
 * on Object.prototype (that lookup answered `PATCH {"constructor":1}` with a 500).
 */
export const WRITABLE: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  // The config schema's own rules for these fields (without their defaults: a patch names a value).
  ['logLevel', configSchema.shape.logLevel.unwrap()],
  ['circuits.prebuilt', configSchema.shape.circuits.unwrap().shape.prebuilt.unwrap()],
]);

/** Dotted prefixes of writable fields ("circuits" for "circuits.prebuilt"): where a patch may nest. */
const WRITABLE_PARENTS: ReadonlySet<string> = new Set(
  [...WRITABLE.keys()].flatMap((path) => {
    const parts = path.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

const notWritable = (path: string) =>
  invalidArgument(path, `not writable while running (writable: ${[...WRITABLE.keys()].join(', ')})`);

const isObject = (v: JsonValue): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The first leaf under `path` (e.g. "p2p.minPeers" for {p2p: {minPeers: 1}}), to name it; a few levels deep. */
function firstLeaf(path: string, value: JsonValue): string {
  let at = path;
  let v = value;
  for (let depth = 0; depth < 8 && isObject(v); depth++) {
    const first = Object.entries(v)[0];
    if (first === undefined) break;
    at = `${at}.${first[0]}`;
    v = first[1];
  }
  return at;
}

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
  // Only own keys are read (Object.entries), and the walk descends only where a writable field can
  // be, so its depth is bounded by the writable paths, not by the request.
  const walk = (obj: JsonObject, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix + k;
      if (WRITABLE.has(path)) leaves.push({ path, value: v });
      else if (isObject(v) && WRITABLE_PARENTS.has(path)) walk(v, `${path}.`);
      else throw notWritable(firstLeaf(path, v));
    }
  };
  walk(patch, '');
  if (leaves.length === 0) throw invalidArgument('patch', 'no field to change');
  for (const { path, value } of leaves) {
    const r = WRITABLE.get(path)?.safeParse(value);
    if (r === undefined) throw notWritable(path);
    if (!r.success) throw invalidArgument(path, r.error.issues[0]?.message ?? 'invalid value');
  }
  return leaves;
}
