// Reassembling one large ledger frame (a 4 MiB proposal) from stream chunks: the FrameReader against
// the reader it replaced (hardening issue, class 4), which joined its buffer with every chunk, so a
// frame of n chunks cost O(n^2) copying and garbage. Chunk sizes: 4 KiB (what QUIC streams hand over),
// 16 KiB and 64 KiB (yamux). The baseline runs in the same process, interleaved.
//
//   node bench/ledger-frames.ts [--mib 4] [--reps 3]
import { encodeFrame, FrameReader } from '../src/consensus/net/frame-link.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const MIB = Number(arg('mib', '4'));
const REPS = Number(arg('reps', '3'));

/** The replaced reader: one Buffer.concat of everything held per chunk received. */
class ConcatReader {
  #buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: Uint8Array[] = [];
    let off = 0;
    while (this.#buf.length - off >= 4) {
      const len = new DataView(this.#buf.buffer, this.#buf.byteOffset + off, 4).getUint32(0);
      if (this.#buf.length - off - 4 < len) break;
      frames.push(new Uint8Array(this.#buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    this.#buf = off === this.#buf.length ? new Uint8Array(0) : this.#buf.subarray(off);
    return frames;
  }
}

const frame = encodeFrame(new Uint8Array(MIB * 1024 * 1024));

function msPerFrame(make: () => { push(c: Uint8Array): Uint8Array[] }, chunk: number): number {
  const t0 = performance.now();
  for (let rep = 0; rep < REPS; rep++) {
    const r = make();
    let got = 0;
    for (let o = 0; o < frame.length; o += chunk) got += r.push(frame.subarray(o, o + chunk)).length;
    if (got !== 1) throw new Error('frame not reassembled');
  }
  return (performance.now() - t0) / REPS;
}

for (const chunk of [65536, 16384, 4096]) {
  const now = msPerFrame(() => new FrameReader(8 * 1024 * 1024), chunk);
  const before = msPerFrame(() => new ConcatReader(), chunk);
  process.stdout.write(
    `${MIB} MiB frame in ${chunk / 1024} KiB chunks: FrameReader ${now.toFixed(1)} ms, ` +
      `concat-per-chunk reader ${before.toFixed(1)} ms (${(before / now).toFixed(0)}x)\n`,
  );
}
