// Starts an attack script (test/e2e/attackers/*.ts) as its own process against a live network, and
// reads what it reports: one JSON object per stdout line. Tests then assert what honest users see
// while the attack runs and after it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningAttacker {
  readonly proc: ChildProcess;
  /** Every report line so far. */
  readonly reports: Array<Record<string, unknown>>;
  /** Resolves with the first report for which `pred` holds (rejects if the process exits first). */
  waitFor(
    pred: (r: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Waits for the script to exit by itself; resolves with its exit code. */
  exited(): Promise<number | null>;
  stop(): Promise<void>;
  stderr(): string;
}

/** Runs `node test/e2e/attackers/<name>.ts '<json args>'`. */
export function startAttacker(name: string, args: Record<string, unknown>): RunningAttacker {
  const script = new URL(`../attackers/${name}.ts`, import.meta.url).pathname;
  const proc = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    err = (err + s).slice(-20_000);
  });
  const reports: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      reports.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  exit.then(() => {
    for (const w of [...waiters]) w();
  });
  return {
    proc,
    reports,
    stderr: () => err,
    exited: () => exit,
    waitFor(pred, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`attacker ${name}: no matching report in ${timeoutMs} ms\n${err}`));
        }, timeoutMs);
        const check = (): void => {
          const hit = reports.find(pred);
          if (hit !== undefined || proc.exitCode !== null || proc.signalCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            if (hit !== undefined) resolve(hit);
            else reject(new Error(`attacker ${name} exited (${proc.exitCode}) without the report\n${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exit;
    },
  };
}
