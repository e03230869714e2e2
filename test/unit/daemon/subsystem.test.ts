import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Lifecycle, type Subsystem } from '../../../src/daemon/subsystem.ts';

const silent = pino({ level: 'silent' });

function part(name: string, calls: string[], failStop = false): Subsystem {
  return {
    start: () => {
      calls.push(`start ${name}`);
    },
    stop: async () => {
      calls.push(`stop ${name}`);
      if (failStop) throw new Error('stop failed');
    },
  };
}

test('subsystems start in build order and stop in reverse, once, past a failing stop', async () => {
  const calls: string[] = [];
  const life = new Lifecycle(silent);
  life.own(part('a', calls));
  life.own(part('b', calls, true));
  life.own({ stop: () => void calls.push('stop c') });
  await life.start();
  await Promise.all([life.stop(), life.stop()]);
  await life.stop();
  assert.deepEqual(calls, ['start a', 'start b', 'stop c', 'stop b', 'stop a']);
});
