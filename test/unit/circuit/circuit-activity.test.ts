// When a relay gives up a circuit that carries nothing, on fake time: unused after CREATED, idle after
// its last RELAY cell, kept while cells come; the sweep interval follows the shorter timeout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitActivity, sweepIntervalMs } from '../../../src/circuit/circuit-activity.ts';

const limits = { unusedCircuitTimeoutMs: 30_000, idleCircuitTimeoutMs: 900_000 };

describe('CircuitActivity', () => {
  it('closes a circuit that carried no RELAY cell after CREATED once the unused timeout passes', () => {
    const a = new CircuitActivity(1_000);
    assert.equal(a.check(30_999, limits), undefined);
    assert.equal(a.check(31_000, limits), 'unused');
  });

  it('a cell makes it used: then only the idle timeout applies, from the sweep that saw the cell', () => {
    const a = new CircuitActivity(0);
    a.touch();
    assert.equal(a.check(5_000, limits), undefined);
    assert.equal(a.check(60_000, limits), undefined, 'used: the unused timeout no longer applies');
    assert.equal(a.check(904_999, limits), undefined);
    assert.equal(a.check(905_000, limits), 'idle');
  });

  it('keeps a circuit whose client sends something every keepalive period', () => {
    const a = new CircuitActivity(0);
    for (let t = 0; t <= 3_600_000; t += 5_000) {
      // A DROP every 8 minutes at most (a 4-minute keepalive checked per period).
      if (t % 480_000 === 0) a.touch();
      assert.equal(a.check(t, limits), undefined, `kept at ${t} ms`);
    }
  });

  it('sweeps at a fifth of the shorter timeout, within 50 ms and 5 s', () => {
    assert.equal(sweepIntervalMs(limits), 5_000);
    assert.equal(sweepIntervalMs({ unusedCircuitTimeoutMs: 1_000, idleCircuitTimeoutMs: 900_000 }), 200);
    assert.equal(sweepIntervalMs({ unusedCircuitTimeoutMs: 100, idleCircuitTimeoutMs: 100 }), 50);
  });
});
