// Random values a protocol fuzzer picks from, all drawn from one seeded PRNG so a run can be replayed:
// the ids and numbers a decoder or a table finds interesting (0, 1, max, around the sign bit), hosts
// that never make a victim resolve a name on the real network, and byte mutations of valid encodings
// (the mutation kinds of the codec fuzzers, test/unit/wire/byte-mutations.ts).
import type { Prng } from '../../../sim/prng.ts';
import { type Mutation, mutate } from '../../../unit/wire/byte-mutations.ts';

export const U32_EDGES: readonly number[] = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff];
export const U16_EDGES: readonly number[] = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff];
export const BYTE_EDGES: readonly number[] = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff];

/** A u32 that is an edge value half of the time. */
export function u32(p: Prng): number {
  return p.chance(0.5) ? p.pick(U32_EDGES) : p.u32();
}

export function u16(p: Prng): number {
  return p.chance(0.5) ? p.pick(U16_EDGES) : p.int(0, 0xffff);
}

export function u8(p: Prng): number {
  return p.chance(0.5) ? p.pick(BYTE_EDGES) : p.int(0, 0xff);
}

/** Mostly short lengths, sometimes up to `max`. */
export function length(p: Prng, max: number): number {
  const r = p.float();
  if (r < 0.6) return p.int(0, Math.min(max, 64));
  if (r < 0.9) return p.int(0, Math.min(max, 2048));
  return p.int(0, max);
}

export function bytes(p: Prng, n: number): Uint8Array {
  return p.bytes(n);
}

/**
 * Hosts for BEGIN and RESOLVE sent to a relay that is not an exit (it refuses before any lookup):
 * literals, malformed names, names ending in `.invalid` (RFC 6761), any bytes.
 */
export function host(p: Prng): Uint8Array {
  const literals = ['127.0.0.1', '::1', '0.0.0.0', '255.255.255.255', '::', '::ffff:127.0.0.1', '10.1.2.3'];
  const r = p.float();
  if (r < 0.1) return p.bytes(p.int(0, 300));
  if (r < 0.4) return utf8(p.pick(literals));
  if (r < 0.7) return malformedHost(p);
  return utf8(p.chance(0.1) ? 'x'.repeat(255) : `h${p.u32().toString(36)}.invalid`);
}

/** Host text that is neither a hostname nor an IP literal: refused before any lookup, anywhere. */
export function malformedHost(p: Prng): Uint8Array {
  return utf8(p.pick(['', '.', '..', 'a..b', '[::1]', 'a b', 'a:b:c', '\u0085x', '\0', '1.2.3.4.', '::1::']));
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function randomMutation(p: Prng, at: number, interesting: readonly number[]): Mutation {
  switch (p.int(0, 4)) {
    case 0:
      return { kind: 'flip', at, bit: p.int(0, 7) };
    case 1:
      return { kind: 'set', at, value: p.pick(interesting) };
    case 2:
      return { kind: 'splice', at, remove: p.int(0, 40), insert: p.bytes(p.int(0, 40)) };
    case 3:
      return { kind: 'truncate', at };
    default:
      return { kind: 'extend', tail: p.bytes(p.int(1, 64)) };
  }
}

/** 1..max mutations of `input` (any length change allowed). */
export function mutateBytes(
  p: Prng,
  input: Uint8Array,
  max = 4,
  interesting: readonly number[] = BYTE_EDGES,
): Uint8Array {
  let out = input;
  for (let i = p.int(1, max); i > 0; i--) out = mutate(out, randomMutation(p, p.u32(), interesting));
  return out;
}

/** 1..max in-place changes that keep the length (for fixed-size cells and bodies). */
export function mutateInPlace(p: Prng, b: Uint8Array, max = 4, from = 0): void {
  if (b.length <= from) return;
  for (let i = p.int(1, max); i > 0; i--) {
    const at = p.int(from, b.length - 1);
    if (p.chance(0.5)) b[at]! ^= 1 << p.int(0, 7);
    else b[at] = p.pick(BYTE_EDGES);
  }
}

/** Splits `b` into 1..max pieces at random points (for writes that cut frames and cells anywhere). */
export function chop(p: Prng, b: Uint8Array, max = 8): Uint8Array[] {
  const cuts = new Set<number>();
  for (let i = p.int(0, max - 1); i > 0 && b.length > 1; i--) cuts.add(p.int(1, b.length - 1));
  const sorted = [...cuts].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of sorted) {
    out.push(b.subarray(at, c));
    at = c;
  }
  out.push(b.subarray(at));
  return out;
}

/** A seed for session `index` of a run with `seed` (so one session can be told apart and replayed). */
export function sessionSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  return (z ^ (z >>> 13)) >>> 0;
}
