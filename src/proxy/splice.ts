// Joins two Duplexes both ways with explicit back-pressure and half-close: data from one is written to
// the other, pausing the reader while the writer is full; one side's 'end' ends the other's writable
// side, which may still send back. When both directions have ended and flushed, both are destroyed
// cleanly; an error or a premature close on either side destroys the other (a failure, not an end).
import type { Duplex } from 'node:stream';

export interface SpliceOptions {
  /** Called once: `undefined` after a clean finish, the error (or a premature-close Error) otherwise. */
  readonly onDone?: (err: Error | undefined) => void;
  /** How to tear down `a` on failure (e.g. a TCP reset for a socket); default `a.destroy()`. */
  readonly abortA?: (a: Duplex) => void;
}

export function splice(a: Duplex, b: Duplex, opts: SpliceOptions = {}): void {
  let finished = 0; // directions whose writable side has flushed its end
  let done = false;

  const finish = (err: Error | undefined): void => {
    if (done) return;
    done = true;
    for (const off of listeners) off();
    // Keep a no-op error listener: a late error after teardown must not crash the process.
    a.on('error', noop);
    b.on('error', noop);
    if (err === undefined) {
      a.destroy();
      b.destroy();
    } else {
      if (opts.abortA !== undefined && !a.destroyed) opts.abortA(a);
      else a.destroy();
      b.destroy();
    }
    opts.onDone?.(err);
  };

  const listeners: (() => void)[] = [];
  const on = <A extends unknown[]>(s: Duplex, ev: string, fn: (...args: A) => void): void => {
    s.on(ev, fn);
    listeners.push(() => s.off(ev, fn));
  };

  const oneWay = (from: Duplex, to: Duplex): void => {
    on(from, 'data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    on(to, 'drain', () => from.resume());
    on(from, 'end', () => to.end());
    on(to, 'finish', () => {
      finished++;
      if (finished === 2) finish(undefined);
    });
  };
  oneWay(a, b);
  oneWay(b, a);
  for (const s of [a, b]) {
    on(s, 'error', (err: Error) => finish(err));
    on(s, 'close', () => {
      // A side that has ended both ways may close itself; only an earlier close is a failure.
      if (!(s.readableEnded && s.writableFinished)) finish(new Error('closed before both directions ended'));
    });
  }
  if (a.readableEnded) b.end();
  if (b.readableEnded) a.end();
  a.resume();
  b.resume();
}

function noop(): void {}
