// The REST face of each RPC, read from the `(anonnet.v1.http)` option in proto/anonnet/v1/control.proto.
// rest-routes.ts registers routes from these rules and scripts/gen-openapi.ts documents them.
import { type DescField, type DescMethod, getOption } from '@bufbuild/protobuf';
import { ControlService } from './gen/anonnet/v1/control_pb.js';
import { http } from './gen/anonnet/v1/http_pb.js';

export type HttpVerb = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RestRule {
  readonly method: DescMethod;
  readonly verb: HttpVerb;
  /** With {field} placeholders (OpenAPI form). */
  readonly path: string;
  /** With :field placeholders (fastify form). */
  readonly routePath: string;
  /** The request fields bound to path placeholders. */
  readonly pathFields: readonly DescField[];
  /** "*" (the whole request), a field name, or "" (no body: the remaining fields come from the query). */
  readonly body: string;
  readonly status: number;
  readonly summary: string;
  readonly streaming: boolean;
}

const VERBS: readonly string[] = ['GET', 'POST', 'PATCH', 'DELETE'];

function ruleOf(method: DescMethod): RestRule {
  const opt = getOption(method, http);
  if (!VERBS.includes(opt.method) || !opt.path.startsWith('/api/v1/'))
    throw new Error(`${method.name}: bad or missing (anonnet.v1.http) option`);
  const pathFields: DescField[] = [];
  const routePath = opt.path.replace(/\{([a-z_][a-z0-9_]*)\}/g, (_m, name: string) => {
    const field = method.input.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`${method.name}: no field ${name} for the path placeholder`);
    pathFields.push(field);
    return `:${name}`;
  });
  if (opt.body !== '' && opt.body !== '*' && !method.input.fields.some((f) => f.name === opt.body))
    throw new Error(`${method.name}: no field ${opt.body} for the body`);
  return {
    method,
    verb: opt.method as HttpVerb,
    path: opt.path,
    routePath,
    pathFields,
    body: opt.body,
    status: opt.status || 200,
    summary: opt.summary,
    streaming: method.methodKind === 'server_streaming',
  };
}

/** Every RPC's REST rule, in the order of the service definition. */
export const REST_RULES: readonly RestRule[] = ControlService.methods.map(ruleOf);
