// Circuit length and authenticated SENDMEs (hardening issue, class 8), in one process with real
// libp2p hosts: a circuit built by hand (test/e2e/attackers/hand-circuit.ts) tries to loop through the
// same relays, to extend outside RELAY_EARLY, to extend back to the hop it came from, and to
// acknowledge data it never received; the relays refuse each, and honest circuits (the client's, and
// a hand-built one that follows the rules) keep working.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ClientCircuit, MAX_CIRCUIT_HOPS, type PathHop } from '../../../src/circuit/client-circuit.ts';
import { CircuitError } from '../../../src/circuit/errors.ts';
import { CIRCUIT_SENDME_EVERY, CIRCUIT_WINDOW, SENDME_RANDOM_BYTES } from '../../../src/circuit/flow.ts';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import {
  DestroyReason,
  MAX_RELAY_DATA,
  MAX_RELAY_EARLY_CELLS,
  RelayCommand,
} from '../../../src/wire/cell.ts';
import {
  type Acknowledge,
  HandCircuit,
  type HandHop,
  type RelayMessageIn,
} from '../../e2e/attackers/hand-circuit.ts';
import { startEchoServer } from '../lib/echo-server.ts';
import { type MiniNet, type MiniRelay, startMiniNet } from '../lib/mini-net.ts';

let net: MiniNet;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
/** A server that sends `?` MiB of bytes to whoever connects (the first line it reads says how many). */
let source: { server: Server; port: number };
let A: MiniRelay;
let B: MiniRelay;
let C: MiniRelay;
let EXIT: MiniRelay;

before(async () => {
  net = await startMiniNet([{}, {}, {}, { exit: true }]);
  [A, B, C, EXIT] = net.relays as [MiniRelay, MiniRelay, MiniRelay, MiniRelay];
  echo = await startEchoServer();
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', (line) => {
      const mib = Number(line.toString().trim());
      const block = randomBytes(64 * 1024);
      let left = mib * 16;
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!sock.write(block)) return void sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  source = { server, port: (server.address() as AddressInfo).port };
});

after(async () => {
  echo.server.close();
  source.server.close();
  await net.stop();
});

const hand = (r: MiniRelay): HandHop => r.hop;

async function open(first: MiniRelay): Promise<HandCircuit> {
  const attacker = await net.addClient();
  const stream = await attacker.dialProtocol(first.host.getMultiaddrs(), CIRCUIT_PROTOCOL, {
    signal: AbortSignal.timeout(10_000),
  });
  return HandCircuit.create(stream, hand(first));
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const allRelaysIdle = () => net.relays.every((r) => r.service.circuits.size === 0);

describe('circuit length', () => {
  test('a loop through three relays is cut at the 9th extend, at the first hop', async () => {
    const cycle = [B, C, A];
    const c = await open(A);
    let accepted = 0;
    for (let i = 0; i < 40; i++) {
      if (!(await c.extend(hand(cycle[i % 3]!)))) break;
      accepted++;
    }
    assert.equal(accepted, MAX_RELAY_EARLY_CELLS, 'exactly 8 extends went through');
    assert.equal(c.hops, MAX_CIRCUIT_HOPS);
    assert.deepEqual(c.ended, { kind: 'destroy', reason: DestroyReason.PROTOCOL });
    assert.equal(A.service.refusals.count('RELAY_EARLY_EXCEEDED'), 1, 'the first hop counted them');
    await until(allRelaysIdle, 'every relay to forget the 9 circuits');
  });

  test('RELAY_EARLY cells of any kind count: 8 are fine, the 9th destroys the circuit', async () => {
    const before = A.service.refusals.count('RELAY_EARLY_EXCEEDED');
    const c = await open(A);
    assert.ok(await c.extend(hand(B)));
    assert.ok(await c.extend(hand(EXIT)));
    // 2 EXTENDs and 6 DROPs to the exit: 8 RELAY_EARLY cells, the most a circuit may carry.
    const none = new Uint8Array(0);
    for (let i = 2; i < MAX_RELAY_EARLY_CELLS; i++) c.sendRelay(2, 0, RelayCommand.DROP, none, true);
    assert.ok(await c.begin(5, '127.0.0.1', echo.port), 'still usable after 8');
    c.sendRelay(2, 5, RelayCommand.DATA, Uint8Array.of(1, 2, 3));
    const back = await c.next((m) => m.command === RelayCommand.DATA);
    assert.deepEqual([...back.data], [1, 2, 3]);
    assert.equal(c.ended, undefined);
    c.sendRelay(2, 0, RelayCommand.DROP, none, true);
    assert.deepEqual(await c.whenEnded(5_000), { kind: 'destroy', reason: DestroyReason.PROTOCOL });
    assert.equal(A.service.refusals.count('RELAY_EARLY_EXCEEDED'), before + 1);
    await until(allRelaysIdle, 'every relay to forget the circuit');
  });

  test('EXTEND in a RELAY cell (not RELAY_EARLY) is refused', async () => {
    const c = await open(A);
    assert.equal(await c.extend(hand(B), false), false);
    assert.deepEqual(c.ended, { kind: 'destroy', reason: DestroyReason.PROTOCOL });
    assert.equal(A.service.refusals.count('EXTEND_NOT_EARLY'), 1);
    await until(allRelaysIdle, 'every relay to forget the circuit');
  });

  test('A-B-A is refused at B, A-A at A: TRUNCATED naming no relay unreachable', async () => {
    await assert.rejects(
      ClientCircuit.build(net.client, [A.hop, B.hop, A.hop], AbortSignal.timeout(10_000), {
        streams: clientStreams,
      }),
      (err: unknown) => {
        assert.ok(err instanceof CircuitError, String(err));
        assert.equal(err.code, 'TRUNCATED', err.message);
        assert.match(err.message, /after hop 2 \(reason 1\)/);
        assert.equal(err.unreachable, undefined);
        return true;
      },
    );
    assert.equal(B.service.refusals.count('EXTEND_TO_PREVIOUS_HOP'), 1);
    await assert.rejects(
      ClientCircuit.build(net.client, [A.hop, A.hop], AbortSignal.timeout(10_000), {
        streams: clientStreams,
      }),
      (err: unknown) => {
        assert.ok(err instanceof CircuitError, String(err));
        assert.match(err.message, /after hop 1 \(reason 1\)/);
        return true;
      },
    );
    assert.equal(A.service.refusals.count('EXTEND_TO_SELF'), 1);
    // By hand, the same: B answers TRUNCATED (PROTOCOL) at its own layer.
    const c = await open(A);
    assert.ok(await c.extend(hand(B)));
    assert.equal(await c.extend(hand(A)), false);
    assert.deepEqual(c.ended, { kind: 'truncated', hop: 1, reason: DestroyReason.PROTOCOL });
    await until(allRelaysIdle, 'every relay to forget the refused circuits');
  });

  test('the client builds 9 hops through a loop of three relays, and refuses 10', async () => {
    const path: PathHop[] = [A, B, C, A, B, C, A, B, EXIT].map((r) => r.hop);
    const circuit = await ClientCircuit.build(net.client, path, AbortSignal.timeout(20_000), {
      streams: clientStreams,
    });
    assert.equal(circuit.hops, 9);
    const s = await circuit.openStream('127.0.0.1', echo.port, AbortSignal.timeout(10_000));
    s.write('through nine hops');
    const [got] = (await once(s, 'data')) as [Buffer];
    assert.equal(got.toString(), 'through nine hops');
    circuit.close();
    await assert.rejects(
      ClientCircuit.build(net.client, [C.hop, ...path], AbortSignal.timeout(10_000), {
        streams: clientStreams,
      }),
      (err: unknown) => err instanceof CircuitError && err.code === 'LIMIT',
    );
    await until(allRelaysIdle, 'every relay to forget the circuits');
  });
});

describe('authenticated SENDMEs', () => {
  /** A hand circuit A → EXIT streaming `mib` MiB from the source server, acknowledging as told. */
  async function download(mib: number, acknowledge: Acknowledge): Promise<HandCircuit> {
    const c = await open(A);
    c.acknowledge = acknowledge;
    assert.ok(await c.extend(hand(EXIT)));
    assert.ok(await c.begin(7, '127.0.0.1', source.port));
    c.sendRelay(1, 7, RelayCommand.DATA, new TextEncoder().encode(`${mib}\n`));
    return c;
  }

  const dataCells = (c: HandCircuit, n: number) =>
    c.next((m) => m.command === RelayCommand.DATA && c.dataCellsReceived >= n, 15_000);

  test('an honest hand-built circuit downloads far past the window with v1 SENDMEs', async () => {
    const c = await download(8, 'honest');
    const due: RelayMessageIn[] = [];
    c.onMessage = (m) => {
      if (m.command === RelayCommand.DATA && c.dataCellsReceived % CIRCUIT_SENDME_EVERY === 0) due.push(m);
    };
    await c.next((m) => m.command === RelayCommand.END || m.command === RelayCommand.FIN, 30_000);
    assert.equal(c.dataBytesReceived, 8 * 1024 * 1024);
    assert.ok(c.dataCellsReceived > 3 * CIRCUIT_WINDOW);
    assert.equal(c.ended, undefined, 'no SENDME was refused');
    // Every cell that made a SENDME due left room for random padding, and carries some.
    assert.ok(due.length >= 30);
    for (const m of due) {
      assert.ok(m.data.length <= MAX_RELAY_DATA - SENDME_RANDOM_BYTES);
      assert.ok(
        m.padding!.some((b) => b !== 0),
        'random padding',
      );
    }
    c.close();
    await until(allRelaysIdle, 'every relay to forget the circuit');
  });

  for (const [name, digest, code] of [
    ['a guessed digest', () => randomBytes(16), 'SENDME_FORGED'],
    ['an empty (version 0) SENDME', () => undefined, 'SENDME_FORGED'],
  ] as const) {
    test(`${name} at the 100th cell closes the circuit at the exit`, async () => {
      const before = EXIT.service.refusals.count(code);
      const c = await download(64, 'streams');
      await dataCells(c, CIRCUIT_SENDME_EVERY);
      for (let i = 0; i < 10; i++) c.sendSendme(1, 0, digest());
      assert.deepEqual(await c.whenEnded(10_000), { kind: 'destroy', reason: DestroyReason.PROTOCOL });
      assert.equal(EXIT.service.refusals.count(code), before + 1);
      assert.ok(c.dataCellsReceived <= CIRCUIT_WINDOW, `${c.dataCellsReceived} cells: never past the window`);
      await until(allRelaysIdle, 'every relay to forget the circuit');
    });
  }

  test('a SENDME before any data was sent acknowledges nothing: closed', async () => {
    const c = await open(A);
    assert.ok(await c.extend(hand(EXIT)));
    assert.ok(await c.begin(7, '127.0.0.1', echo.port));
    c.sendSendme(1, 0, randomBytes(16));
    assert.deepEqual(await c.whenEnded(10_000), { kind: 'destroy', reason: DestroyReason.PROTOCOL });
    assert.equal(EXIT.service.refusals.count('SENDME_UNEXPECTED'), 1);
    await until(allRelaysIdle, 'every relay to forget the circuit');
  });

  test('without circuit SENDMEs the exit stops at the circuit window', async () => {
    const c = await download(64, 'streams');
    await dataCells(c, CIRCUIT_WINDOW);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.dataCellsReceived, CIRCUIT_WINDOW, 'not one cell past the window');
    assert.equal(c.ended, undefined);
    c.close();
    await until(allRelaysIdle, 'every relay to forget the circuit');
  });
});
