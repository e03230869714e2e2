// Starts `anonnet testnet --json` as a real process tree for end-to-end tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NodeStatus } from '../../../src/node.ts';

export const CLI = new URL('../../../src/cli/main.ts', import.meta.url).pathname;

export interface ReadyLine {
  ready: true;
  nodes: number;
  dir: string;
  socks: string;
  http: string;
  api: string;
  token: string;
  readyMs: number;
  children: Array<{ index: number; pid: number; peerId: string; dataDir: string }>;
}

export interface RunningTestnet {
  readonly ready: ReadyLine;
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Proxy and API ports chosen by the system: a daemon already on 9050 must not break a test. */
export const EPHEMERAL_PORTS: readonly string[] = [
  '--socks-port',
  '0',
  '--http-port',
  '0',
  '--api-port',
  '0',
];

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `env` reaches every node (e.g. ANONNET_CONFIG, a config file for limits no flag sets). */
export async function startTestnet(
  args: string[],
  timeoutMs = 150_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningTestnet> {
  const proc = spawn(process.execPath, [CLI, 'testnet', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    err = (err + s).slice(-20_000);
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const lines = createInterface({ input: proc.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`testnet exited (${code}) before ready:\n${err}`)));
  });
  const timer = setTimeout(() => proc.kill('SIGTERM'), timeoutMs);
  let line: string;
  try {
    line = await first;
  } finally {
    clearTimeout(timer);
  }
  const ready = JSON.parse(line) as ReadyLine;
  await statusFilesWritten(ready, 30_000);
  return {
    ready,
    proc,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export function readStatus(dataDir: string): NodeStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'status.json'), 'utf8')) as NodeStatus;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed child stays a zombie until its parent (the testnet process) reaps it: not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The testnet is ready on what its nodes report over IPC; tests read each node's status.json, which a
 * node rewrites every 2 s. Waits until every node's is readable; if one never is, the error carries the
 * end of that node's log (a status.json once went missing in a full test run and the cause is unknown).
 */
async function statusFilesWritten(ready: ReadyLine, timeoutMs: number): Promise<void> {
  const missing = () => ready.children.filter((c) => readStatus(c.dataDir) === undefined);
  try {
    await until(() => missing().length === 0, timeoutMs, "every node's status.json");
  } catch (err) {
    const logs = missing().map((c) => {
      let tail = '';
      try {
        tail = readFileSync(join(c.dataDir, 'daemon.log'), 'utf8').split('\n').slice(-15).join('\n');
      } catch (e) {
        tail = `(no daemon.log: ${(e as Error).message})`;
      }
      return `node ${c.index}: no readable status.json; its log ends:\n${tail}`;
    });
    throw new Error([(err as Error).message, ...logs].join('\n\n'));
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
