// Credit amounts: whole credits as a branded bigint, always within the u64 range the wire carries.
// Never a floating-point number. The checked helpers answer undefined rather than going negative or past
// 2^64-1, so the state machine refuses the transaction instead of wrapping or throwing.
import type { Brand } from '../wire/brand.ts';

export type Credits = Brand<bigint, 'Credits'>;

export const MAX_CREDITS = 0xffffffffffffffffn;
export const ZERO_CREDITS = 0n as Credits;

/** True when `v` is a bigint in 0..2^64-1. */
export function isCredits(v: unknown): v is Credits {
  return typeof v === 'bigint' && v >= 0n && v <= MAX_CREDITS;
}

/** Credits from a bigint or a safe non-negative integer; throws RangeError on anything else. */
export function credits(n: bigint | number): Credits {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not a whole, non-negative amount`);
    return BigInt(n) as Credits;
  }
  if (!isCredits(n)) throw new RangeError(`${String(n)} is outside 0..2^64-1`);
  return n;
}

/** a + b, or undefined when the sum passes 2^64-1. */
export function addCredits(a: Credits, b: Credits): Credits | undefined {
  const sum = a + b;
  return sum > MAX_CREDITS ? undefined : (sum as Credits);
}

/** a - b, or undefined when b > a. */
export function subCredits(a: Credits, b: Credits): Credits | undefined {
  return b > a ? undefined : ((a - b) as Credits);
}

/** -1, 0 or 1, for sorting. */
export function compareCredits(a: Credits, b: Credits): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}
