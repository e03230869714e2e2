import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, FrameError, FrameReader } from '../../../src/consensus/net/frame-link.ts';

describe('FrameReader', () => {
  it('reassembles any frames cut into any chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 10 }),
        (frames, cuts) => {
          const all = Buffer.concat(frames.map(encodeFrame));
          const reader = new FrameReader(1024);
          const out: Uint8Array[] = [];
          let off = 0;
          let i = 0;
          while (off < all.length) {
            const n = cuts[i++ % cuts.length] ?? 1;
            out.push(...reader.push(new Uint8Array(all.subarray(off, off + n))));
            off += n;
          }
          assert.deepEqual(
            out.map((f) => Buffer.from(f).toString('hex')),
            frames.map((f) => Buffer.from(f).toString('hex')),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a length over the limit before buffering the payload', () => {
    const reader = new FrameReader(100);
    const header = new Uint8Array([0, 0, 0, 101]);
    assert.throws(
      () => reader.push(header),
      (err: unknown) => err instanceof FrameError && err.code === 'FRAME_TOO_LARGE',
    );
  });

  it('fuzz: random bytes give frames or a FrameError, nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const reader = new FrameReader(4096);
        try {
          for (const c of chunks) for (const f of reader.push(c)) assert.ok(f.length <= 4096);
        } catch (err) {
          assert.ok(err instanceof FrameError, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
