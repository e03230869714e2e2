// The lifecycle every part of the daemon shares (as js-libp2p's Startable): a factory builds a
// subsystem and opens what it must (files, listeners); start() begins its background work once every
// subsystem is wired; stop() releases what it holds. The composition root stops them in reverse.
import type { Logger } from '../log/logger.ts';

export interface Subsystem {
  /** Begins background work (timers, walks); called once, after every subsystem is built. */
  start?(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** The subsystems of one daemon in build order: starts them in that order and stops them in reverse. */
export class Lifecycle {
  readonly #log: Logger;
  readonly #parts: Subsystem[] = [];
  #stopping: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Takes ownership of a built subsystem: stop() will stop it. */
  own<T extends Subsystem>(part: T): T {
    this.#parts.push(part);
    return part;
  }

  async start(): Promise<void> {
    for (const part of this.#parts) await part.start?.();
  }

  /** Stops every owned subsystem, newest first; a failing stop is logged and the others still run. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    for (const part of [...this.#parts].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'error during shutdown');
      }
    }
  }
}
