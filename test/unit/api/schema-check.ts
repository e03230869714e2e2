// A small JSON Schema checker for the subset docs/openapi.yaml uses ($ref, object, array, string,
// number, integer, boolean, enum, pattern, minimum, required, additionalProperties). Returns problems.
type Schema = { [k: string]: unknown };

export function checkSchema(
  value: unknown,
  schema: Schema,
  schemas: Record<string, Schema>,
  at = '$',
): string[] {
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const target = schemas[ref.replace('#/components/schemas/', '')];
    return target === undefined ? [`${at}: unknown $ref ${ref}`] : checkSchema(value, target, schemas, at);
  }
  const problems: string[] = [];
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && !enumValues.includes(value))
    problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  switch (schema['type']) {
    case undefined:
      return problems;
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected string, got ${JSON.stringify(value)}`];
      if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
        problems.push(`${at}: ${value} does not match ${schema['pattern']}`);
      return problems;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? problems : [`${at}: expected number`];
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: expected integer`];
      if (typeof schema['minimum'] === 'number' && value < schema['minimum'])
        problems.push(`${at}: below minimum`);
      return problems;
    case 'boolean':
      return typeof value === 'boolean' ? problems : [`${at}: expected boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return value.flatMap((v, i) => checkSchema(v, schema['items'] as Schema, schemas, `${at}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: expected object`];
      const props = (schema['properties'] ?? {}) as Record<string, Schema>;
      for (const r of (schema['required'] ?? []) as string[])
        if (!(r in value)) problems.push(`${at}: missing required ${r}`);
      for (const [k, v] of Object.entries(value)) {
        const p = props[k];
        if (p !== undefined) problems.push(...checkSchema(v, p, schemas, `${at}.${k}`));
        else if (schema['additionalProperties'] === false) problems.push(`${at}: unexpected property ${k}`);
        else if (typeof schema['additionalProperties'] === 'object')
          problems.push(...checkSchema(v, schema['additionalProperties'] as Schema, schemas, `${at}.${k}`));
      }
      return problems;
    }
    default:
      return [`${at}: unsupported schema type ${String(schema['type'])}`];
  }
}
