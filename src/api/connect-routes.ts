// The Connect router of the control service: Connect, gRPC-Web and gRPC at /anonnet.v1.ControlService/*.
// Handlers are the shared ones (control-service.ts) with their ApiErrors turned into ConnectErrors.
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import type { CallContext, ControlHandlers } from './control-service.ts';
import { toConnectError } from './errors.ts';
import { ControlService } from './gen/anonnet/v1/control_pb.js';
import { tokenMatches } from './token.ts';

type Fn = (req: unknown, ctx: CallContext) => unknown;

/** Every handler with errors mapped; unexpected ones are reported to `onInternal` (never to the client). */
function withConnectErrors(h: ControlHandlers, onInternal?: (err: unknown) => void): ControlHandlers {
  const table = h as unknown as Record<string, Fn>;
  const out: Record<string, Fn> = {};
  const map = (err: unknown) => {
    const ce = toConnectError(err);
    if (ce.code === Code.Internal) onInternal?.(err);
    return ce;
  };
  for (const m of ControlService.methods) {
    const fn = table[m.localName]!;
    out[m.localName] =
      m.methodKind === 'server_streaming'
        ? async function* (req, ctx) {
            try {
              yield* fn(req, ctx) as AsyncIterable<unknown>;
            } catch (err) {
              throw map(err);
            }
          }
        : async (req, ctx) => {
            try {
              return await (fn(req, ctx) as Promise<unknown>);
            } catch (err) {
              throw map(err);
            }
          };
  }
  return out as unknown as ControlHandlers;
}

export function controlRoutes(
  handlers: ControlHandlers,
  onInternal?: (err: unknown) => void,
): (router: ConnectRouter) => void {
  const impl = withConnectErrors(handlers, onInternal);
  return (router) => {
    // Every field in JSON answers, as on the REST face.
    router.service(ControlService, impl, { jsonOptions: { alwaysEmitImplicit: true } });
  };
}

/** Refuses a call without the bearer token (the h2c face, which fastify's hook does not see). */
export function tokenInterceptor(token: string): Interceptor {
  return (next) => async (req) => {
    if (!tokenMatches(token, req.header.get('authorization') ?? undefined)) {
      throw new ConnectError('missing or wrong bearer token', Code.Unauthenticated, {
        'anonnet-error-code': 'UNAUTHORIZED',
      });
    }
    return next(req);
  };
}
