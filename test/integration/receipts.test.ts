// Link receipts over real relays (docs/economy.md, "Link receipts"; one process, TCP on 127.0.0.1): on a
// 3-hop circuit carrying 8 MiB from a local server, each relay ends up holding receipts for the cells it
// delivered (the guard's from the client's throwaway key, the middle's from the guard, the exit's from
// the middle). A middle that drops cells is confirmed only the cells it passed on: the exit is paid for
// what it sent, the dropper for none of what it swallowed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { ClientCircuit } from '../../src/circuit/client-circuit.ts';
import { throwawaySigner } from '../../src/economy/circuit-economy.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { MAX_RELAY_DATA } from '../../src/wire/cell.ts';
import { MINI_NET_EPOCH, type MiniNet, startMiniNet } from './lib/mini-net.ts';

const MIB = 1024 * 1024;
let net: MiniNet;
let server: Server;
let port: number;

/** Sends `n` bytes to every connection, then ends it. */
before(async () => {
  net = await startMiniNet([{ receipts: true }, { receipts: true }, { receipts: true, exit: true }]);
  server = createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', (d) => {
      const n = Number(d.toString());
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < n) {
          sent += chunk.length;
          if (!sock.write(chunk)) return void sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.close();
  await net.stop();
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cells = (i: number) => net.relays[i]!.book.cells(MINI_NET_EPOCH);

async function circuit(): Promise<ClientCircuit> {
  return ClientCircuit.build(net.client, net.path(0, 1, 2), AbortSignal.timeout(10_000), {
    streams: clientStreams,
    receipts: throwawaySigner(() => MINI_NET_EPOCH),
  });
}

test('each relay holds receipts for the cells it delivered', async () => {
  const c = await circuit();
  const s = await c.openStream('127.0.0.1', port, AbortSignal.timeout(10_000));
  s.write(String(8 * MIB));
  let got = 0;
  s.on('data', (d: Buffer) => {
    got += d.length;
  });
  await once(s, 'end');
  assert.equal(got, 8 * MIB);
  c.close();
  const data = Math.ceil((8 * MIB) / MAX_RELAY_DATA);
  // The close flushes every hop's last receipt; each relay delivered every DATA cell (and a few more:
  // CONNECTED, END, SENDMEs the other way).
  await until(() => [0, 1, 2].every((i) => cells(i) >= BigInt(data)), 'receipts for every hop');
  for (const i of [0, 1, 2]) {
    assert.ok(
      cells(i) < BigInt(Math.ceil(data * 1.05)),
      `relay ${i} confirmed ${cells(i)}, carried ~${data}`,
    );
  }
});

test('a relay that drops cells is confirmed only those it passed on', async () => {
  const before = [0, 1, 2].map(cells);
  let passed = 0;
  let dropped = 0;
  net.relays[1]!.tamper = (_cell, direction) => {
    if (direction !== 'backward') return undefined;
    if (passed < 300) {
      passed++;
      return undefined;
    }
    dropped++;
    return 'drop';
  };
  const c = await circuit();
  const s = await c.openStream('127.0.0.1', port, AbortSignal.timeout(10_000));
  s.on('data', () => {});
  s.on('error', () => {});
  s.write(String(8 * MIB));
  // The exit sends until its window closes (no SENDMEs come back for what was dropped).
  await until(() => dropped > 300, 'the middle to drop cells');
  await new Promise((r) => setTimeout(r, 300));
  c.close();
  net.relays[1]!.tamper = undefined;
  const delta = (i: number) => cells(i) - (before[i] ?? 0n);
  await until(() => delta(2) >= BigInt(passed + dropped) && delta(1) >= BigInt(passed), 'the last receipts');
  // The exit: every cell it gave the middle. The middle: the cells the guard got (and a few forward
  // cells the exit confirmed), none of the dropped ones. The guard: what reached the client.
  assert.ok(delta(2) >= BigInt(passed + dropped), `exit confirmed ${delta(2)}`);
  assert.ok(
    delta(1) < BigInt(passed + 20),
    `middle confirmed ${delta(1)} for ${passed} passed, ${dropped} dropped`,
  );
  assert.ok(delta(0) <= BigInt(passed + 20), `guard confirmed ${delta(0)}`);
});
