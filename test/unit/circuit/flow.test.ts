// SENDME windows: a sender stops at its window and reopens by one increment per SENDME; a receiver
// asks for a SENDME every `increment` cells delivered; credit beyond the window or cells beyond it are
// protocol violations. Circuit SENDMEs are authenticated: each must name, in order, the digest of the
// cell that made it due.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AuthenticatedSendWindow,
  CIRCUIT_SENDME_EVERY,
  CIRCUIT_WINDOW,
  FlowControlError,
  ReceiveWindow,
  SendWindow,
  STREAM_SENDME_EVERY,
  STREAM_WINDOW,
} from '../../../src/circuit/flow.ts';

function isViolation(err: unknown): boolean {
  assert.ok(err instanceof FlowControlError, String(err));
  assert.equal(err.code, 'FLOW_VIOLATION');
  assert.equal(err.name, 'FlowControlError');
  return true;
}

describe('window constants', () => {
  it('are Tor-like: 500/50 per stream, 1000/100 per circuit', () => {
    assert.equal(STREAM_WINDOW, 500);
    assert.equal(STREAM_SENDME_EVERY, 50);
    assert.equal(CIRCUIT_WINDOW, 1000);
    assert.equal(CIRCUIT_SENDME_EVERY, 100);
  });
});

describe('SendWindow', () => {
  it('closes after `size` cells and reopens by `increment` per grant', () => {
    const w = new SendWindow(10, 5);
    assert.equal(w.left, 10);
    for (let i = 0; i < 10; i++) {
      assert.ok(w.open);
      w.take();
    }
    assert.equal(w.open, false);
    assert.equal(w.left, 0);
    w.grant();
    assert.equal(w.left, 5);
    w.grant();
    assert.equal(w.left, 10);
  });

  it('runs waiters once it opens, at once when open, and forgets them on clear', () => {
    const w = new SendWindow(2, 1);
    let ran = 0;
    w.whenOpen(() => ran++);
    assert.equal(ran, 1, 'open: at once');
    w.take();
    w.take();
    w.whenOpen(() => ran++);
    w.whenOpen(() => ran++);
    assert.equal(ran, 1);
    w.grant();
    assert.equal(ran, 3);
    w.grant();
    assert.equal(ran, 3, 'a waiter runs once');
    w.take();
    w.take();
    w.whenOpen(() => ran++);
    w.clear();
    w.grant();
    assert.equal(ran, 3, 'cleared waiters never run');
  });

  it('a waiter may take the window again (re-entrant grant)', () => {
    const w = new SendWindow(1, 1);
    w.take();
    const order: string[] = [];
    w.whenOpen(() => {
      order.push('a');
      w.take();
      w.whenOpen(() => order.push('b'));
    });
    w.grant();
    assert.deepEqual(order, ['a']);
    w.grant();
    assert.deepEqual(order, ['a', 'b']);
  });

  it('refuses credit beyond the window', () => {
    const w = new SendWindow(STREAM_WINDOW, STREAM_SENDME_EVERY);
    assert.throws(() => w.grant(), isViolation);
    for (let i = 0; i < STREAM_SENDME_EVERY - 1; i++) w.take();
    assert.throws(() => w.grant(), isViolation, '49 spent, 50 granted: too much');
    w.take();
    w.grant();
    assert.equal(w.left, STREAM_WINDOW);
    assert.throws(() => w.grant(), isViolation);
  });
});

describe('ReceiveWindow', () => {
  it('asks for a SENDME every `increment` delivered cells', () => {
    const r = new ReceiveWindow(STREAM_WINDOW, STREAM_SENDME_EVERY);
    const due: number[] = [];
    for (let i = 1; i <= 200; i++) {
      r.received();
      if (r.delivered()) due.push(i);
    }
    assert.deepEqual(due, [50, 100, 150, 200]);
  });

  it('accepts a full window undelivered, and not one cell more', () => {
    const r = new ReceiveWindow(STREAM_WINDOW, STREAM_SENDME_EVERY);
    for (let i = 0; i < STREAM_WINDOW; i++) r.received();
    assert.throws(() => r.received(), isViolation);
  });

  it('reopens only by what was delivered (and acknowledged)', () => {
    const r = new ReceiveWindow(10, 5);
    for (let i = 0; i < 10; i++) r.received();
    // Four delivered: no SENDME yet, so the sender has no new credit; an 11th cell is a violation.
    for (let i = 0; i < 4; i++) assert.equal(r.delivered(), false);
    const early = new ReceiveWindow(10, 5);
    for (let i = 0; i < 10; i++) early.received();
    for (let i = 0; i < 4; i++) early.delivered();
    assert.throws(() => early.received(), isViolation);
    // The fifth delivery makes a SENDME due, but only sending it (acknowledged) grants credit.
    assert.equal(r.delivered(), true);
    assert.throws(() => r.received(), isViolation);
    const sent = new ReceiveWindow(10, 5);
    for (let i = 0; i < 10; i++) sent.received();
    for (let i = 0; i < 5; i++) sent.delivered();
    sent.acknowledged();
    for (let i = 0; i < 5; i++) sent.received();
    assert.throws(() => sent.received(), isViolation);
    assert.throws(() => r.received(), isViolation);
  });
});

describe('AuthenticatedSendWindow (circuit SENDMEs, proposal 289)', () => {
  const v1 = (data: Uint8Array) => ({ version: 1, data });

  /** Sends `n` cells as a sender would: fills each returned buffer with the cell's (random) digest. */
  function send(w: AuthenticatedSendWindow, n: number): Uint8Array[] {
    const digests: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      assert.ok(w.open);
      const due = w.nextIsDue;
      const d = w.take();
      assert.equal(d !== undefined, due, `cell ${i + 1}: nextIsDue said ${due}`);
      if (d !== undefined) {
        d.set(randomBytes(16));
        digests.push(Uint8Array.from(d));
      }
    }
    return digests;
  }

  it('asks for a digest on every increment-th cell and accepts SENDMEs naming them in order', () => {
    const w = new AuthenticatedSendWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
    const digests = send(w, CIRCUIT_WINDOW);
    assert.equal(digests.length, CIRCUIT_WINDOW / CIRCUIT_SENDME_EVERY);
    assert.equal(w.outstanding, 10, 'the queue is bounded by the window: 10 digests');
    assert.equal(w.open, false);
    for (const d of digests) w.grant(v1(d));
    assert.equal(w.left, CIRCUIT_WINDOW);
    assert.equal(w.outstanding, 0);
    // And it goes on: the 100th cell of the next round is due again.
    const more = send(w, 250);
    assert.equal(more.length, 2);
    w.grant(v1(more[0]!));
    w.grant(v1(more[1]!));
  });

  it('a SENDME for data never sent closes: SENDME_UNEXPECTED', () => {
    const w = new AuthenticatedSendWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
    const code = (e: unknown) => e instanceof FlowControlError && e.code === 'SENDME_UNEXPECTED';
    assert.throws(() => w.grant(v1(new Uint8Array(16))), code);
    send(w, CIRCUIT_SENDME_EVERY - 1);
    assert.throws(() => w.grant(v1(new Uint8Array(16))), code, '99 cells sent: no SENDME due yet');
  });

  it('a SENDME naming another cell, out of order, without or with another version closes: SENDME_FORGED', () => {
    const forged = (e: unknown) => e instanceof FlowControlError && e.code === 'SENDME_FORGED';
    const w = new AuthenticatedSendWindow(CIRCUIT_WINDOW, CIRCUIT_SENDME_EVERY);
    const [first, second] = send(w, 2 * CIRCUIT_SENDME_EVERY) as [Uint8Array, Uint8Array];
    assert.throws(() => w.grant(v1(randomBytes(16))), forged, 'a guessed digest');
    assert.throws(() => w.grant(v1(second)), forged, 'the second digest first');
    assert.throws(() => w.grant(undefined), forged, 'an empty (version 0) SENDME');
    assert.throws(() => w.grant({ version: 2, data: first }), forged, 'a version it does not speak');
    assert.throws(() => w.grant(v1(first.subarray(0, 15))), forged, 'a short digest');
    const wrongByOne = Uint8Array.from(first);
    wrongByOne[15]! ^= 1;
    assert.throws(() => w.grant(v1(wrongByOne)), forged, 'one bit off');
    assert.equal(w.left, CIRCUIT_WINDOW - 2 * CIRCUIT_SENDME_EVERY, 'no refused SENDME granted anything');
    w.grant(v1(first));
    w.grant(v1(second));
    assert.equal(w.left, CIRCUIT_WINDOW);
  });

  it('waiters run when an authentic SENDME reopens the window', () => {
    const w = new AuthenticatedSendWindow(2 * CIRCUIT_SENDME_EVERY, CIRCUIT_SENDME_EVERY);
    const [d] = send(w, 2 * CIRCUIT_SENDME_EVERY) as [Uint8Array];
    let ran = 0;
    w.whenOpen(() => ran++);
    assert.throws(() => w.grant(v1(new Uint8Array(16))));
    assert.equal(ran, 0);
    w.grant(v1(d));
    assert.equal(ran, 1);
  });
});
