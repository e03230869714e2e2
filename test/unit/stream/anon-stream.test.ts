// AnonStream against a fake carrier (no circuit, no sockets): writes cut into DATA cells, the stream
// window and the carrier's writability, SENDMEs only while the reader keeps up, FIN/half-close, and
// END reasons.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { STREAM_SENDME_EVERY, STREAM_WINDOW } from '../../../src/circuit/flow.ts';
import {
  AnonStream,
  EndReason,
  type StreamCarrier,
  StreamEndedError,
} from '../../../src/stream/anon-stream.ts';
import { MAX_RELAY_DATA } from '../../../src/wire/cell.ts';

class FakeCarrier implements StreamCarrier {
  readonly maxData = MAX_RELAY_DATA;
  readonly data: Uint8Array[] = [];
  fins = 0;
  readonly ends: number[] = [];
  sendmes = 0;
  isClosed = false;
  writable = true;
  readonly #waiters: Array<() => void> = [];

  sendData(data: Uint8Array): void {
    this.data.push(Uint8Array.from(data));
  }
  sendFin(): void {
    this.fins++;
  }
  sendEnd(reason: number): void {
    this.ends.push(reason);
  }
  sendSendme(): void {
    this.sendmes++;
  }
  onWritable(fn: () => void): void {
    this.#waiters.push(fn);
  }
  closed(): void {
    this.isClosed = true;
  }
  /** The circuit can take cells again. */
  release(): void {
    this.writable = true;
    for (const w of this.#waiters.splice(0)) w();
  }
  get sentBytes(): number {
    return this.data.reduce((s, d) => s + d.length, 0);
  }
}

function pair(): { s: AnonStream; c: FakeCarrier } {
  const c = new FakeCarrier();
  const s = new AnonStream(7, c);
  return { s, c };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const cell = (fill = 1) => new Uint8Array(MAX_RELAY_DATA).fill(fill);

function writeDone(s: AnonStream, chunk: Uint8Array): { done: () => boolean } {
  let done = false;
  s.write(chunk, () => {
    done = true;
  });
  return { done: () => done };
}

describe('AnonStream writes', () => {
  it('cuts writes into cells of at most MAX_RELAY_DATA bytes, in order', async () => {
    const { s, c } = pair();
    const payload = new Uint8Array(2 * MAX_RELAY_DATA + 960).map((_, i) => i & 0xff);
    const w = writeDone(s, payload);
    await tick();
    assert.ok(w.done());
    assert.deepEqual(
      c.data.map((d) => d.length),
      [MAX_RELAY_DATA, MAX_RELAY_DATA, 960],
    );
    assert.deepEqual(Buffer.concat(c.data), Buffer.from(payload));
    assert.equal(s.bytesWritten, payload.length);
  });

  it('stops at the stream window (500 cells) until SENDMEs arrive', async () => {
    const { s, c } = pair();
    const w = writeDone(s, new Uint8Array((STREAM_WINDOW + 2 * STREAM_SENDME_EVERY) * MAX_RELAY_DATA));
    await tick();
    assert.equal(c.data.length, STREAM_WINDOW);
    assert.equal(w.done(), false);
    s.onSendme();
    await tick();
    assert.equal(c.data.length, STREAM_WINDOW + STREAM_SENDME_EVERY);
    assert.equal(w.done(), false);
    s.onSendme();
    await tick();
    assert.equal(c.data.length, STREAM_WINDOW + 2 * STREAM_SENDME_EVERY);
    assert.ok(w.done());
    // Credit beyond what was ever spent is a violation, for the circuit to act on.
    assert.throws(() => pair().s.onSendme(), { name: 'FlowControlError' });
  });

  it('waits while the carrier is not writable', async () => {
    const { s, c } = pair();
    c.writable = false;
    const w = writeDone(s, new Uint8Array(3 * MAX_RELAY_DATA));
    await tick();
    assert.equal(c.data.length, 0);
    c.writable = true;
    c.release();
    await tick();
    assert.equal(c.data.length, 3);
    assert.ok(w.done());
  });
});

describe('AnonStream reads and SENDMEs', () => {
  it('sends one SENDME per 50 cells while the reader keeps up', async () => {
    const { s, c } = pair();
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
    });
    for (let batch = 0; batch < STREAM_WINDOW / 25; batch++) {
      for (let i = 0; i < 25; i++) s.onData(cell());
      await tick();
    }
    assert.equal(got, STREAM_WINDOW * MAX_RELAY_DATA);
    assert.equal(c.sendmes, STREAM_WINDOW / STREAM_SENDME_EVERY);
    assert.equal(s.bytesRead, got);
  });

  it('holds SENDMEs back while the reader is behind, and sends them when it reads', async () => {
    const { s, c } = pair();
    // Nobody reads: the readable buffer (256 KiB, about 130 cells) fills up.
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < STREAM_SENDME_EVERY; i++) s.onData(cell());
      await tick();
    }
    assert.equal(c.sendmes, 2, 'only the SENDMEs for cells delivered while there was room');
    // The peer may use the rest of its window (500 + 2 × 50 granted, 300 sent).
    for (let i = 0; i < STREAM_WINDOW - 300 + 2 * STREAM_SENDME_EVERY; i++) s.onData(cell());
    await tick();
    assert.equal(c.sendmes, 2);
    // Reading drains the buffer: the owed SENDMEs go out.
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
    });
    await tick();
    await tick();
    assert.equal(got, (STREAM_WINDOW + 2 * STREAM_SENDME_EVERY) * MAX_RELAY_DATA);
    assert.equal(c.sendmes, (STREAM_WINDOW + 2 * STREAM_SENDME_EVERY) / STREAM_SENDME_EVERY);
  });

  it('a peer sending beyond the SENDMEs it actually got is a window violation', async () => {
    const { s, c } = pair();
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < STREAM_SENDME_EVERY; i++) s.onData(cell());
      await tick();
    }
    assert.equal(c.sendmes, 2);
    // Granted: 500 + 2 × 50 = 600 cells; 300 arrived. 300 more are fine, the 301st is not.
    for (let i = 0; i < 300; i++) s.onData(cell());
    assert.throws(() => s.onData(cell()), { name: 'FlowControlError' });
  });
});

describe('AnonStream FIN and END', () => {
  it('half-close from the peer: FIN ends our readable side, we can still write', async () => {
    const { s, c } = pair();
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.onData(Buffer.from('reply'));
    s.onFin();
    await once(s, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'reply');
    assert.equal(s.destroyed, false);
    s.write('more');
    await tick();
    assert.equal(Buffer.from(c.data.at(-1)!).toString(), 'more');
    assert.equal(c.ends.length, 0);
    s.end();
    await once(s, 'close');
    assert.equal(c.fins, 1);
    assert.deepEqual(c.ends, [EndReason.DONE], 'both sides done: END DONE, once');
    assert.ok(c.isClosed);
  });

  it("half-close from us: end() sends FIN, the peer's data still arrives", async () => {
    const { s, c } = pair();
    s.end('request');
    await once(s, 'finish');
    assert.equal(c.fins, 1);
    assert.equal(Buffer.from(c.data[0]!).toString(), 'request');
    assert.equal(c.ends.length, 0, 'still open for reading');
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.onData(Buffer.from('response'));
    s.onFin();
    await once(s, 'close');
    assert.equal(Buffer.concat(chunks).toString(), 'response');
    assert.deepEqual(c.ends, [EndReason.DONE]);
  });

  it('END DONE from the peer ends the stream cleanly, without an END back', async () => {
    const { s, c } = pair();
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    let error: Error | undefined;
    s.on('error', (e) => {
      error = e;
    });
    const ended = once(s, 'end');
    const closed = new Promise((resolve) => s.once('close', resolve));
    await tick(); // the reader is flowing
    s.onData(Buffer.from('last words'));
    s.onEnd(EndReason.DONE);
    await ended;
    await closed;
    assert.equal(error, undefined);
    assert.ok(s.readableEnded);
    assert.equal(Buffer.concat(chunks).toString(), 'last words');
    assert.deepEqual(c.ends, []);
    assert.ok(c.isClosed);
  });

  it('END DONE while the reader is behind still delivers everything, then "end"', async () => {
    const { s } = pair();
    const events: string[] = [];
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.once('end', () => events.push('end'));
    s.onData(cell(1));
    s.onData(cell(2));
    await tick(); // delivered into the readable buffer; nobody reads yet
    s.onFin();
    s.onEnd(EndReason.DONE);
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
    });
    await closed;
    await tick();
    assert.equal(got, 2 * MAX_RELAY_DATA);
    assert.deepEqual(events, ['end']);
  });

  it('END DONE in the same tick as the reader starts still gives "end"', async () => {
    const { s } = pair();
    const events: string[] = [];
    s.on('data', () => events.push('data'));
    s.once('end', () => events.push('end'));
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.onData(Buffer.from('last words'));
    s.onEnd(EndReason.DONE);
    await closed;
    await tick();
    assert.deepEqual(events, ['data', 'end']);
  });

  it('END with any other reason errors the stream with StreamEndedError, without an END back', async () => {
    for (const [name, reason] of Object.entries(EndReason)) {
      if (reason === EndReason.DONE) continue;
      const { s, c } = pair();
      const errored = once(s, 'error');
      s.onEnd(reason);
      const [err] = (await errored) as [unknown];
      assert.ok(err instanceof StreamEndedError, name);
      assert.equal(err.reason, reason, name);
      assert.equal(err.code, 'STREAM_ENDED');
      assert.ok(s.destroyed);
      assert.deepEqual(c.ends, [], name);
      assert.ok(c.isClosed, name);
    }
    // Reasons this version does not know are kept.
    const { s } = pair();
    const errored = once(s, 'error');
    s.onEnd(200);
    assert.equal(((await errored) as [StreamEndedError])[0].reason, 200);
  });

  it('a local destroy sends END (MISC on error, DONE otherwise), once', async () => {
    const a = pair();
    a.s.on('error', () => {});
    const aClosed = new Promise((resolve) => a.s.once('close', resolve));
    a.s.destroy(new Error('local failure'));
    await aClosed;
    assert.deepEqual(a.c.ends, [EndReason.MISC]);
    assert.ok(a.c.isClosed);
    const b = pair();
    b.s.destroy();
    b.s.destroy();
    await once(b.s, 'close');
    assert.deepEqual(b.c.ends, [EndReason.DONE]);
  });

  it('a dead circuit errors the stream and sends nothing', async () => {
    const { s, c } = pair();
    const boom = new Error('circuit destroyed');
    const errored = once(s, 'error');
    s.onCircuitClosed(boom);
    assert.equal((await errored)[0], boom);
    assert.deepEqual(c.ends, []);
    assert.ok(c.isClosed);
    // Writes after that fail, and nothing reaches the carrier.
    s.write('late', () => {});
    await tick();
    assert.equal(c.data.length, 0);
  });
});
