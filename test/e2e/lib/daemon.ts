// Runs single `anonnet node` daemons as real processes for end-to-end tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, readStatus, until } from './testnet.ts';

export interface Daemon {
  readonly dataDir: string;
  readonly proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `api`: serve the control API on an ephemeral port (its address appears in status.json). */
export function startDaemon(dataDir: string, extra: string[] = [], opts: { api?: boolean } = {}): Daemon {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'node',
      '--data-dir',
      dataDir,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--allow-private-addresses',
      '--inbound-per-host',
      '1000',
      '--no-nat',
      '--no-socks',
      '--no-http-proxy',
      ...(opts.api ? ['--api-port', '0'] : ['--no-api']),
      '--pow-difficulty',
      '4',
      '--descriptor-lifetime',
      '30000',
      '--walk-interval',
      '1000',
      '--min-peers',
      '2',
      '--min-relays',
      '3',
      '--log-level',
      'debug',
      '--log-file',
      join(dataDir, 'daemon.log'),
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    dataDir,
    proc,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** Waits for the daemon's own status file (a stale one from an earlier run has another pid). */
export async function statusOf(
  d: Daemon,
  predicate: (s: NonNullable<ReturnType<typeof readStatus>>) => boolean,
  ms: number,
  what: string,
) {
  await until(
    () => {
      const s = readStatus(d.dataDir);
      return s !== undefined && s.pid === d.proc.pid && predicate(s);
    },
    ms,
    what,
  );
  return readStatus(d.dataDir)!;
}
