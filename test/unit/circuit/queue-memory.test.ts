// The node-wide bound on queued cells and its out-of-memory policy (src/circuit/cell-queue.ts): real
// channels over yamux in memory (lib/yamux-pair.ts) whose neighbours stopped reading share one
// QueueMemory; past the bound, the circuits holding the most queued cells are closed (a relay's two
// queues counting as one circuit) until a tenth of the bound is free, the others keep their cells.
// Also CellQueue itself: FIFO order across compactions, and cells that wait own their bytes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CellLink } from '../../../src/circuit/cell-link.ts';
import { CellQueue, ownBytes, QueueMemory } from '../../../src/circuit/cell-queue.ts';
import { Channel, type ChannelCircuit, type QueueOverflow } from '../../../src/circuit/channel.ts';
import { defaultChannelLimits } from '../../../src/circuit/channel-limits.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  type CircuitId,
  DestroyReason,
  encodeCell,
  LinkCommand,
} from '../../../src/wire/cell.ts';
import { type YamuxPair, yamuxPair } from './lib/yamux-pair.ts';

const open: YamuxPair[] = [];
after(() => {
  for (const p of open) p.close();
});

function relayCell(id: number, seq: number): Uint8Array {
  return encodeCell({
    circuitId: id as CircuitId,
    command: LinkCommand.RELAY,
    body: Uint8Array.of(seq >> 8, seq & 0xff),
  });
}

function sendMany(c: ChannelCircuit, n: number): void {
  for (let i = 0; i < n; i++) c.send(relayCell(c.id, i));
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A channel to a neighbour that has stopped reading, its stream already full. */
async function blockedChannel(memory: QueueMemory): Promise<{
  near: Channel;
  pair: YamuxPair;
  received: Array<{ id: number; command: number; first: number }>;
}> {
  const pair = await yamuxPair();
  open.push(pair);
  const near = new Channel(new CellLink(pair.outbound), { memory });
  const far = new Channel(new CellLink(pair.inbound));
  const received: Array<{ id: number; command: number; first: number }> = [];
  far.onUnknown = (id, cell) => received.push({ id, command: cell[4]!, first: cell[CELL_HEADER_BYTES]! });
  pair.inbound.pause();
  // Fill the stream (the yamux window, and a batch in libp2p's buffer) a few cells at a time (under
  // any bound a test sets), until cells stay queued; then drop what the filler still queues.
  const filler = near.attach(0xffff as CircuitId);
  let still = 0;
  for (let i = 0; still < 5; i++) {
    if (i > 500) throw new Error('the stream never filled');
    if (filler.queuedCells === 0) {
      sendMany(filler, 16);
      still = 0;
    } else still++;
    await new Promise((r) => setTimeout(r, 10));
  }
  filler.discard();
  return { near, pair, received };
}

test('past the bound, the circuits holding the most are closed first, down to 90% of the bound', async () => {
  const memory = new QueueMemory({ ...defaultChannelLimits, maxQueuedBytes: 100 * CELL_BYTES });
  const ch = [await blockedChannel(memory), await blockedChannel(memory), await blockedChannel(memory)];
  assert.equal(memory.bytes, 0);
  const why = new Map<number, QueueOverflow>();
  const attach = (i: number, id: number): ChannelCircuit => {
    const c = ch[i]!.near.attach(id as CircuitId);
    c.onQueueOverflow = (w) => why.set(id, w);
    return c;
  };
  const a = attach(0, 10);
  const b = attach(1, 20);
  const d = attach(1, 40);
  // One relay circuit: a queue on channel 2 and one on channel 0, one owner.
  const c1 = attach(2, 31);
  const c2 = attach(0, 32);
  const relayCircuit = {};
  c1.owner = relayCircuit;
  c2.owner = relayCircuit;
  // Each queue of the relay circuit holds less than a or b, but the circuit holds the most.
  sendMany(a, 50);
  sendMany(b, 45);
  sendMany(c1, 35);
  sendMany(c2, 35);
  sendMany(d, 5);
  assert.deepEqual(
    [a, b, c1, c2, d].map((c) => c.queuedCells),
    [50, 45, 35, 35, 5],
    'every cell waits',
  );
  assert.equal(memory.bytes, 170 * CELL_BYTES, '170 queued, the bound is 100');
  await new Promise((r) => setTimeout(r, 0));
  // The relay circuit (70) goes: 102 left with its two DESTROYs, still above 90; then a (50): 53.
  assert.deepEqual(
    [...why.entries()].sort((x, y) => x[0] - y[0]),
    [
      [10, 'memory'],
      [31, 'memory'],
      [32, 'memory'],
    ],
  );
  assert.equal(memory.stats.oomClosed, 2, 'two circuits closed');
  assert.equal(memory.stats.oomRuns, 1);
  assert.ok(a.closed && c1.closed && c2.closed);
  assert.ok(!b.closed && !d.closed, 'the smaller holders keep their cells');
  assert.equal(b.queuedCells, 45);
  assert.equal(d.queuedCells, 5);
  // What is left: b and d, and one DESTROY for each closed queue.
  assert.equal(memory.bytes, (45 + 5 + 3) * CELL_BYTES);
  assert.ok(memory.bytes <= 0.9 * 100 * CELL_BYTES);

  // The neighbours read again: the survivors' cells and the DESTROYs arrive, all memory comes back.
  for (const c of ch) c.pair.inbound.resume();
  await until(() => memory.bytes === 0, 'every queue to empty');
  const destroys = ch.flatMap((c) =>
    c.received.filter((r) => r.command === LinkCommand.DESTROY && r.id !== 0xffff),
  );
  assert.deepEqual(
    destroys.map((r) => [r.id, r.first]).sort((x, y) => x[0]! - y[0]!),
    [
      [10, DestroyReason.RESOURCELIMIT],
      [31, DestroyReason.RESOURCELIMIT],
      [32, DestroyReason.RESOURCELIMIT],
    ],
  );
  const relays = (id: number) =>
    ch.flatMap((c) => c.received).filter((r) => r.id === id && r.command === LinkCommand.RELAY).length;
  assert.equal(relays(20), 45);
  assert.equal(relays(40), 5);
  assert.equal(relays(10), 0, "a's queued cells were dropped");
});

test('a circuit that closed with cells queued keeps only its DESTROY under memory pressure', async () => {
  const memory = new QueueMemory({ ...defaultChannelLimits, maxQueuedBytes: 50 * CELL_BYTES });
  const { near, pair, received } = await blockedChannel(memory);
  const leaving = near.attach(9 as CircuitId);
  sendMany(leaving, 40);
  leaving.close(); // graceful: its 40 cells, then DESTROY
  assert.equal(leaving.queuedCells, 41);
  const staying = near.attach(8 as CircuitId);
  sendMany(staying, 20); // 61 queued: over the bound
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(leaving.queuedCells, 1, 'the closed circuit keeps its DESTROY only');
  assert.equal(staying.queuedCells, 20);
  pair.inbound.resume();
  await until(() => memory.bytes === 0, 'every queue to empty');
  assert.deepEqual(
    received.filter((r) => r.id === 9).map((r) => r.command),
    [LinkCommand.DESTROY],
  );
});

test('CellQueue: first in, first out across compactions', () => {
  const q = new CellQueue();
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3000; i++) q.push(Uint8Array.of(next++ & 0xff, (next >> 8) & 0xff));
    for (let i = 0; i < 2500; i++) {
      const c = q.shift()!;
      assert.equal(c[0], expect++ & 0xff);
    }
  }
  assert.equal(q.length, 5 * 500);
  assert.equal(q.clear(), 2500);
  assert.equal(q.shift(), undefined);
});

test('cells that wait own their bytes: a view into a chunk is copied once, a whole cell is kept', () => {
  const chunk = new Uint8Array(4 * CELL_BYTES).fill(7);
  const view = chunk.subarray(CELL_BYTES, 2 * CELL_BYTES);
  const owned = ownBytes(view);
  assert.notEqual(owned.buffer, chunk.buffer);
  assert.equal(owned.buffer.byteLength, CELL_BYTES);
  assert.deepEqual(owned, view);
  const whole = new Uint8Array(CELL_BYTES);
  assert.equal(ownBytes(whole), whole);
  assert.equal(ownBytes(Buffer.from(view)).buffer.byteLength >= CELL_BYTES, true);

  const q = new CellQueue();
  q.push(view);
  q.push(whole);
  q.own();
  const first = q.shift()!;
  assert.equal(first.buffer.byteLength, CELL_BYTES, 'the view was copied');
  assert.equal(q.shift(), whole, 'the whole cell was kept as it is');
});
