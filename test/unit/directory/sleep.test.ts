import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pause } from '../../../src/directory/sleep.ts';

const elapsed = async (p: Promise<void>): Promise<number> => {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
};

describe('Pause', () => {
  it('waits the given time', async () => {
    const t0 = Date.now();
    await new Pause().wait(30, new AbortController().signal);
    const ms = Date.now() - t0;
    assert.ok(ms >= 25, `${ms} ms`);
  });

  it('wake() ends the wait at once; waking with nobody waiting is harmless', async () => {
    const pause = new Pause();
    pause.wake();
    const waiting = pause.wait(10_000, new AbortController().signal);
    pause.wake();
    assert.ok((await elapsed(waiting)) < 100);
    pause.wake();
  });

  it('an abort ends the wait at once, and the listener is removed afterwards', async () => {
    const pause = new Pause();
    const ac = new AbortController();
    let listeners = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    ac.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    await pause.wait(1, ac.signal);
    assert.equal(listeners, 0, 'a timed-out wait removes its abort listener');
    const waiting = pause.wait(10_000, ac.signal);
    setTimeout(() => ac.abort(), 5);
    assert.ok((await elapsed(waiting)) < 100);
    assert.equal(listeners, 0);
  });

  it('an already-aborted signal ends the wait at once', async () => {
    assert.ok((await elapsed(new Pause().wait(10_000, AbortSignal.abort()))) < 100);
  });
});
