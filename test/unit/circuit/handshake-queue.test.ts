// The handshake queue on fake time and a hand-cranked event loop: peers take turns, each slice stops
// when its time is spent, entries that waited past maxQueueDelayMs are shed, a peer's share and the
// queue's bound hold, and a full queue makes the peer holding the most give way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAdmissionLimits } from '../../../src/circuit/admission-limits.ts';
import { HandshakeQueue, type QueueClock, type ShedReason } from '../../../src/circuit/handshake-queue.ts';

class FakeLoop implements QueueClock {
  t = 0;
  readonly #turns: Array<() => void> = [];
  now(): number {
    return this.t;
  }
  defer(fn: () => void): void {
    this.#turns.push(fn);
  }
  get pending(): number {
    return this.#turns.length;
  }
  /** Runs one turn of the loop (one slice of the queue). */
  turn(): void {
    this.#turns.shift()?.();
  }
}

const limits = {
  ...defaultAdmissionLimits,
  handshakeQueueMax: 6,
  handshakeQueuePerPeer: 4,
  maxQueueDelayMs: 1_000,
  handshakeSliceMs: 3,
};

function setup(l = limits) {
  const loop = new FakeLoop();
  const q = new HandshakeQueue(l, loop);
  const ran: string[] = [];
  const shed: Array<[string, ShedReason]> = [];
  /** A job named `name` of `peer` whose handshake takes `costMs` of fake time. */
  const submit = (peer: string, name: string, costMs = 1) =>
    q.submit({
      peer,
      run: () => {
        loop.t += costMs;
        ran.push(name);
      },
      shed: (why) => shed.push([name, why]),
    });
  return { loop, q, ran, shed, submit };
}

describe('HandshakeQueue', () => {
  it('serves peers in turn: a flooding peer delays its own handshakes, not a neighbour', () => {
    const { loop, ran, submit } = setup({ ...limits, handshakeSliceMs: 100 });
    for (let i = 0; i < 4; i++) submit('flood', `f${i}`);
    submit('honest', 'h0');
    loop.turn();
    assert.deepEqual(ran, ['f0', 'h0', 'f1', 'f2', 'f3']);
  });

  it('runs bounded slices per turn and goes on in the next turn', () => {
    const { loop, q, ran, submit } = setup();
    for (let i = 0; i < 4; i++) submit(`p${i}`, `j${i}`, 1);
    assert.equal(loop.pending, 1, 'one turn scheduled, not one per job');
    loop.turn();
    assert.deepEqual(ran, ['j0', 'j1', 'j2'], 'a 3 ms slice holds three 1 ms handshakes');
    assert.equal(q.size, 1);
    assert.equal(loop.pending, 1);
    loop.turn();
    assert.deepEqual(ran, ['j0', 'j1', 'j2', 'j3']);
    assert.equal(loop.pending, 0, 'nothing scheduled for an empty queue');
  });

  it('always makes progress: one slow handshake per turn at least', () => {
    const { loop, ran, submit } = setup();
    submit('a', 'slow', 50);
    submit('b', 'next', 1);
    loop.turn();
    assert.deepEqual(ran, ['slow']);
    loop.turn();
    assert.deepEqual(ran, ['slow', 'next']);
  });

  it('sheds what waited longer than maxQueueDelayMs, without its handshake', () => {
    const { loop, q, ran, shed, submit } = setup();
    submit('a', 'old');
    submit('b', 'old2');
    loop.t = 1_001;
    submit('c', 'fresh');
    loop.turn();
    assert.deepEqual(ran, ['fresh']);
    assert.deepEqual(shed, [
      ['old', 'HANDSHAKE_QUEUE_DELAY'],
      ['old2', 'HANDSHAKE_QUEUE_DELAY'],
    ]);
    assert.equal(q.stats.shedDelay, 2);
    assert.equal(q.size, 0);
  });

  it('holds one peer to its share of the queue', () => {
    const { q, shed, submit } = setup();
    for (let i = 0; i < 4; i++) assert.ok(submit('flood', `f${i}`));
    assert.equal(submit('flood', 'f4'), undefined);
    assert.deepEqual(shed, [['f4', 'HANDSHAKE_QUEUE_PEER']]);
    assert.ok(submit('other', 'o0'), 'another peer still gets in');
    assert.equal(q.queuedBy('flood'), 4);
  });

  it('when full, the peer holding the most gives up its newest; the newcomer when it is that peer', () => {
    const { loop, q, ran, shed, submit } = setup();
    for (let i = 0; i < 4; i++) submit('flood', `f${i}`);
    submit('b', 'b0');
    submit('c', 'c0');
    assert.equal(q.size, 6);
    assert.ok(submit('d', 'd0'), 'a lighter peer gets in');
    assert.deepEqual(shed, [['f3', 'HANDSHAKE_QUEUE_FULL']], "the flood's newest gave way");
    assert.equal(q.size, 6);
    // b holds 1: with 2 it would hold fewer than flood's 3, so flood gives way again.
    assert.ok(submit('b', 'b1'));
    assert.deepEqual(shed.at(-1), ['f2', 'HANDSHAKE_QUEUE_FULL']);
    // Now flood 2, b 2, c 1, d 1: a third from b would be the heaviest itself: refused.
    assert.equal(submit('b', 'b2'), undefined);
    assert.deepEqual(shed.at(-1), ['b2', 'HANDSHAKE_QUEUE_FULL']);
    assert.equal(q.stats.shedFull, 2);
    assert.equal(q.stats.refused, 1);
    loop.turn();
    loop.turn();
    assert.deepEqual(ran.sort(), ['b0', 'b1', 'c0', 'd0', 'f0', 'f1']);
  });

  it('cancels a job whose circuit went away, once, and clear() drops everything', () => {
    const { loop, q, ran, shed, submit } = setup();
    const a = submit('a', 'a0')!;
    submit('a', 'a1');
    q.cancel(a);
    q.cancel(a);
    assert.equal(q.size, 1);
    assert.equal(q.queuedBy('a'), 1);
    loop.turn();
    assert.deepEqual(ran, ['a1']);
    q.cancel(a);
    assert.equal(q.size, 0);
    submit('b', 'b0');
    q.clear();
    loop.turn();
    assert.deepEqual(ran, ['a1']);
    assert.deepEqual(shed, []);
  });

  it('a job that throws does not stop the others', () => {
    const loop = new FakeLoop();
    const errors: unknown[] = [];
    const q = new HandshakeQueue(limits, loop, (e) => errors.push(e));
    const ran: string[] = [];
    q.submit({
      peer: 'a',
      run: () => {
        throw new Error('boom');
      },
      shed: () => {},
    });
    q.submit({ peer: 'b', run: () => ran.push('b'), shed: () => {} });
    loop.turn();
    assert.deepEqual(ran, ['b']);
    assert.equal(errors.length, 1);
  });
});
