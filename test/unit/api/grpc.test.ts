// The gRPC (h2c), Connect and gRPC-Web faces against a real server on an ephemeral port: the same
// handlers as REST, the token checked, errors with stable codes, and the server-streamed event feed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import type { FastifyInstance } from 'fastify';
import { ControlService } from '../../../src/api/gen/anonnet/v1/control_pb.js';
import { buildApi } from '../../../src/api/server.ts';
import { EventBus } from '../../../src/daemon/events.ts';
import type { FakeSource } from './fake-source.ts';
import { ACCOUNT, fakes, TOKEN } from './requests.ts';

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };

let app: FastifyInstance;
let baseUrl: string;
let source: FakeSource;
const bus = new EventBus();

before(async () => {
  source = fakes().source;
  app = buildApi(source, TOKEN, { bus });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

const transports: Record<string, (interceptors: Interceptor[]) => Transport> = {
  'gRPC over h2c': (interceptors) => createGrpcTransport({ baseUrl, interceptors }),
  'Connect over HTTP/1.1': (interceptors) =>
    createConnectTransport({ baseUrl, httpVersion: '1.1', interceptors }),
  'Connect over h2c': (interceptors) => createConnectTransport({ baseUrl, httpVersion: '2', interceptors }),
  'gRPC-Web over HTTP/1.1': (interceptors) =>
    createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors }),
};

for (const [name, make] of Object.entries(transports)) {
  describe(name, () => {
    const client = () => createClient(ControlService, make([bearer(TOKEN)]));

    test('unary calls answer what the source holds', async () => {
      const c = client();
      const s = await c.getStatus({});
      assert.equal(s.peerId, source.status().peerId);
      assert.equal(s.bootstrap?.percent, 100);
      const { circuits } = await c.listCircuits({});
      assert.deepEqual(
        circuits.map((x) => x.id),
        source.circuitList.map((x) => x.id),
      );
      const bal = await c.getBalance({ account: ACCOUNT });
      assert.equal(bal.balance, '12345678901234567890');
      assert.equal(bal.nonce, 3n);
      const built = await c.buildCircuit({});
      assert.ok(source.circuitList.some((x) => x.id === built.id));
      await c.closeCircuit({ id: built.id });
      assert.ok(!source.circuitList.some((x) => x.id === built.id));
    });

    test('errors keep their stable code and field', async () => {
      const c = client();
      const err = await c.getBalance({ account: 'zz' }).then(
        () => assert.fail('accepted a bad account'),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.InvalidArgument);
      assert.equal(err.metadata.get('anonnet-error-code'), 'INVALID_ARGUMENT');
      assert.equal(err.metadata.get('anonnet-error-field'), 'account');
      const nf = await c.closeCircuit({ id: 'nope' }).catch((e: unknown) => ConnectError.from(e));
      assert.equal((nf as ConnectError).code, Code.NotFound);
    });

    test('a missing or wrong token is refused (Unauthenticated)', async () => {
      for (const interceptors of [[], [bearer('wrong')]]) {
        const c = createClient(ControlService, make(interceptors));
        const err = await c.getStatus({}).catch((e: unknown) => ConnectError.from(e));
        assert.ok(err instanceof ConnectError);
        assert.equal(err.code, Code.Unauthenticated);
        // Server streaming is guarded too.
        const stream = c.watchEvents({});
        const serr = await (async () => {
          for await (const _ of stream) return undefined;
        })().catch((e: unknown) => ConnectError.from(e));
        assert.equal((serr as ConnectError).code, Code.Unauthenticated);
      }
    });

    test('WatchEvents streams published events in order, filtered by kind', async () => {
      const ac = new AbortController();
      const got: string[] = [];
      const stream = client().watchEvents(
        { kinds: ['circuitBuilt', 'circuitClosed'] },
        { signal: ac.signal },
      );
      const reading = (async () => {
        try {
          for await (const e of stream) {
            got.push(
              `${e.kind.case}:${e.kind.case === 'circuitBuilt' || e.kind.case === 'circuitClosed' ? e.kind.value.id : ''}`,
            );
            if (got.length === 3) ac.abort();
          }
        } catch (e) {
          if (ConnectError.from(e).code !== Code.Canceled) throw e;
        }
      })();
      // Publish until the subscriber is attached, then the real sequence.
      while (bus.subscribers === 0) await new Promise((r) => setTimeout(r, 5));
      bus.publish({ case: 'peerCount', value: { peers: 9 } }); // filtered out
      bus.publish({ case: 'circuitBuilt', value: { id: 'a', hops: ['x'], buildMs: 3 } });
      bus.publish({ case: 'circuitBuilt', value: { id: 'b', hops: ['y'], buildMs: 4 } });
      bus.publish({ case: 'circuitClosed', value: { id: 'a', reason: 'done' } });
      await reading;
      assert.deepEqual(got, ['circuitBuilt:a', 'circuitBuilt:b', 'circuitClosed:a']);
      // The server lets go of the subscription when the client cancels.
      for (let i = 0; i < 100 && bus.subscribers > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(bus.subscribers, 0);
    });
  });
}
