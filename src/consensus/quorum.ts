// Validator-set arithmetic shared by the engine and commit verification: the canonical order,
// the rotating proposer and the two thresholds. With n validators the engine tolerates
// f = floor((n-1)/3) faulty ones.
import { compareBytes } from '../wire/block.ts';

/** The canonical order of a validator set: ascending bytewise, duplicates removed. */
export function sortValidators(validators: readonly Uint8Array[]): Uint8Array[] {
  const sorted = [...validators].sort(compareBytes);
  return sorted.filter((v, i) => i === 0 || compareBytes(sorted[i - 1] as Uint8Array, v) !== 0);
}

/** More than 2/3 of n: the 2f+1 of the paper for n = 3f+1. */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** More than 1/3 of n (f+1): at least one honest validator among them. */
export function weakQuorum(n: number): number {
  return Math.floor(n / 3) + 1;
}

/** The proposer of (height, round): round-robin over the sorted set, shifted by height. */
export function proposerIndex(n: number, height: number, round: number): number {
  return ((height % n) + (round % n)) % n;
}

export function proposerFor(sorted: readonly Uint8Array[], height: number, round: number): Uint8Array {
  const p = sorted[proposerIndex(sorted.length, height, round)];
  if (p === undefined) throw new RangeError('empty validator set');
  return p;
}
