// CPU accounting for a process tree from /proc (Linux only): user + system seconds of a process and
// all its descendants, read before and after a piece of work; and a process's resident memory. Wall-clock MiB/s swings with whatever
// else runs on a shared machine; CPU-seconds per MiB is the steadier figure.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return out;
  }
  for (const t of tasks) if (t !== '') out.push(Number(t));
  return out;
}

/** The pid and every descendant pid, depth first. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]!));
  return all;
}

/** utime + stime of one process in seconds (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds per pid of a process tree, now. */
export function treeCpu(pid: number): Map<number, number> {
  return new Map(processTree(pid).map((p) => [p, cpuSeconds(p)]));
}

/** Seconds each pid spent between two snapshots (pids in `after`). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number[] {
  return [...after].map(([p, s]) => s - (before.get(p) ?? 0));
}

/** Resident memory of one process in KiB (NaN if it is gone). */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? Number.NaN : Number(m[1]);
  } catch {
    return Number.NaN;
  }
}
