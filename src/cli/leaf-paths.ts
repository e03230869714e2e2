// The leaves of a config-shaped object with their dotted paths (arrays and null are leaves).
export function leafPaths(o: unknown, prefix: readonly string[] = []): [string, unknown][] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [[prefix.join('.'), o]];
  return Object.entries(o).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}
