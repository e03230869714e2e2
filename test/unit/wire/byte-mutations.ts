// Mutations of valid encodings for decoder fuzz tests: flip a bit, set a byte to a value the format
// finds interesting (lengths, tags, boundaries), splice, truncate, extend. Each fuzz test gives its
// own interesting values; the rest is shared.
import fc from 'fast-check';

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; tail: Uint8Array };

const NP = { noNullPrototype: true } as const;

export function arbMutation(interesting: readonly number[]): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }, NP),
    fc.record(
      { kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(...interesting) },
      NP,
    ),
    fc.record(
      {
        kind: fc.constant('splice' as const),
        at: fc.nat(),
        remove: fc.nat(40),
        insert: fc.uint8Array({ maxLength: 40 }),
      },
      NP,
    ),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }, NP),
    fc.record(
      { kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
      NP,
    ),
  );
}

export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const at = input.length === 0 ? 0 : ('at' in m ? m.at : 0) % input.length;
  switch (m.kind) {
    case 'flip': {
      const out = input.slice();
      if (out.length > 0) out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = input.slice();
      if (out.length > 0) out[at] = m.value;
      return out;
    }
    case 'splice':
      return new Uint8Array([...input.subarray(0, at), ...m.insert, ...input.subarray(at + m.remove)]);
    case 'truncate':
      return input.slice(0, at);
    case 'extend':
      return new Uint8Array([...input, ...m.tail]);
  }
}
