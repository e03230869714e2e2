// REST/JSON under /api/v1/: one fastify route per RPC, from the rules in the proto (http-rules.ts).
// A request is assembled from path, query and body into the RPC's request message with the protobuf
// JSON mapping, the shared handler runs, and its answer goes back as protobuf JSON (every field present).
// WatchEvents becomes server-sent events.
import type { ServerResponse } from 'node:http';
import { create, type DescMessage, fromJson, type JsonValue, type Message, toJson } from '@bufbuild/protobuf';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallContext, ControlHandlers } from './control-service.ts';
import { invalidArgument } from './errors.ts';
import { type Event, EventSchema } from './gen/anonnet/v1/events_pb.js';
import { REST_RULES, type RestRule } from './http-rules.ts';
import { parseJsonBody } from './json-body.ts';

type AnyHandler = (req: Message, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>;

/** Query parameters the events route reads but the request message has not (the EventSource login). */
export const EVENTS_TOKEN_PARAM = 'token';
const SSE_HEARTBEAT_MS = 15_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The RPC request from one HTTP request; INVALID_ARGUMENT names the first field that does not decode. */
export function decodeRequest(rule: RestRule, req: FastifyRequest): Message {
  const input: DescMessage = rule.method.input;
  // No prototype: a key from the request ("__proto__", "constructor") is only ever an own property.
  const json: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (rule.body === '*') {
    if (req.body !== undefined && req.body !== null) {
      if (!isObject(req.body)) throw invalidArgument('body', 'must be a JSON object');
      for (const [k, v] of Object.entries(req.body)) json[k] = v;
    }
  } else if (rule.body !== '') {
    const field = input.fields.find((f) => f.name === rule.body)!;
    if (!isObject(req.body)) throw invalidArgument(field.jsonName, 'the body must be a JSON object');
    json[field.jsonName] = req.body;
  } else {
    const query = isObject(req.query) ? req.query : {};
    for (const [k, v] of Object.entries(query)) {
      if (rule.streaming && k === EVENTS_TOKEN_PARAM) continue;
      const field = input.fields.find((f) => f.name === k || f.jsonName === k);
      if (field === undefined) throw invalidArgument(k, 'unknown query parameter');
      // Repeated fields: ?kinds=a&kinds=b or ?kinds=a,b.
      json[field.jsonName] =
        field.fieldKind === 'list'
          ? (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).filter((x) => x !== '')
          : Array.isArray(v)
            ? v.at(-1)
            : v;
    }
  }
  const params = isObject(req.params) ? req.params : {};
  for (const f of rule.pathFields) json[f.jsonName] = params[f.name];
  for (const [k, v] of Object.entries(json)) {
    const field = input.fields.find((f) => f.name === k || f.jsonName === k);
    if (field === undefined) throw invalidArgument(k, 'unknown field');
    try {
      fromJson(input, { [k]: v } as JsonValue);
    } catch (err) {
      throw invalidArgument(
        field.jsonName,
        (err as Error).message.replace(/^cannot decode .*? from JSON: /, ''),
      );
    }
  }
  return fromJson(input, json as JsonValue);
}

function contextOf(req: FastifyRequest): { ctx: CallContext; done: () => void } {
  const ac = new AbortController();
  // The client went away: stop work done for it (a circuit build, a transaction submit).
  const onClose = () => ac.abort(new Error('client went away'));
  req.raw.socket?.once('close', onClose);
  return { ctx: { signal: ac.signal }, done: () => req.raw.socket?.off('close', onClose) };
}

export function registerRestRoutes(app: FastifyInstance, handlers: ControlHandlers): void {
  const table = handlers as unknown as Record<string, AnyHandler>;
  // In this scope only (the Connect plugin brings its own parsers): refusals that name the field.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  for (const rule of REST_RULES) {
    const handler = table[rule.method.localName];
    if (handler === undefined) throw new Error(`no handler for ${rule.method.name}`);
    if (rule.streaming) {
      app.get(rule.routePath, async (req, reply) => {
        const request = decodeRequest(rule, req);
        const ac = new AbortController();
        const events = handler(request, { signal: ac.signal }) as AsyncIterable<Event>;
        reply.hijack();
        streamEvents(reply.raw, events, ac);
      });
      continue;
    }
    app.route({
      method: rule.verb,
      url: rule.routePath,
      handler: async (req, reply) => {
        const request = decodeRequest(rule, req);
        const { ctx, done } = contextOf(req);
        try {
          const result = await (handler(request, ctx) as Promise<Parameters<typeof create>[1]>);
          if (rule.status === 204) return reply.code(204).send();
          const out = create(rule.method.output, result);
          return reply.code(rule.status).send(toJson(rule.method.output, out, { alwaysEmitImplicit: true }));
        } finally {
          done();
        }
      },
    });
  }
}

/** Writes events as server-sent events until the client goes or the feed ends. */
function streamEvents(raw: ServerResponse, events: AsyncIterable<Event>, ac: AbortController): void {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write('retry: 3000\n\n');
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
  heartbeat.unref();
  raw.once('close', () => ac.abort());
  void (async () => {
    try {
      for await (const e of events) {
        const data = JSON.stringify(
          toJson(EventSchema, create(EventSchema, e), { alwaysEmitImplicit: true }),
        );
        // One frame per event; a slow reader makes us wait for 'drain' while its queue absorbs (and drops).
        if (!raw.write(`event: ${e.kind.case ?? 'unknown'}\ndata: ${data}\n\n`)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              raw.off('drain', done);
              raw.off('close', done);
              resolve();
            };
            raw.on('drain', done);
            raw.on('close', done);
          });
        }
        if (raw.destroyed) break;
      }
    } catch {
      // The subscription ended with the connection; nothing to report to anyone.
    } finally {
      clearInterval(heartbeat);
      if (!raw.destroyed) raw.end();
    }
  })();
}
