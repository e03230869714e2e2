// The circuits of one channel (src/circuit/channel.ts) over a real yamux stream in memory
// (lib/yamux-pair.ts), with a neighbour that stops reading: each circuit queues its own cells, the
// EWMA scheduler sends a quiet circuit's cells ahead of a bulk circuit's backlog and lets bulk circuits
// take turns, a circuit past its queue limit is closed (DESTROY RESOURCELIMIT) while the channel and
// its other circuits carry on, and local producers wait on their own circuit's queue only.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CellLink } from '../../../src/circuit/cell-link.ts';
import { QueueMemory } from '../../../src/circuit/cell-queue.ts';
import { Channel, type ChannelCircuit, type QueueOverflow } from '../../../src/circuit/channel.ts';
import { type ChannelLimits, defaultChannelLimits } from '../../../src/circuit/channel-limits.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  type CircuitId,
  DestroyReason,
  encodeCell,
  LinkCommand,
} from '../../../src/wire/cell.ts';
import { type YamuxPair, yamuxPair } from './lib/yamux-pair.ts';

interface Arrival {
  readonly id: number;
  readonly command: number;
  /** RELAY cells: the sequence number the test wrote; DESTROY: the reason. */
  readonly value: number;
}

interface Setup {
  readonly pair: YamuxPair;
  readonly near: Channel;
  readonly memory: QueueMemory;
  /** Every cell the neighbour received, in order. */
  readonly arrivals: Arrival[];
}

const open: YamuxPair[] = [];
after(() => {
  for (const p of open) p.close();
});

async function setup(limits: Partial<ChannelLimits> = {}, memory?: QueueMemory): Promise<Setup> {
  const pair = await yamuxPair();
  open.push(pair);
  const mem = memory ?? new QueueMemory({ ...defaultChannelLimits, ...limits });
  const near = new Channel(new CellLink(pair.outbound), { memory: mem });
  const far = new Channel(new CellLink(pair.inbound));
  const arrivals: Arrival[] = [];
  far.onUnknown = (id, cell) => {
    const command = cell[4]!;
    const body = cell.subarray(CELL_HEADER_BYTES);
    const value = command === LinkCommand.RELAY ? (body[0]! << 8) | body[1]! : body[0]!;
    arrivals.push({ id, command, value });
  };
  return { pair, near, memory: mem, arrivals };
}

function relayCell(id: number, seq: number): Uint8Array {
  return encodeCell({
    circuitId: id as CircuitId,
    command: LinkCommand.RELAY,
    body: Uint8Array.of(seq >> 8, seq & 0xff),
  });
}

function sendMany(c: ChannelCircuit, from: number, n: number): void {
  for (let i = from; i < from + n; i++) c.send(relayCell(c.id, i));
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 20));

/** Waits until the stream to a neighbour that stopped reading is full: `c`'s queue stops moving. */
async function stalled(c: ChannelCircuit): Promise<void> {
  let last = -1;
  let still = 0;
  const end = Date.now() + 5_000;
  while (still < 5) {
    if (Date.now() > end) throw new Error('the channel never filled');
    await new Promise((r) => setTimeout(r, 10));
    still = c.queuedCells === last ? still + 1 : 0;
    last = c.queuedCells;
  }
}

test('a quiet circuit goes ahead of a bulk backlog once the neighbour reads again', async () => {
  const { pair, near, arrivals } = await setup();
  const bulk = near.attach(11 as CircuitId);
  const quiet = near.attach(22 as CircuitId);
  // The bulk circuit has a history: 600 cells that went through.
  sendMany(bulk, 0, 600);
  await until(() => arrivals.length === 600, 'the first 600 cells');
  pair.inbound.pause(); // the neighbour stops reading
  sendMany(bulk, 600, 400);
  await stalled(bulk);
  const backlog = bulk.queuedCells;
  assert.ok(backlog > 100, `the stream is full and the bulk circuit queues (${backlog} cells)`);
  sendMany(quiet, 0, 5);
  const gone = 400 - backlog; // bulk cells already in the stream before the quiet ones were queued
  pair.inbound.resume();
  await until(() => arrivals.length === 1005, 'every cell');
  const after = arrivals.slice(600);
  const quietAt = after.flatMap((a, i) => (a.id === 22 ? [i] : []));
  assert.deepEqual(quietAt, [gone, gone + 1, gone + 2, gone + 3, gone + 4], 'the quiet cells come first');
  // Each circuit's cells arrive in order, none lost.
  assert.deepEqual(
    arrivals.filter((a) => a.id === 11).map((a) => a.value),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(
    after.filter((a) => a.id === 22).map((a) => a.value),
    [0, 1, 2, 3, 4],
  );
});

test('two bulk circuits take turns on a full channel', async () => {
  const { pair, near, arrivals, memory } = await setup();
  const a = near.attach(1 as CircuitId);
  const b = near.attach(2 as CircuitId);
  pair.inbound.pause();
  // `a` fills the stream and queues; `b` comes later with as much.
  sendMany(a, 0, 600);
  await stalled(a);
  sendMany(b, 0, 400);
  const queuedA = a.queuedCells;
  assert.ok(queuedA > 300, `a queues ${queuedA}`);
  assert.equal(memory.bytes, (queuedA + 400) * CELL_BYTES, 'queued cells are counted');
  pair.inbound.resume();
  await until(() => arrivals.length === 1000, 'every cell');
  // After the cells that were in the stream already, `b` goes first until it has sent as much as
  // `a` had (its count was lower), then they alternate: `b` does not wait for all of `a`.
  const inStream = 600 - queuedA;
  const firstB = arrivals.findIndex((x) => x.id === 2);
  const lastB = arrivals.findLastIndex((x) => x.id === 2);
  assert.ok(
    firstB <= inStream + 1,
    `b's first cell went out at ${firstB}, right after the stream's ${inStream}`,
  );
  const catchUp = arrivals.slice(firstB, firstB + inStream - 8);
  assert.ok(
    catchUp.every((x) => x.id === 2),
    'b, which had sent less, catches up first',
  );
  const aAfterB = arrivals.slice(lastB + 1).filter((x) => x.id === 1).length;
  assert.ok(aAfterB > 50, `a still had ${aAfterB} cells to send when b finished`);
  for (let i = firstB + inStream + 8; i + 64 <= lastB; i += 64) {
    const nb = arrivals.slice(i, i + 64).filter((x) => x.id === 2).length;
    assert.ok(nb >= 28 && nb <= 36, `cells ${i}..${i + 63}: ${nb} of 64 from b`);
  }
  await until(() => memory.bytes === 0, 'every queue to empty');
});

test('a circuit past its queue limit is closed with DESTROY RESOURCELIMIT; the channel and the others go on', async () => {
  const { pair, near, arrivals, memory } = await setup({ maxCircuitQueueCells: 64 });
  const cheat = near.attach(7 as CircuitId);
  const honest = near.attach(8 as CircuitId);
  const overflows: QueueOverflow[] = [];
  cheat.onQueueOverflow = (why) => overflows.push(why);
  pair.inbound.pause();
  sendMany(cheat, 0, 150);
  await stalled(cheat);
  sendMany(cheat, 150, 300);
  assert.deepEqual(overflows, ['circuit-limit']);
  assert.equal(cheat.closed, true);
  assert.equal(cheat.send(relayCell(7, 999)), false, 'a closed circuit sends nothing');
  assert.equal(near.closed, false, 'the channel stays open');
  assert.equal(near.has(7), false, 'the circuit left the channel');
  assert.equal(memory.stats.overflowClosed, 1);
  sendMany(honest, 0, 10);
  pair.inbound.resume();
  await until(() => arrivals.filter((a) => a.id === 8).length === 10, "the honest circuit's cells");
  const cheatCells = arrivals.filter((a) => a.id === 7);
  const destroy = cheatCells.at(-1);
  assert.deepEqual(destroy, { id: 7, command: LinkCommand.DESTROY, value: DestroyReason.RESOURCELIMIT });
  assert.ok(cheatCells.length - 1 < 150, 'the queued backlog was dropped, not sent');
  assert.deepEqual(
    arrivals.filter((a) => a.id === 8).map((a) => a.value),
    Array.from({ length: 10 }, (_, i) => i),
  );
  await until(() => memory.bytes === 0, 'every queue to empty');
});

test("a producer waits on its own circuit's queue: writable to the high-water mark, onDrain at the low", async () => {
  const { pair, near, arrivals } = await setup({ circuitHighWaterCells: 16, circuitLowWaterCells: 4 });
  const bulk = near.attach(3 as CircuitId);
  const other = near.attach(4 as CircuitId);
  pair.inbound.pause();
  sendMany(bulk, 0, 300); // fills the stream; bulk is far past its high-water mark
  await stalled(bulk);
  assert.equal(bulk.writable, false);
  assert.equal(other.writable, true, 'another circuit on the same full channel may still queue');
  let n = 0;
  while (other.writable) other.send(relayCell(4, n++));
  assert.equal(n, 16);
  let drainedAt = -1;
  other.onDrain(() => {
    drainedAt = other.queuedCells;
  });
  await tick();
  assert.equal(drainedAt, -1, 'no drain while the neighbour does not read');
  pair.inbound.resume();
  await until(() => drainedAt >= 0, 'onDrain');
  assert.ok(drainedAt <= 4, `onDrain came with ${drainedAt} cells queued`);
  await until(() => arrivals.length === 316, 'every cell');
});

test('a channel that goes down drops every queue and frees its memory', async () => {
  const { pair, near, memory } = await setup();
  const a = near.attach(5 as CircuitId);
  const closedWith: Array<Error | undefined> = [];
  a.onClose = (err) => closedWith.push(err);
  pair.inbound.pause();
  sendMany(a, 0, 400);
  await stalled(a);
  assert.ok(memory.bytes > 0);
  pair.outbound.abort(new Error('test: link reset'));
  await until(() => closedWith.length === 1, 'the circuit to hear of it');
  assert.equal(memory.bytes, 0);
  assert.equal(a.closed, true);
  // A producer that asks a closed circuit for room is not called back: it would only ask again, and
  // a stream writing in a loop would recurse until the stack ran out. The circuit's owner ends it.
  let calledBack = false;
  a.onDrain(() => {
    calledBack = true;
  });
  assert.equal(calledBack, false);
  assert.equal(a.writable, false);
});
