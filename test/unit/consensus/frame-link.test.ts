import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  COALESCE_BYTES,
  encodeFrame,
  FrameError,
  FrameReader,
  FrameSender,
} from '../../../src/consensus/net/frame-link.ts';

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

  it('joins a large frame sent in small pieces once (each byte copied once, not once per piece)', () => {
    // 2 MiB in 1 KiB pieces: joining on every piece copied ~2 GiB and took seconds to minutes; joining
    // once takes milliseconds. The bound is 100x the normal time: it only catches the quadratic case.
    const size = 2 * 1024 * 1024;
    const payload = new Uint8Array(size).map((_, i) => i * 7);
    const all = encodeFrame(payload);
    const reader = new FrameReader(size);
    const started = performance.now();
    const out: Uint8Array[] = [];
    for (let off = 0; off < all.length; off += 1024) out.push(...reader.push(all.slice(off, off + 1024)));
    const ms = performance.now() - started;
    assert.equal(out.length, 1);
    assert.ok(Buffer.from(out[0]!).equals(Buffer.from(payload)));
    assert.ok(ms < 5_000, `reassembly took ${Math.round(ms)} ms`);
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

/** The part of a libp2p Stream FrameSender uses: records writes; `full` makes send() answer false. */
class FakeStream extends EventTarget {
  readonly writes: Uint8Array[] = [];
  full = false;
  closed = false;
  send(bytes: Uint8Array): boolean {
    this.writes.push(bytes);
    return !this.full;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  abort(): void {
    this.closed = true;
  }
}

const LIMITS = { maxFrameBytes: 1 << 20, maxQueuedBytes: 4 << 20 };
const turn = () => new Promise((r) => setImmediate(r));
const frameOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function sender(stream: FakeStream): FrameSender {
  return new FrameSender(stream as unknown as ConstructorParameters<typeof FrameSender>[0], LIMITS);
}

function readAll(writes: Uint8Array[]): Uint8Array[] {
  const reader = new FrameReader(LIMITS.maxFrameBytes);
  return writes.flatMap((w) => reader.push(w));
}

describe('FrameSender', () => {
  it('joins the frames of one turn into one write, in order', async () => {
    const stream = new FakeStream();
    const s = sender(stream);
    const frames = [frameOf(10, 1), frameOf(200, 2), frameOf(0, 3), frameOf(5, 4)];
    for (const f of frames) assert.equal(s.send(f), true);
    assert.equal(stream.writes.length, 0, 'nothing is written before the turn ends');
    await turn();
    assert.equal(stream.writes.length, 1);
    assert.deepEqual(readAll(stream.writes), frames);
  });

  it('splits batches at COALESCE_BYTES and sends a larger frame alone', async () => {
    const stream = new FakeStream();
    const s = sender(stream);
    const frames = [frameOf(40_000, 1), frameOf(40_000, 2), frameOf(COALESCE_BYTES * 2, 3), frameOf(10, 4)];
    for (const f of frames) s.send(f);
    await turn();
    assert.deepEqual(
      stream.writes.map((w) => w.length),
      [40_004, 40_004, COALESCE_BYTES * 2 + 4, 14],
    );
    assert.deepEqual(readAll(stream.writes), frames);
  });

  it('waits for drain when the stream is full, and close() hands over what is still queued', async () => {
    const stream = new FakeStream();
    const s = sender(stream);
    stream.full = true;
    s.send(frameOf(70_000, 1));
    s.send(frameOf(70_000, 2));
    await turn();
    assert.equal(stream.writes.length, 1, 'the second batch waits for drain');
    stream.full = false;
    stream.dispatchEvent(new Event('drain'));
    assert.equal(stream.writes.length, 2);
    s.send(frameOf(3, 9));
    s.close();
    assert.equal(stream.closed, true);
    assert.deepEqual(readAll(stream.writes), [frameOf(70_000, 1), frameOf(70_000, 2), frameOf(3, 9)]);
    assert.equal(s.send(frameOf(1, 1)), false, 'closed: refused');
  });
});
