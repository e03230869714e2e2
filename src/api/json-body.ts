// JSON request bodies of the REST routes. JSON.parse keeps a key "__proto__" as an own property, which
// is harmless where code reads own keys only (as the API does), but a copy by assignment would set a
// prototype: such a key, and fastify's "constructor.prototype" pattern, are refused here with the field
// named, instead of a generic "not valid JSON".
import { invalidArgument } from './errors.ts';

/** The dotted path of the first key that could reach a prototype, or undefined. */
export function prototypeKeyPath(value: unknown): string | undefined {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, path } = item;
    if (v === null || typeof v !== 'object') continue;
    for (const [k, child] of Object.entries(v)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (k === '__proto__') return at;
      if (
        k === 'constructor' &&
        child !== null &&
        typeof child === 'object' &&
        Object.hasOwn(child, 'prototype')
      )
        return `${at}.prototype`;
      stack.push({ v: child, path: at });
    }
  }
  return undefined;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim().length === 0) throw invalidArgument('body', 'empty, though the content type is JSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument('body', `not valid JSON (${(err as Error).message})`);
  }
  const bad = prototypeKeyPath(value);
  if (bad !== undefined) throw invalidArgument(bad, 'a key that names a prototype property is not accepted');
  return value;
}
