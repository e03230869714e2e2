// Structured logs (pino) per component. Rule: at info and above, never keys, payloads, addresses,
// destinations or circuit paths; identifiers only through `redactId`. Detail goes to debug.
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go: a file descriptor (2 = stderr) or a path. */
  readonly destination?: number | string;
  /** Extra fields on every line (e.g. the node index in a testnet). */
  readonly base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions): Logger {
  const dest: DestinationStream = pino.destination({
    dest: opts.destination ?? 2,
    sync: true,
    mkdir: true,
  });
  return pino(
    {
      level: opts.level,
      base: opts.base ?? {},
      // Belt and braces: drop fields that must never reach a log, whatever a caller passes.
      redact: {
        paths: ['seed', 'privateKey', '*.seed', '*.privateKey', 'payload', '*.payload'],
        remove: true,
      },
    },
    dest,
  );
}

/** What an identifier becomes in an info-level log line: nothing that links it (as arti's safelog). */
export function redactId(_id: string): string {
  return '[scrubbed]';
}
