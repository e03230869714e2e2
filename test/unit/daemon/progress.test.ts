import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BootstrapProgress, PHASES, type Phase, type ProgressEvent } from '../../../src/daemon/progress.ts';

describe('BootstrapProgress', () => {
  it('starts at 0% and phases rise in a fixed order', () => {
    const p = new BootstrapProgress();
    assert.deepEqual(p.current, { percent: 0, phase: 'starting', summary: 'Starting' });
    const percents = Object.values(PHASES).map((x) => x.percent);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
    );
    assert.equal(PHASES.done.percent, 100);
  });

  it('moves forward with the phase default percent and summary, notifying listeners', () => {
    const p = new BootstrapProgress();
    const seen: ProgressEvent[] = [];
    p.onChange((e) => seen.push(e));
    p.reach('identity');
    p.reach('peers');
    assert.deepEqual(seen, [
      { percent: 10, phase: 'identity', summary: 'Identity loaded' },
      { percent: 45, phase: 'peers', summary: 'Connected to peers' },
    ]);
    assert.equal(p.current.phase, 'peers');
  });

  it('never goes backwards or repeats; ignored steps notify nobody', () => {
    const p = new BootstrapProgress();
    let calls = 0;
    p.onChange(() => calls++);
    p.reach('dht');
    p.reach('peers');
    p.reach('dht');
    p.reach('starting');
    assert.equal(calls, 1);
    assert.equal(p.current.phase, 'dht');
    assert.equal(p.current.percent, 65);
  });

  it('moves within a phase to a higher percent with a custom summary; clamps and floors', () => {
    const p = new BootstrapProgress();
    p.reach('relays', 82.9, 'Learning relays (1 of 3)');
    assert.deepEqual(p.current, { percent: 82, phase: 'relays', summary: 'Learning relays (1 of 3)' });
    p.reach('relays', 82.99);
    assert.equal(p.current.summary, 'Learning relays (1 of 3)', 'floor(82.99) is not higher');
    p.reach('relays', 90);
    assert.equal(p.current.percent, 90);
    assert.equal(p.current.summary, PHASES.relays.summary);
    p.reach('done', 250);
    assert.equal(p.current.percent, 100);
    p.reach('done');
    assert.equal(p.current.percent, 100);
    const q = new BootstrapProgress();
    q.reach('identity', -5);
    assert.equal(q.current.percent, 0, 'clamped to 0, not a step forward');
    q.reach('identity', Number.NaN);
    assert.equal(q.current.phase, 'starting');
  });

  it('unsubscribes listeners, and several listeners all hear an event', () => {
    const p = new BootstrapProgress();
    const a: number[] = [];
    const b: number[] = [];
    const offA = p.onChange((e) => a.push(e.percent));
    p.onChange((e) => b.push(e.percent));
    p.reach('identity');
    offA();
    p.reach('listening');
    assert.deepEqual(a, [10]);
    assert.deepEqual(b, [10, 25]);
  });

  it('reported percents are strictly increasing for any sequence of steps (property)', () => {
    const phases = Object.keys(PHASES) as Phase[];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...phases), fc.option(fc.double({ min: -50, max: 200 }))), {
          maxLength: 30,
        }),
        (steps) => {
          const p = new BootstrapProgress();
          const seen: number[] = [];
          p.onChange((e) => seen.push(e.percent));
          for (const [phase, percent] of steps) {
            if (percent === null) p.reach(phase);
            else p.reach(phase, percent);
          }
          for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!);
          for (const s of seen) assert.ok(Number.isInteger(s) && s >= 0 && s <= 100);
          assert.equal(p.current.percent, seen.at(-1) ?? 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
