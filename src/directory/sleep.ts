// An abortable pause that can also be cut short on purpose ("wake up, there is work").
export class Pause {
  #wake: (() => void) | undefined;

  wait(ms: number, signal: AbortSignal): Promise<void> {
    // An already-aborted signal fires no 'abort' event: without this, a stop() during a walk or a put
    // would wait out the whole pause.
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
