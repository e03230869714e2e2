// docs/openapi.yaml, derived from the proto descriptors and their (anonnet.v1.http) rules, so the REST
// documentation cannot drift from what is served. scripts/gen-openapi.ts writes it; a test checks it.
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { VERSION } from '../version.ts';
import { API_ERRORS } from './errors.ts';
import { REST_RULES, type RestRule } from './http-rules.ts';

export type Schema = { [k: string]: unknown };
export interface OpenApiDoc {
  openapi: string;
  info: Schema;
  servers: Schema[];
  security: Schema[];
  paths: Record<string, Record<string, Schema>>;
  components: { securitySchemes: Schema; schemas: Record<string, Schema> };
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const schemaName = (m: DescMessage): string =>
  m.typeName.replace(/^anonnet\.v1\./, '').replace(/^google\.protobuf\./, '');

function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: 'integer', format: 'int32' };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', minimum: 0 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      // proto3 JSON writes 64-bit integers as decimal strings.
      return { type: 'string', pattern: '^-?[0-9]+$', format: 'int64' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', format: 'byte' };
    default:
      return { type: 'string' };
  }
}

class SchemaBuilder {
  readonly schemas: Record<string, Schema> = {};

  message(m: DescMessage): Schema {
    const name = schemaName(m);
    if (m.typeName === 'google.protobuf.Struct') return { type: 'object', additionalProperties: true };
    if (m.typeName === 'google.protobuf.Value') return {};
    if (!(name in this.schemas)) {
      this.schemas[name] = {}; // placeholder against recursion
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      for (const f of m.fields) {
        properties[f.jsonName] = this.field(f);
        // Answers carry every field (alwaysEmitImplicit) except messages, oneof members and optionals.
        if (f.fieldKind !== 'message' && f.oneof === undefined && !f.proto.proto3Optional)
          required.push(f.jsonName);
      }
      const oneofs = m.oneofs.filter((o) => !o.fields.every((f) => f.proto.proto3Optional));
      this.schemas[name] = {
        type: 'object',
        properties,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: false,
        ...(oneofs.length > 0
          ? {
              description: oneofs
                .map((o) => `At most one of: ${o.fields.map((f) => f.jsonName).join(', ')}.`)
                .join(' '),
            }
          : {}),
      };
    }
    return ref(name);
  }

  field(f: DescField): Schema {
    switch (f.fieldKind) {
      case 'scalar':
        return scalarSchema(f.scalar);
      case 'enum':
        return { type: 'string', enum: f.enum.values.map((v) => v.name) };
      case 'message':
        return this.message(f.message);
      case 'list':
        return {
          type: 'array',
          items:
            f.listKind === 'scalar'
              ? scalarSchema(f.scalar)
              : f.listKind === 'enum'
                ? { type: 'string', enum: f.enum.values.map((v) => v.name) }
                : this.message(f.message),
        };
      case 'map':
        return {
          type: 'object',
          additionalProperties:
            f.mapKind === 'scalar'
              ? scalarSchema(f.scalar)
              : f.mapKind === 'enum'
                ? { type: 'string', enum: f.enum.values.map((v) => v.name) }
                : this.message(f.message),
        };
    }
  }
}

function errorResponses(rule: RestRule): Record<string, Schema> {
  const out: Record<string, Schema> = {
    '400': {
      description: 'INVALID_ARGUMENT: a field (named in error.field) is wrong',
      content: { 'application/json': { schema: ref('Error') } },
    },
    '401': {
      description: 'UNAUTHORIZED: missing or wrong bearer token',
      content: { 'application/json': { schema: ref('Error') } },
    },
  };
  const name = rule.method.name;
  if (name === 'CloseCircuit' || name === 'GetBalance')
    out['404'] = { description: 'NOT_FOUND', content: { 'application/json': { schema: ref('Error') } } };
  if (name === 'BuildCircuit' || rule.path.startsWith('/api/v1/ledger'))
    out['503'] = {
      description:
        name === 'BuildCircuit' ? 'CIRCUIT_BUILD_FAILED' : 'LEDGER_UNAVAILABLE: this node runs no ledger',
      content: { 'application/json': { schema: ref('Error') } },
    };
  if (name === 'SubmitTransaction')
    out['422'] = { description: 'TX_REFUSED', content: { 'application/json': { schema: ref('Error') } } };
  return out;
}

/** The body of every error answer (errors.ts). */
const ERROR_SCHEMA: Schema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: Object.keys(API_ERRORS) },
        message: { type: 'string' },
        field: { type: 'string', description: 'the request field at fault (INVALID_ARGUMENT)' },
      },
    },
  },
};

export function buildOpenApi(): OpenApiDoc {
  const b = new SchemaBuilder();
  const paths: Record<string, Record<string, Schema>> = {};
  for (const rule of REST_RULES) {
    paths[rule.path] ??= {};
    paths[rule.path]![rule.verb.toLowerCase()] = operationOf(b, rule);
  }
  b.schemas['Error'] = ERROR_SCHEMA;
  const sorted = Object.fromEntries(Object.entries(b.schemas).sort(([a], [c]) => a.localeCompare(c)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'AnonNet control API',
      version: VERSION,
      description:
        'Generated from proto/anonnet/v1/*.proto by scripts/gen-openapi.ts (npm run gen:openapi); do not edit. ' +
        'The same service is served as gRPC, gRPC-Web and Connect at /anonnet.v1.ControlService/<Method> ' +
        'on the same port. Bodies follow the protobuf JSON mapping (lowerCamelCase names, 64-bit integers as strings).',
    },
    servers: [{ url: 'http://127.0.0.1:9080' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the token in DATA_DIR/api-token' },
      },
      schemas: sorted,
    },
  };
}

/** One REST rule as an OpenAPI operation: parameters, request body, responses. */
function operationOf(b: SchemaBuilder, rule: RestRule): Schema {
  const input = rule.method.input;
  const parameters = parametersOf(b, rule);
  const op: Schema = {
    operationId: rule.method.localName,
    summary: rule.summary,
    description: `RPC anonnet.v1.ControlService/${rule.method.name}`,
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  if (rule.body !== '') {
    const bodyField = rule.body === '*' ? undefined : input.fields.find((f) => f.name === rule.body);
    op['requestBody'] = {
      required: bodyField !== undefined,
      content: { 'application/json': { schema: bodyField ? b.field(bodyField) : b.message(input) } },
    };
  }
  const ok: Schema = rule.streaming
    ? {
        description: `Server-sent events: "event:" is the kind (a field of Event), "data:" is one ${schemaName(rule.method.output)} as JSON. Also takes ?token= (EventSource cannot send headers).`,
        content: { 'text/event-stream': { schema: b.message(rule.method.output) } },
      }
    : rule.status === 204
      ? { description: 'done (no body)' }
      : { description: 'OK', content: { 'application/json': { schema: b.message(rule.method.output) } } };
  return { ...op, responses: { [String(rule.status)]: ok, ...errorResponses(rule) } };
}

/** Path fields, then (for a rule without a body) every other input field as a query parameter. */
function parametersOf(b: SchemaBuilder, rule: RestRule): Schema[] {
  const input = rule.method.input;
  const pathNames = new Set(rule.pathFields.map((f) => f.name));
  const parameters: Schema[] = rule.pathFields.map((f) => ({
    name: f.name,
    in: 'path',
    required: true,
    schema: b.field(f),
  }));
  if (rule.body === '') {
    for (const f of input.fields) {
      if (pathNames.has(f.name)) continue;
      parameters.push({
        name: f.jsonName,
        in: 'query',
        required: false,
        schema: b.field(f),
        ...(f.fieldKind === 'list'
          ? { style: 'form', explode: true, description: 'repeatable, or comma-separated' }
          : {}),
      });
    }
  }
  return parameters;
}

/** A small YAML writer for the document (block style; strings double-quoted, which YAML reads as JSON). */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  const key = (k: string) => (/^[A-Za-z_$][\w$.-]*$/.test(k) ? k : JSON.stringify(k));
  const scalar = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  const isBlock = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length > 0;
  if (Array.isArray(value)) {
    return value
      .map((v) => {
        if (!isBlock(v))
          return `${pad}- ${Array.isArray(v) ? '[]' : typeof v === 'object' && v !== null ? '{}' : scalar(v)}\n`;
        const inner = toYaml(v, indent + 2);
        return `${pad}- ${inner.slice(indent + 2)}`;
      })
      .join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => {
      if (isBlock(v)) return `${pad}${key(k)}:\n${toYaml(v, indent + 2)}`;
      const empty = Array.isArray(v) ? '[]' : typeof v === 'object' && v !== null ? '{}' : scalar(v);
      return `${pad}${key(k)}: ${empty}\n`;
    })
    .join('');
}

export const OPENAPI_HEADER =
  '# Generated by scripts/gen-openapi.ts from proto/anonnet/v1/*.proto: do not edit.\n';

export function renderOpenApi(): string {
  return OPENAPI_HEADER + toYaml(buildOpenApi());
}
