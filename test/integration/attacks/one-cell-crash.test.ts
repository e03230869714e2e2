// Regression for the one-cell crash (issue: hardening, class 1): a CREATE with circuit id 0 on
// `/anonnet/circuit/1.0.0` was attached as a circuit, its teardown tried to encode a DESTROY for id 0,
// the throw escaped the stream's message listener and ended the process. The relay runs in this test's
// process, so a crash fails the test run. Afterwards the hostile channel is closed and an honest 3-hop
// circuit still carries a stream through the same relay.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ClientCircuit } from '../../../src/circuit/client-circuit.ts';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import type { Host } from '../../../src/p2p/host.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import { CELL_BYTES, LinkCommand } from '../../../src/wire/cell.ts';
import { startEchoServer } from '../lib/echo-server.ts';
import { type MiniNet, startMiniNet } from '../lib/mini-net.ts';

let net: MiniNet;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  net = await startMiniNet([{}, {}, { exit: true }]);
  echo = await startEchoServer();
});

after(async () => {
  echo.server.close();
  await net.stop();
});

function cell(circuitId: number, command: number): Uint8Array {
  const c = randomBytes(CELL_BYTES);
  new DataView(c.buffer, c.byteOffset).setUint32(0, circuitId);
  c[4] = command;
  return c;
}

let attacker: Host | undefined;

/** Opens a channel to the guard from one attacker host, writes `cells`, resolves once it is closed. */
async function sendRaw(cells: readonly Uint8Array[]): Promise<'closed'> {
  const guard = net.relays[0]!;
  attacker ??= await net.addClient();
  const stream = await attacker.dialProtocol(guard.host.getMultiaddrs(), CIRCUIT_PROTOCOL);
  const closed = new Promise<'closed'>((resolve) =>
    stream.addEventListener('close', () => resolve('closed'), { once: true }),
  );
  for (const c of cells) stream.send(c);
  return closed;
}

test('a CREATE with circuit id 0 closes the attacker channel, not the relay', async () => {
  const guard = net.relays[0]!;
  assert.equal(
    await sendRaw([cell(0, LinkCommand.CREATE)]),
    'closed',
    'the relay closed the hostile channel',
  );
  assert.equal(guard.service.circuits.size, 0, 'nothing was attached for id 0');
  assert.ok(guard.service.refusals.count('LINK_PROTOCOL') >= 1, 'the refusal was counted');
});

test('every link command with circuit id 0, then garbage, leaves the relay serving', async () => {
  for (const command of [0, 1, 2, 3, 4, 5, 0x80, 0xff]) await sendRaw([cell(0, command)]);
  const circuit = await ClientCircuit.build(net.client, net.path(0, 1, 2), AbortSignal.timeout(10_000), {
    streams: clientStreams,
  });
  const s = await circuit.openStream('127.0.0.1', echo.port, AbortSignal.timeout(10_000));
  const back = new Promise<string>((resolve, reject) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= 5) resolve(got);
    });
    s.once('error', reject);
  });
  s.write('hello');
  assert.equal(await back, 'hello');
  circuit.close();
});
