// Channels (src/circuit/channel.ts) over real libp2p hosts: circuits through the same neighbours
// share one libp2p stream per link; closing one circuit leaves the others working and the relays
// forget only that circuit; a circuit through a closed channel fails cleanly and the next build opens
// a new one.
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, before, test } from 'node:test';
import type { CircuitStream } from '../../src/circuit/circuit-streams.ts';
import { ClientCircuit } from '../../src/circuit/client-circuit.ts';
import { CIRCUIT_PROTOCOL } from '../../src/circuit/protocol.ts';
import type { Host } from '../../src/p2p/host.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { startEchoServer } from './lib/echo-server.ts';
import { type MiniNet, startMiniNet } from './lib/mini-net.ts';

let net: MiniNet;
let echo: Server;
let port: number;

const signal = () => AbortSignal.timeout(10_000);
const circuitStreams = (h: Host) =>
  h
    .getConnections()
    .flatMap((c) => c.streams.filter((s) => s.protocol === CIRCUIT_PROTOCOL && s.status === 'open'));

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function roundTrip(s: CircuitStream, text: string): Promise<string> {
  const got = new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
  s.write(text);
  return got;
}

before(async () => {
  net = await startMiniNet([{}, {}, { exit: true }]);
  ({ server: echo, port } = await startEchoServer());
});

after(async () => {
  echo.close();
  await net.stop();
});

test('circuits through the same relays share one stream per link', async () => {
  const before = circuitStreams(net.client).length;
  const circuits = await Promise.all(
    [1, 2, 3, 4].map(() =>
      ClientCircuit.build(net.client, net.path(0, 1, 2), signal(), { streams: clientStreams }),
    ),
  );
  // One stream client -> guard, whatever the number of circuits.
  assert.equal(circuitStreams(net.client).length, Math.max(before, 1));
  for (const r of net.relays) assert.equal(r.service.circuits.size, 4);
  const streams = await Promise.all(circuits.map((c) => c.openStream('127.0.0.1', port, signal())));
  assert.deepEqual(await Promise.all(streams.map((s, i) => roundTrip(s, `circuit ${i}`))), [
    'circuit 0',
    'circuit 1',
    'circuit 2',
    'circuit 3',
  ]);

  // Closing one circuit: the relays forget it, the others still carry data.
  circuits[0]!.close();
  await until(() => net.relays.every((r) => r.service.circuits.size === 3), 'relays to forget one circuit');
  assert.equal(await roundTrip(streams[1]!, 'still here'), 'still here');
  for (const s of streams.slice(1)) s.destroy();
  for (const c of circuits.slice(1)) c.close();
  await until(() => net.relays.every((r) => r.service.circuits.size === 0), 'relays to forget every circuit');
});

test('a closed channel fails its circuits cleanly; the next build opens a new one', async () => {
  const a = await ClientCircuit.build(net.client, net.path(0, 1, 2), signal(), { streams: clientStreams });
  const closed = new Promise<Error>((resolve) => a.onClose((_c, err) => resolve(err)));
  // Reset the client's circuit stream to the guard under the circuit.
  for (const s of circuitStreams(net.client)) s.abort(new Error('test: link reset'));
  const err = await closed;
  assert.equal(a.state, 'closed');
  assert.match(err.message, /link|closed/i);
  await until(() => net.relays.every((r) => r.service.circuits.size === 0), 'relays to drop the circuit');

  const b = await ClientCircuit.build(net.client, net.path(0, 1, 2), signal(), { streams: clientStreams });
  const s = await b.openStream('127.0.0.1', port, signal());
  assert.equal(await roundTrip(s, 'new channel'), 'new channel');
  s.destroy();
  b.close();
  await until(() => net.relays.every((r) => r.service.circuits.size === 0), 'relays to forget the circuit');
});
