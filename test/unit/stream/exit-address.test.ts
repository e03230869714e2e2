// The exit on its own, deciding where a stream may go: the policy's ports before any lookup, then
// every resolved address against "not the public internet" (loopback only when a test network allows
// it) and the policy's address rules, an IPv4-mapped address as its IPv4; IP literals are never looked
// up; RESOLVE answers only addresses a BEGIN could reach. Fakes: the lookup and the circuit
// (exit-fixtures.ts); destinations are real sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { EndReason } from '../../../src/stream/anon-stream.ts';
import { defaultExitLimits, Exit, type ExitDeps } from '../../../src/stream/exit.ts';
import { decodeRelayPayload, RelayCommand, type RelayMessage } from '../../../src/wire/cell.ts';
import { formatIp } from '../../../src/wire/host.ts';
import {
  attachCircuit,
  type FakeCircuit,
  type HoldingServer,
  startHoldingServer,
  until,
} from './exit-fixtures.ts';

interface Options {
  readonly enabled?: boolean;
  readonly policy?: readonly string[];
  readonly allowLoopback?: boolean;
}

function exitWith(o: Options, deps: ExitDeps): Exit {
  return new Exit(
    {
      enabled: o.enabled ?? true,
      policy: parseExitPolicy(o.policy ?? ['accept *:*']),
      allowLoopback: o.allowLoopback ?? true,
      connectTimeoutMs: 5_000,
      limits: defaultExitLimits,
    },
    deps,
  );
}

/** A lookup that answers every name with `addresses` and records what it was asked. */
function fixedLookup(addresses: string[]): { calls: string[]; lookup: (host: string) => Promise<string[]> } {
  const calls: string[] = [];
  return {
    calls,
    lookup: async (host) => {
      calls.push(host);
      return addresses;
    },
  };
}

function sentMessage(c: FakeCircuit, streamId: number, command: number): RelayMessage | undefined {
  const s = c.sent.find((m) => m.streamId === streamId && m.command === command);
  if (s === undefined) return undefined;
  const r = decodeRelayPayload(command, s.data);
  assert.equal(r.kind, 'ok');
  return r.kind === 'ok' ? r.value : undefined;
}

/** Begins and waits for the answer: 'connected' or the END reason. */
async function answerTo(c: FakeCircuit, streamId: number, host: string, port: number) {
  await c.begin(streamId, host, port);
  await until(() => c.answer(streamId) !== undefined, `an answer to stream ${streamId}`);
  return c.answer(streamId);
}

let server: HoldingServer;
before(async () => {
  server = await startHoldingServer({ read: true });
});
after(async () => {
  await server.close();
});

describe('Exit: where a stream may go', () => {
  it('a disabled exit, or a port no rule accepts, refuses before any lookup', async () => {
    const l = fixedLookup(['127.0.0.1']);
    const off = attachCircuit(exitWith({ enabled: false }, { lookup: l.lookup }));
    assert.equal(await answerTo(off, 1, 'a.example', server.port), EndReason.EXITPOLICY);
    const webOnly = exitWith({ policy: ['accept *:443'] }, { lookup: l.lookup });
    const c = attachCircuit(webOnly);
    assert.equal(await answerTo(c, 1, 'a.example', 80), EndReason.EXITPOLICY);
    assert.deepEqual(l.calls, [], 'no name was looked up');
    assert.equal(webOnly.stats.refused, 1);
  });

  it('refuses names that resolve only to addresses off the public internet, mapped ones included', async () => {
    for (const address of [
      '10.1.2.3',
      '192.168.0.1',
      '::ffff:10.1.2.3',
      '::ffff:a01:203',
      'fe80::1%eth0',
      'fd00::1',
    ]) {
      const exit = exitWith({}, { lookup: fixedLookup([address]).lookup });
      const c = attachCircuit(exit);
      assert.equal(await answerTo(c, 1, 'inside.example', server.port), EndReason.EXITPOLICY, address);
      assert.equal(exit.socketsInUse, 0);
    }
  });

  it('loopback only when allowed; then the stream connects and CONNECTED names the address', async () => {
    const strict = exitWith({ allowLoopback: false }, { lookup: fixedLookup(['127.0.0.1']).lookup });
    assert.equal(await answerTo(attachCircuit(strict), 1, 'localhost', server.port), EndReason.EXITPOLICY);
    assert.equal(await answerTo(attachCircuit(strict), 2, '127.0.0.1', server.port), EndReason.EXITPOLICY);

    const testnet = exitWith({}, { lookup: fixedLookup(['10.0.0.1', '127.0.0.1']).lookup });
    const c = attachCircuit(testnet);
    const accepted = server.accepted;
    // The private address is skipped; the allowed one is used.
    assert.equal(await answerTo(c, 1, 'localhost', server.port), 'connected');
    const m = sentMessage(c, 1, RelayCommand.CONNECTED);
    assert.ok(m?.kind === 'connected' && m.address !== undefined);
    assert.equal(formatIp({ family: m.address.family, bytes: m.address.address }), '127.0.0.1');
    await until(() => server.accepted === accepted + 1, 'the connection at the destination');
    assert.equal(testnet.stats.opened, 1);
    assert.equal(testnet.socketsInUse, 1);
    c.die();
    await until(() => testnet.socketsInUse === 0, 'the socket to close with the circuit');
  });

  it('an IP literal is never looked up', async () => {
    const l = fixedLookup(['203.0.113.9']);
    const c = attachCircuit(exitWith({}, { lookup: l.lookup }));
    assert.equal(await answerTo(c, 1, '127.0.0.1', server.port), 'connected');
    assert.equal(await answerTo(c, 2, '::ffff:10.0.0.1', server.port), EndReason.EXITPOLICY);
    assert.deepEqual(l.calls, []);
    c.die();
  });

  it("the policy's address rules apply to the resolved address, a mapped one as its IPv4", async () => {
    const policy = ['reject 127.0.0.0/8:*', 'accept *:*'];
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1']) {
      const exit = exitWith({ policy }, { lookup: fixedLookup([address]).lookup });
      assert.equal(
        await answerTo(attachCircuit(exit), 1, 'a.example', server.port),
        EndReason.EXITPOLICY,
        address,
      );
    }
    // A rule for another port does not stop this one.
    const other = exitWith(
      { policy: ['reject 127.0.0.0/8:1-2', 'accept *:*'] },
      { lookup: fixedLookup(['127.0.0.1']).lookup },
    );
    const c = attachCircuit(other);
    assert.equal(await answerTo(c, 1, 'a.example', server.port), 'connected');
    c.die();
  });

  it('a failed lookup is RESOLVEFAILED; a closed port is CONNECTREFUSED', async () => {
    const failing = exitWith({}, { lookup: () => Promise.reject(new Error('ENOTFOUND')) });
    const c = attachCircuit(failing);
    assert.equal(await answerTo(c, 1, 'nowhere.example', 80), EndReason.RESOLVEFAILED);
    assert.equal(failing.stats.failed, 1);
    const closed = await startHoldingServer({ read: true });
    const port = closed.port;
    await closed.close();
    const d = attachCircuit(exitWith({}, {}));
    assert.equal(await answerTo(d, 1, '127.0.0.1', port), EndReason.CONNECTREFUSED);
  });
});

describe('Exit: RESOLVE', () => {
  async function resolve(exit: Exit, host: string): Promise<RelayMessage | undefined> {
    const c = attachCircuit(exit);
    await c.exit.resolve(3, host);
    return sentMessage(c, 3, RelayCommand.RESOLVED);
  }

  it('answers the addresses a BEGIN could reach, and nothing when none is', async () => {
    const l = fixedLookup(['10.0.0.1', '203.0.113.7', '::ffff:192.168.1.1', '2001:db8::1']);
    const m = await resolve(exitWith({ allowLoopback: false }, { lookup: l.lookup }), 'mixed.example');
    assert.ok(m?.kind === 'resolved');
    assert.equal(m.status, 'ok');
    assert.deepEqual(
      m.addresses.map((a) => formatIp({ family: a.family, bytes: a.address })),
      ['203.0.113.7', '2001:db8::1'],
    );
    assert.deepEqual(l.calls, ['mixed.example']);
    const none = await resolve(exitWith({}, { lookup: fixedLookup(['10.0.0.1']).lookup }), 'inside.example');
    assert.ok(none?.kind === 'resolved');
    assert.notEqual(none.status, 'ok');
    assert.deepEqual(none.addresses, []);
  });

  it('a disabled exit answers an error without a lookup', async () => {
    const l = fixedLookup(['203.0.113.7']);
    const m = await resolve(exitWith({ enabled: false }, { lookup: l.lookup }), 'a.example');
    assert.ok(m?.kind === 'resolved' && m.status !== 'ok');
    assert.deepEqual(l.calls, []);
  });
});
