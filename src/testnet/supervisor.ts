// Starts and stops the daemons of a local test network as child processes, and follows their status
// over an IPC channel. A child exits when the channel closes, so no child outlives the supervisor even
// after a kill -9 of the supervisor.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus } from '../node.ts';

export interface ChildSpec {
  readonly index: number;
  readonly dataDir: string;
  readonly args: readonly string[];
}

export interface ChildState {
  readonly index: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  status: NodeStatus | undefined;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderrTail: string;
}

const CLI = new URL('../cli/main.ts', import.meta.url).pathname;
const STOP_GRACE_MS = 5_000;

export class Supervisor {
  readonly children: ChildState[] = [];
  readonly #listeners = new Set<() => void>();

  spawnChild(spec: ChildSpec): ChildState {
    mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
    const child = spawn(process.execPath, [CLI, 'node', '--data-dir', spec.dataDir, ...spec.args], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ANONNET_TESTNET_CHILD: '1' },
    });
    const state: ChildState = {
      index: spec.index,
      dataDir: spec.dataDir,
      process: child,
      status: undefined,
      exited: undefined,
      stderrTail: '',
    };
    // A crash report goes to stderr, not to the log: keep it beside the log.
    const stderrFile = createWriteStream(join(spec.dataDir, 'stderr.log'), { flags: 'a', mode: 0o600 });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      state.stderrTail = (state.stderrTail + s).slice(-4000);
      stderrFile.write(s);
    });
    child.once('exit', () => stderrFile.end());
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'status') {
        state.status = (m as { status: NodeStatus }).status;
        this.#changed();
      }
    });
    child.on('exit', (code, signal) => {
      state.exited = { code, signal };
      this.#changed();
    });
    child.on('error', () => {
      state.exited ??= { code: null, signal: null };
      this.#changed();
    });
    this.children.push(state);
    return state;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when `predicate` holds, rejects on abort or when it throws. */
  waitFor(predicate: () => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        try {
          if (!predicate()) return;
        } catch (err) {
          done();
          reject(err);
          return;
        }
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const done = () => {
        off();
        signal.removeEventListener('abort', onAbort);
      };
      const off = this.onChange(check);
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  /** SIGTERM to every child, SIGKILL to those still alive after a grace period. */
  async stopAll(): Promise<void> {
    const alive = this.children.filter((c) => c.exited === undefined);
    for (const c of alive) c.process.kill('SIGTERM');
    await Promise.race([
      Promise.all(
        alive.map((c) => new Promise<void>((r) => (c.exited ? r() : c.process.once('exit', () => r())))),
      ),
      new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref()),
    ]);
    this.killAllNow();
  }

  /** Last resort, safe inside a process 'exit' handler. */
  killAllNow(): void {
    for (const c of this.children) {
      if (c.exited === undefined) {
        try {
          c.process.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}

export const nodeDir = (root: string, index: number): string => join(root, `node-${index}`);
