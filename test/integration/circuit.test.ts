// Circuits and streams over real libp2p hosts (TCP on 127.0.0.1, one process): 3-hop circuits to a
// local TCP server, half-close, bulk data both ways, flow control against a reader that stops, tampered
// and replayed cells, refused handshakes and extensions, exit refusals, RESOLVE, and circuit limits.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { CircuitStream } from '../../src/circuit/circuit-streams.ts';
import { ClientCircuit, type PathHop } from '../../src/circuit/client-circuit.ts';
import { CircuitError } from '../../src/circuit/errors.ts';
import { STREAM_SENDME_EVERY, STREAM_WINDOW } from '../../src/circuit/flow.ts';
import { generateIdentity } from '../../src/crypto/identity.ts';
import type { Host } from '../../src/p2p/host.ts';
import { EndReason, StreamEndedError } from '../../src/stream/anon-stream.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { CELL_HEADER_BYTES, MAX_RELAY_DATA } from '../../src/wire/cell.ts';
import {
  freshOnionKeyPair,
  type MiniNet,
  type MiniRelay,
  publicOnionKey,
  startMiniNet,
} from './lib/mini-net.ts';

const GUARD = 0;
const MIDDLE = 1;
const EXIT = 2;

let net: MiniNet;
let middle: MiniRelay;
let exit: MiniRelay;

/** Echo server: echoes every byte; on the client's FIN it answers "BYE" and ends (half-close). */
interface EchoServer {
  readonly server: Server;
  readonly port: number;
  /** Per connection, in order: 'end' when the client's FIN arrived, 'reply' when BYE was written. */
  readonly events: string[];
}

let echo: EchoServer;

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function startEcho(): Promise<EchoServer> {
  const events: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    sock.on('error', () => {});
    sock.pipe(sock, { end: false });
    sock.on('end', () => {
      events.push('end');
      sock.end('BYE', () => events.push('reply'));
    });
  });
  return { server, port: await listen(server), events };
}

function signal(ms = 10_000): AbortSignal {
  return AbortSignal.timeout(ms);
}

async function build(path: readonly PathHop[], host: Host = net.client): Promise<ClientCircuit> {
  return ClientCircuit.build(host, path, signal(), { streams: clientStreams });
}

/** Everything the stream yields until its end; rejects on error or a close without end. */
function collect(stream: CircuitStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new Error('stream closed before its end'));
    });
  });
}

async function readExactly(stream: CircuitStream, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = stream.read() as Buffer | null;
    if (chunk === null) {
      await once(stream, 'readable');
      continue;
    }
    chunks.push(chunk);
    have += chunk.length;
  }
  return Buffer.concat(chunks);
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function closedWith(circuit: ClientCircuit): Promise<Error> {
  return new Promise((resolve) => circuit.onClose((_c, err) => resolve(err)));
}

const allRelaysIdle = () => net.relays.every((r) => r.service.circuits.size === 0);

before(async () => {
  net = await startMiniNet([{}, {}, { exit: true }]);
  [middle, exit] = [net.relays[MIDDLE]!, net.relays[EXIT]!];
  echo = await startEcho();
});

after(async () => {
  echo.server.close();
  await net.stop();
});

test('a 3-hop circuit carries a round trip, half-close and 2 MiB both ways', async () => {
  const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
  assert.equal(circuit.state, 'open');
  assert.equal(circuit.hops, 3);
  assert.equal(exit.exit.stats.opened, 0);

  const s = await circuit.openStream('127.0.0.1', echo.port, signal());
  assert.equal(exit.exit.stats.opened, 1);
  s.write('hello');
  assert.equal((await readExactly(s, 5)).toString(), 'hello');

  // Half-close: our FIN reaches the server, whose reply still comes back, then the stream ends.
  const eventsBefore = echo.events.length;
  const rest = collect(s);
  s.end();
  await until(() => echo.events.length > eventsBefore, 'the server to see our FIN');
  assert.equal(echo.events[eventsBefore], 'end');
  assert.equal((await rest).toString(), 'BYE');
  await until(() => s.destroyed, 'the stream to close');

  // 2 MiB up, echoed back, byte for byte.
  const big = randomBytes(2 * 1024 * 1024);
  const s2 = await circuit.openStream('127.0.0.1', echo.port, signal());
  const back = collect(s2);
  s2.end(big);
  const got = await back;
  assert.equal(got.length, big.length + 3);
  assert.ok(got.subarray(0, big.length).equals(big), '2 MiB came back byte-identical');
  assert.equal(got.subarray(big.length).toString(), 'BYE');

  circuit.close();
  await until(allRelaysIdle, 'every relay to forget the circuit');
});

test('flow control: a reader that stops reading stops the exit within the stream window', async () => {
  const TOTAL = 20 * 1024 * 1024;
  const block = randomBytes(64 * 1024);
  const state = { written: 0, blocked: false, drains: 0 };
  let serverSocket: Socket | undefined;
  const server = createServer((sock) => {
    serverSocket = sock;
    sock.on('error', () => {});
    const pump = (): void => {
      while (state.written < TOTAL) {
        state.written += block.length;
        if (!sock.write(block)) {
          state.blocked = true;
          sock.once('drain', () => {
            state.blocked = false;
            state.drains++;
            pump();
          });
          return;
        }
      }
      sock.end();
    };
    pump();
  });
  const port = await listen(server);
  try {
    const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
    let backwardCells = 0;
    middle.tamper = (_cell, dir) => {
      if (dir === 'backward') backwardCells++;
    };
    const s = await circuit.openStream('127.0.0.1', port, signal());
    s.pause(); // nobody reads

    // Wait until nothing moves any more: the server blocked, no cell on the circuit for 600 ms.
    let last = -1;
    let stillSince = Date.now();
    await until(
      () => {
        const now = Date.now();
        const mark = backwardCells * 1e9 + state.written;
        if (mark !== last) {
          last = mark;
          stillSince = now;
        }
        return state.blocked && now - stillSince > 600;
      },
      'the transfer to stall',
      15_000,
    );
    // The exit sent at most the stream window plus the SENDMEs granted before the reader's buffer
    // filled (256 KiB: at most 2 of them); everything else waits in socket buffers.
    const maxCells = STREAM_WINDOW + 2 * STREAM_SENDME_EVERY;
    assert.ok(backwardCells > STREAM_WINDOW, `exit filled its window (${backwardCells} cells)`);
    assert.ok(s.bytesRead <= maxCells * MAX_RELAY_DATA, `client got ${s.bytesRead} bytes`);
    assert.ok(backwardCells <= maxCells + 5, `middle relayed ${backwardCells} cells back`);
    assert.ok(state.written < TOTAL, 'the server could not write everything');
    assert.ok(state.blocked, 'the server is blocked on write()');

    // Reading again lets everything through, byte for byte.
    const expected = createHash('sha256');
    for (let i = 0; i < TOTAL / block.length; i++) expected.update(block);
    const h = createHash('sha256');
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
      h.update(c);
    });
    s.resume();
    await until(() => s.readableEnded, 'the whole 20 MiB', 30_000);
    assert.equal(n, TOTAL);
    assert.equal(h.digest('hex'), expected.digest('hex'));
    assert.ok(state.drains > 0);
    assert.equal(circuit.state, 'open', 'no window was violated');
    s.end();
    circuit.close();
  } finally {
    middle.tamper = undefined;
    serverSocket?.destroy();
    server.close();
  }
  await until(allRelaysIdle, 'every relay to forget the circuit');
});

/** Flips one bit in the body of the next RELAY cell the relay passes on in `direction`. */
function flipNext(relay: MiniRelay, direction: 'forward' | 'backward'): () => number {
  let flipped = 0;
  relay.tamper = (cell, dir) => {
    if (dir !== direction || flipped > 0) return;
    cell[CELL_HEADER_BYTES + 100] = cell[CELL_HEADER_BYTES + 100]! ^ 0x10;
    flipped++;
  };
  return () => flipped;
}

async function openEchoStream(
  circuit: ClientCircuit,
): Promise<{ s: CircuitStream; errored: Promise<Error> }> {
  const s = await circuit.openStream('127.0.0.1', echo.port, signal());
  s.write('ping');
  assert.equal((await readExactly(s, 4)).toString(), 'ping');
  const errored = new Promise<Error>((resolve) => s.once('error', resolve));
  return { s, errored };
}

test('a bit flipped in a forward cell tears the circuit down', async () => {
  const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
  const { s, errored } = await openEchoStream(circuit);
  const failuresBefore = exit.service.stats.integrityFailures + middle.service.stats.integrityFailures;
  const closed = closedWith(circuit);
  const flipped = flipNext(middle, 'forward');
  try {
    s.write('this cell is modified on the way');
    const err = await closed;
    assert.equal(flipped(), 1);
    assert.equal(circuit.state, 'closed');
    assert.ok(err instanceof CircuitError);
    assert.equal(err.code, 'DESTROYED');
    assert.ok((await errored) instanceof Error, 'the open stream errors');
    assert.equal(
      exit.service.stats.integrityFailures + middle.service.stats.integrityFailures,
      failuresBefore + 1,
    );
    assert.equal(circuit.integrityFailures, 0);
  } finally {
    middle.tamper = undefined;
  }
  await until(allRelaysIdle, 'every relay to forget the circuit');
});

test('a bit flipped in a backward cell: the client closes with INTEGRITY', async () => {
  const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
  const { s, errored } = await openEchoStream(circuit);
  const closed = closedWith(circuit);
  const flipped = flipNext(middle, 'backward');
  try {
    s.write('the echo of this is modified');
    const err = await closed;
    assert.equal(flipped(), 1);
    assert.ok(err instanceof CircuitError);
    assert.equal(err.code, 'INTEGRITY');
    assert.equal(circuit.integrityFailures, 1);
    assert.equal(circuit.state, 'closed');
    assert.equal(await errored, err);
  } finally {
    middle.tamper = undefined;
  }
  await until(allRelaysIdle, 'every relay to forget the circuit');
});

test('a replayed forward cell tears the circuit down', async () => {
  const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
  const { s, errored } = await openEchoStream(circuit);
  const failuresBefore = exit.service.stats.integrityFailures;
  let saved: Uint8Array | undefined;
  let replayed = 0;
  middle.tamper = (cell, dir) => {
    if (dir !== 'forward' || replayed > 0) return;
    if (saved === undefined) saved = Uint8Array.from(cell);
    else {
      cell.set(saved);
      replayed++;
    }
  };
  const closed = closedWith(circuit);
  try {
    s.write('first');
    assert.equal((await readExactly(s, 5)).toString(), 'first');
    s.write('second');
    const err = await closed;
    assert.equal(replayed, 1);
    assert.equal(circuit.state, 'closed');
    assert.ok(err instanceof CircuitError);
    assert.ok((await errored) instanceof Error);
    assert.equal(exit.service.stats.integrityFailures, failuresBefore + 1);
  } finally {
    middle.tamper = undefined;
  }
  await until(allRelaysIdle, 'every relay to forget the circuit');
});

test('a relay lost under an open circuit, and then built through: each failure names that relay', async () => {
  const doomed = await net.addRelay({});
  const circuit = await build([net.path(GUARD)[0]!, doomed.hop, net.path(EXIT)[0]!]);
  const { errored } = await openEchoStream(circuit);
  const closed = closedWith(circuit);
  // A crash, not a clean stop: the host goes away without the relay service saying goodbye.
  await doomed.host.stop();
  const err = await closed;
  assert.ok(err instanceof CircuitError, String(err));
  assert.equal(err.code, 'TRUNCATED', err.message);
  assert.equal(err.unreachable, doomed.hop.peerId, 'the guard reported its link to the middle lost');
  assert.ok((await errored) instanceof Error, 'the open stream errors');
  // Extending to it now fails at the guard: TRUNCATED again, naming it.
  await assert.rejects(build([net.path(GUARD)[0]!, doomed.hop, net.path(EXIT)[0]!]), (e: unknown) => {
    assert.ok(e instanceof CircuitError, String(e));
    assert.equal(e.code, 'TRUNCATED', e.message);
    assert.equal(e.unreachable, doomed.hop.peerId);
    return true;
  });
  // As a first hop: our own dial fails.
  await assert.rejects(build([doomed.hop, net.path(MIDDLE)[0]!, net.path(EXIT)[0]!]), (e: unknown) => {
    assert.ok(e instanceof CircuitError, String(e));
    assert.equal(e.code, 'UNREACHABLE', e.message);
    assert.equal(e.unreachable, doomed.hop.peerId);
    return true;
  });
  await until(allRelaysIdle, 'every relay to forget the circuits');
});

test('a refused handshake names no relay as unreachable', async () => {
  const stranger = publicOnionKey(freshOnionKeyPair());
  const [g, m, e] = net.path(GUARD, MIDDLE, EXIT) as [PathHop, PathHop, PathHop];
  await assert.rejects(build([g, { ...m, onionKey: stranger }, e]), (err: unknown) => {
    assert.ok(err instanceof CircuitError, String(err));
    assert.equal(err.unreachable, undefined, err.message);
    return true;
  });
  await until(allRelaysIdle, 'every relay to forget the refused circuit');
});

test('CREATE with an unknown onion key is refused, at the first hop and through EXTEND', async () => {
  const stranger = publicOnionKey(freshOnionKeyPair());
  const [g, m, e] = net.path(GUARD, MIDDLE, EXIT) as [PathHop, PathHop, PathHop];
  await assert.rejects(build([{ ...g, onionKey: stranger }, m, e]), CircuitError);
  await assert.rejects(build([g, { ...m, onionKey: stranger }, e]), CircuitError);
  await assert.rejects(build([g, m, { ...e, onionKey: stranger }]), CircuitError);
  await until(allRelaysIdle, 'every relay to forget the refused circuits');
});

test('EXTEND to an unknown identity fails the build and leaks nothing', async () => {
  const [g, m] = net.path(GUARD, MIDDLE) as [PathHop, PathHop];
  const unknown: PathHop = { ...m, identityKey: generateIdentity().publicKey };
  await assert.rejects(build([g, unknown]), (err: unknown) => {
    assert.ok(err instanceof CircuitError, String(err));
    return true;
  });
  await until(allRelaysIdle, 'the guard to forget the circuit');
});

test('exit refusals: policy, closed port; RESOLVE answers localhost', async () => {
  const rejecting = await net.addRelay({ exit: true, exitPolicy: ['reject *:*'] });
  const refused = await build([...net.path(GUARD, MIDDLE), rejecting.hop]);
  await assert.rejects(refused.openStream('127.0.0.1', echo.port, signal()), (err: unknown) => {
    assert.ok(err instanceof StreamEndedError, String(err));
    assert.equal(err.reason, EndReason.EXITPOLICY);
    return true;
  });
  assert.equal(rejecting.exit.stats.refused, 1);
  assert.equal(refused.state, 'open', 'a refused stream leaves the circuit open');
  refused.close();

  const circuit = await build(net.path(GUARD, MIDDLE, EXIT));
  const probe = createServer();
  const closedPort = await listen(probe);
  probe.close();
  await once(probe, 'close');
  await assert.rejects(circuit.openStream('127.0.0.1', closedPort, signal()), (err: unknown) => {
    assert.ok(err instanceof StreamEndedError, String(err));
    assert.equal(err.reason, EndReason.CONNECTREFUSED);
    return true;
  });

  const answer = await circuit.resolve('localhost', signal());
  assert.ok(answer.ok);
  assert.ok(
    answer.addresses.some((a) => a === '127.0.0.1' || a === '0:0:0:0:0:0:0:1'),
    answer.addresses.join(' '),
  );
  assert.equal(circuit.state, 'open');
  circuit.close();
  await until(allRelaysIdle, 'every relay to forget the circuits');
});

test('a relay at its circuit limit refuses the next circuit', async () => {
  const limited = await net.addRelay({
    limits: { maxCircuits: 2, maxStreamsPerCircuit: 4, createTimeoutMs: 5_000, extendTimeoutMs: 5_000 },
  });
  const a = await build([limited.hop]);
  const b = await build([limited.hop]);
  assert.equal(limited.service.circuits.size, 2);
  // From another host (its own connection): the relay's own limit answers.
  const other = await net.addClient();
  await assert.rejects(build([limited.hop], other));
  assert.equal(limited.service.stats.circuitsRefused, 1);
  // From the same host too.
  await assert.rejects(build([limited.hop]));
  assert.equal(limited.service.circuits.size, 2);
  a.close();
  b.close();
  await until(() => limited.service.circuits.size === 0, 'the limited relay to forget its circuits');
  // Room again.
  const c = await build([limited.hop]);
  c.close();
  await until(allRelaysIdle, 'every relay to forget the circuits');
});
