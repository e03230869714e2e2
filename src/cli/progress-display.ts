// Shows bootstrap progress: a bar rewritten in place on a terminal, plain lines otherwise.
import type { ProgressEvent } from '../daemon/progress.ts';

export function renderBar(e: ProgressEvent, width = 30): string {
  const filled = Math.round((e.percent / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(e.percent).padStart(3)}% ${e.phase}: ${e.summary}`;
}

export class ProgressDisplay {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = out.isTTY === true && process.env['CI'] !== 'true';
  }

  get isTTY(): boolean {
    return this.#tty;
  }

  show(e: ProgressEvent): void {
    if (this.#tty) {
      this.#out.write(`\r\x1b[2K${renderBar(e)}${e.percent === 100 ? '\n' : ''}`);
    } else {
      this.#out.write(`Bootstrapped ${e.percent}% (${e.phase}): ${e.summary}\n`);
    }
  }

  /** Prints a line without tearing the bar. */
  line(text: string): void {
    this.#out.write(this.#tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
