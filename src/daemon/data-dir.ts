// The data directory: created mode 0700, locked by a pid file so two daemons never share it.
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonError } from './errors.ts';

export const files = {
  identity: 'identity.json',
  wallet: 'wallet.key',
  onionKeys: 'onion-keys.json',
  relayView: 'relays.sqlite',
  status: 'status.json',
  guards: 'guards.json',
  lock: 'daemon.pid',
  log: 'daemon.log',
} as const;

export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (err) {
    throw new DaemonError('DATA_DIR', `cannot use data directory ${dir}: ${(err as Error).message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock; a stale lock left by a killed daemon is taken over. Returns the release. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, files.lock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DaemonError('DATA_DIR', `cannot lock data directory ${dir}: ${(err as Error).message}`);
      }
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
        throw new DaemonError('LOCKED', `data directory ${dir} is in use by another daemon (pid ${pid})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new DaemonError('LOCKED', `cannot lock data directory ${dir}`);
}
