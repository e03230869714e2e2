// The EWMA scheduler of a channel (src/circuit/circuit-mux.ts) on its own: it always names the active
// circuit with the lowest recent count (checked against a plain model under random operations), old
// counts fade with the half-life, and moving the epoch forward (rescaling) changes no order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CircuitMux, type MuxEntry, muxEntry } from '../../../src/circuit/circuit-mux.ts';

const HALF_LIFE = 1_000;

test('the circuit that sent the fewest cells goes next; equal senders take turns', () => {
  const mux = new CircuitMux<string>(HALF_LIFE, 0);
  const bulk = muxEntry('bulk');
  const quiet = muxEntry('quiet');
  mux.tick(0);
  mux.add(bulk);
  for (let i = 0; i < 50; i++) mux.sent(mux.peek()!);
  mux.add(quiet);
  assert.equal(mux.peek(), quiet, 'a circuit that sent nothing goes ahead of one that sent 50');
  const order: string[] = [];
  for (let i = 0; i < 60; i++) {
    const e = mux.peek()!;
    order.push(e.value);
    mux.sent(e);
  }
  assert.deepEqual(order.slice(0, 50), Array(50).fill('quiet'), 'quiet catches up first');
  // From there on they alternate.
  for (let i = 50; i + 1 < 60; i += 2) assert.notEqual(order[i], order[i + 1]);
});

test('old counts fade: a circuit that was busy long ago ranks below one busy just now', () => {
  const mux = new CircuitMux<string>(HALF_LIFE, 0);
  const old = muxEntry('old');
  const recent = muxEntry('recent');
  mux.tick(0);
  mux.add(old);
  for (let i = 0; i < 100; i++) mux.sent(old); // 100 cells at t = 0
  mux.remove(old);
  mux.tick(5 * HALF_LIFE);
  mux.add(recent);
  for (let i = 0; i < 10; i++) mux.sent(recent); // 10 cells five half-lives later: worth 320 at t = 0
  mux.add(old);
  assert.equal(mux.peek(), old, '100 cells five half-lives ago count less than 10 cells now');
});

test('moving the epoch forward keeps the order and the relative weights', () => {
  const mux = new CircuitMux<string>(HALF_LIFE, 0);
  const a = muxEntry('a');
  const b = muxEntry('b');
  mux.tick(0);
  mux.add(a);
  mux.add(b);
  for (let i = 0; i < 30; i++) mux.sent(a);
  for (let i = 0; i < 20; i++) mux.sent(b);
  // 40 half-lives on: the epoch moves, active counts are scaled down, and a cell weighs ~1 again.
  mux.tick(40 * HALF_LIFE);
  assert.ok(a.ewma < 1e-6 && b.ewma < 1e-6, 'old counts scaled down with the epoch');
  assert.ok(a.ewma > b.ewma, 'the order survived');
  mux.sent(mux.peek()!);
  assert.ok(b.ewma >= 1 && b.ewma < 2, `a cell weighs about 1 in the new epoch (${b.ewma})`);
  // A circuit idle through the move catches up when it comes back.
  const idle = muxEntry('idle');
  mux.tick(41 * HALF_LIFE);
  mux.add(idle);
  assert.equal(mux.peek(), idle);
  mux.remove(idle);
  mux.remove(a);
  mux.remove(b);
  assert.equal(mux.size, 0);
  assert.equal(mux.peek(), undefined);
});

test('random adds, removes, sends and ticks: peek is always the lowest count among active circuits', () => {
  type Op =
    | { kind: 'add'; i: number }
    | { kind: 'remove'; i: number }
    | { kind: 'send' }
    | { kind: 'tick'; ms: number };
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), i: fc.nat(15) }),
    fc.record({ kind: fc.constant('remove' as const), i: fc.nat(15) }),
    fc.constant({ kind: 'send' as const }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(20 * HALF_LIFE) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops: Op[]) => {
      const mux = new CircuitMux<number>(HALF_LIFE, 0);
      const entries: MuxEntry<number>[] = Array.from({ length: 16 }, (_, i) => muxEntry(i));
      const active = new Set<number>();
      let now = 0;
      mux.tick(now);
      for (const o of ops) {
        if (o.kind === 'add') {
          mux.add(entries[o.i]!);
          active.add(o.i);
        } else if (o.kind === 'remove') {
          mux.remove(entries[o.i]!);
          active.delete(o.i);
        } else if (o.kind === 'send') {
          const e = mux.peek();
          if (e !== undefined) mux.sent(e);
        } else {
          now += o.ms;
          mux.tick(now);
        }
        assert.equal(mux.size, active.size);
        const top = mux.peek();
        if (active.size === 0) assert.equal(top, undefined);
        else {
          const min = Math.min(...[...active].map((i) => entries[i]!.ewma));
          assert.ok(top !== undefined && active.has(top.value));
          assert.equal(top.ewma, min);
        }
      }
    }),
    { numRuns: 300 },
  );
});
