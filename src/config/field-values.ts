// Turns the string a flag or an environment variable carries into a config value. A string that is
// not a value of the field's kind is passed on as it is, so that the schema refuses it naming the field.
import type { ConfigField } from './fields.ts';

export type Plain = Record<string, unknown>;

const NULLS = new Set(['null', 'off', 'none']);
const TRUES = new Set(['true', '1', 'yes', 'on']);
const FALSES = new Set(['false', '0', 'no', 'off']);

/** Comma-separated items, trimmed; empty items dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The value of `raw` for `field`; undefined for an empty string (unset). */
export function parseFieldValue(field: ConfigField, raw: string): unknown {
  const text = raw.trim();
  if (text === '') return undefined;
  if (field.nullable && NULLS.has(text.toLowerCase())) return null;
  switch (field.kind) {
    case 'number': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'boolean': {
      const t = text.toLowerCase();
      return TRUES.has(t) ? true : FALSES.has(t) ? false : text;
    }
    case 'list': {
      // An empty list must be sayable where an empty string means "unset" (ANONNET_RELAY_ROLES=none).
      if (text.toLowerCase() === 'none') return [];
      const items = splitList(text);
      return items.length === 0 ? undefined : items;
    }
    default:
      return text;
  }
}

/** `obj` with `value` at `path` (objects on the way created); undefined values are not set. */
export function setPath(obj: Plain, path: readonly string[], value: unknown): Plain {
  if (value === undefined) return obj;
  let at = obj;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      at = next as Plain;
    } else {
      const made: Plain = {};
      at[key] = made;
      at = made;
    }
  }
  const last = path.at(-1);
  if (last !== undefined) at[last] = value;
  return obj;
}

/** The value at `path` of a parsed config, for summaries and docs. */
export function getPath(obj: unknown, path: readonly string[]): unknown {
  let at = obj;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Plain)[key];
  }
  return at;
}
