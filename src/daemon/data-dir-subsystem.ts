// The data directory, created with safe permissions and locked for this daemon alone while it runs.
import { lockDataDir, prepareDataDir } from './data-dir.ts';
import type { Subsystem } from './subsystem.ts';

export function openDataDir(dir: string): Subsystem {
  prepareDataDir(dir);
  const unlock = lockDataDir(dir);
  return { stop: unlock };
}
