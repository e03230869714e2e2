// At most `max` holders at once; the others wait in order. A waiter whose signal aborts leaves the line.

export class TurnQueue {
  readonly #max: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number) {
    this.#max = max;
  }

  get active(): number {
    return this.#active;
  }

  /** Resolves with a release function once it is this caller's turn; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const start = () => {
        signal.removeEventListener('abort', onAbort);
        this.#active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#active--;
          this.#waiting.shift()?.();
        });
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(start);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal.reason);
      };
      if (this.#active < this.#max) return start();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(start);
    });
  }
}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts (the listener is removed). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
