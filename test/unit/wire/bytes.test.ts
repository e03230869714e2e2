import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bytesEqual,
  concatBytes,
  copyBytes,
  NeedMoreBytes,
  Reader,
  Writer,
} from '../../../src/wire/bytes.ts';
import { WireError } from '../../../src/wire/errors.ts';

describe('Reader and Writer', () => {
  it('round-trip every width big-endian', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 600 }),
        (a, b, c, d, e) => {
          const bytes = new Writer().u8(a).u16(b).u32(c).u64(d).bytes(e).finish();
          assert.equal(bytes.length, 15 + e.length);
          const r = new Reader(bytes);
          assert.equal(r.u8(), a);
          assert.equal(r.u16(), b);
          assert.equal(r.u32(), c);
          assert.equal(r.u64(), d);
          assert.deepEqual(r.bytes(e.length), e);
          assert.equal(r.remaining, 0);
          assert.equal(r.offset, bytes.length);
        },
      ),
    );
    assert.deepEqual(new Writer().u16(0x0102).u32(0x03040506).finish(), new Uint8Array([1, 2, 3, 4, 5, 6]));
  });

  it('signals need-more past the end and TOO_LARGE past the limit', () => {
    const r = new Reader(new Uint8Array([1, 2, 3]), 4);
    assert.throws(() => r.u32(), NeedMoreBytes);
    assert.equal(r.offset, 0, 'a failed read consumes nothing');
    assert.equal(r.u16(), 0x0102);
    assert.throws(
      () => r.u64(),
      (err: unknown) => err instanceof WireError && err.code === 'TOO_LARGE',
    );
  });

  it('Writer refuses out-of-range values with WireError BAD_FIELD', () => {
    const isBad = (err: unknown) => err instanceof WireError && err.code === 'BAD_FIELD';
    assert.throws(() => new Writer().u8(256), isBad);
    assert.throws(() => new Writer().u16(-1), isBad);
    assert.throws(() => new Writer().u32(1.5), isBad);
    assert.throws(() => new Writer().u64(1n << 64n), isBad);
  });

  it('reads are copies, not views into the input', () => {
    const input = new Uint8Array([9, 9, 9]);
    const got = new Reader(input).bytes(3);
    input[0] = 0;
    assert.deepEqual(got, new Uint8Array([9, 9, 9]));
  });

  it('reads from a Node Buffer are copies too (Buffer#slice would be a view)', () => {
    const input = Buffer.from([9, 9, 9, 9]);
    const got = new Reader(input).bytes(3);
    input.fill(0);
    assert.deepEqual(got, new Uint8Array([9, 9, 9]));
    const copy = copyBytes(input, 1, 3);
    input[1] = 7;
    assert.deepEqual(copy, new Uint8Array([0, 0]));
    assert.equal(Object.getPrototypeOf(copy), Uint8Array.prototype);
  });

  it('concatBytes and bytesEqual', () => {
    assert.deepEqual(
      concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])),
      new Uint8Array([1, 2, 3]),
    );
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 2])), false);
  });
});
