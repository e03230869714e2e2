// The receiving side's receipts and the relay's receipt book: a receipt every 512 cells and at close,
// a new tag when the epoch changes, and a book that keeps only good, newer receipts for this relay.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import { receiptSigner } from '../../../src/economy/circuit-economy.ts';
import { measurementSample } from '../../../src/economy/measurer.ts';
import { ReceiptBook } from '../../../src/economy/receipt-book.ts';
import { RECEIPT_EVERY_CELLS, ReceiptCounter } from '../../../src/economy/receipt-counter.ts';
import { keyHex } from '../../../src/ledger/state.ts';
import type { SignedReceipt } from '../../../src/wire/receipt.ts';

const relay = identityFromSeed(new Uint8Array(32).fill(1));
const receiver = identityFromSeed(new Uint8Array(32).fill(2));

function counter(epoch: { value: number | undefined }) {
  return new ReceiptCounter(
    receiptSigner(receiver, () => epoch.value),
    relay.publicKey,
  );
}

function countN(c: ReceiptCounter, n: number): SignedReceipt[] {
  const out: SignedReceipt[] = [];
  for (let i = 0; i < n; i++) out.push(...(c.count() ?? []));
  return out;
}

describe('ReceiptCounter', () => {
  it('signs a cumulative receipt every 512 cells and one at close', () => {
    const c = counter({ value: 3 });
    const rs = countN(c, 1200);
    assert.deepEqual(
      rs.map((r) => r.receipt.cells),
      [RECEIPT_EVERY_CELLS, 2n * RECEIPT_EVERY_CELLS],
    );
    const last = c.flush();
    assert.equal(last?.receipt.cells, 1200n);
    assert.equal(c.flush(), undefined, 'nothing new since the last receipt');
    assert.ok(rs.every((r) => r.receipt.epoch === 3 && r.receipt.tag === last?.receipt.tag));
  });

  it('closes the old epoch with a last receipt and starts over under a new tag', () => {
    const epoch = { value: 3 as number | undefined };
    const c = counter(epoch);
    countN(c, 100);
    epoch.value = 4;
    const rs = c.count() ?? [];
    assert.equal(rs.length, 1);
    assert.deepEqual([rs[0]?.receipt.epoch, rs[0]?.receipt.cells], [3, 100n]);
    const next = c.flush();
    assert.deepEqual([next?.receipt.epoch, next?.receipt.cells], [4, 1n]);
    assert.notEqual(next?.receipt.tag, rs[0]?.receipt.tag);
  });

  it('gives no receipts without a ledger epoch', () => {
    const c = counter({ value: undefined });
    assert.equal(countN(c, 2000).length, 0);
    assert.equal(c.flush(), undefined);
  });
});

describe('ReceiptBook', () => {
  it('keeps the latest good receipt per (signer, tag) and refuses the rest with a reason', () => {
    const book = new ReceiptBook(relay.publicKey, 2);
    const c = counter({ value: 5 });
    const [a, b] = countN(c, 1024);
    assert.ok(a && b);
    assert.equal(book.accept(a.bytes, 5), null);
    assert.equal(book.accept(b.bytes, 5), null);
    assert.equal(book.accept(a.bytes, 5), 'STALE');
    assert.equal(book.cells(5), 1024n, 'the newer receipt replaced the older');
    const forged = b.bytes.slice();
    forged[100] = (forged[100] ?? 0) ^ 1;
    assert.equal(book.accept(forged, 5), 'STALE'); // same (signer, tag), not more cells
    const bumped = counter({ value: 5 });
    const other = countN(bumped, 512)[0];
    assert.ok(other);
    const badSig = other.bytes.slice();
    badSig[120] = (badSig[120] ?? 0) ^ 1;
    assert.equal(book.accept(badSig, 5), 'BAD_SIGNATURE');
    assert.equal(book.accept(other.bytes, 7), 'WRONG_EPOCH');
    assert.equal(book.accept(other.bytes, 6), null, 'the previous epoch is still taken');
    const notOurs = new ReceiptCounter(
      receiptSigner(receiver, () => 5),
      receiver.publicKey,
    );
    assert.equal(book.accept(countN(notOurs, 512)[0]?.bytes ?? new Uint8Array(), 5), 'NOT_OURS');
    assert.equal(book.accept(new Uint8Array(10), 5), 'MALFORMED');
    const third = countN(counter({ value: 5 }), 512)[0];
    assert.equal(book.accept(third?.bytes ?? new Uint8Array(), 5), 'FULL');
    book.dropBefore(6);
    assert.equal(book.receipts(5).length, 0);
  });
});

describe('ReceiptBook, lazy verification', () => {
  it('checks a newer receipt only at claim time, falling back to the newest that verified', () => {
    const book = new ReceiptBook(relay.publicKey);
    const [a, b] = countN(counter({ value: 5 }), 1024);
    assert.ok(a && b);
    assert.equal(book.accept(a.bytes, 5), null);
    const forged = b.bytes.slice();
    forged[88] = 0xff; // cells: far more than 1024, and the signature no longer covers it
    assert.equal(book.accept(forged, 5), null, 'not checked on arrival');
    assert.ok(book.cells(5) > 1024n);
    const kept = book.receipts(5);
    assert.deepEqual(
      kept.map((r) => r.receipt.cells),
      [512n],
      'the forged one is dropped at claim time, the verified one stays',
    );
    assert.equal(book.stats.refused.BAD_SIGNATURE, 1);
    assert.equal(book.accept(b.bytes, 5), null, 'a genuine newer one is still taken');
    assert.deepEqual(
      book.receipts(5).map((r) => r.receipt.cells),
      [1024n],
    );
  });
});

describe('measurementSample', () => {
  it('is deterministic, excludes the measurer, and changes with the block hash', () => {
    const relays = Array.from({ length: 20 }, (_, i) =>
      keyHex(identityFromSeed(new Uint8Array(32).fill(i + 10)).publicKey),
    );
    const me = identityFromSeed(new Uint8Array(32).fill(10)).publicKey;
    const h1 = new Uint8Array(32).fill(1);
    const a = measurementSample(relays, h1, me, 5);
    assert.deepEqual(a, measurementSample([...relays].reverse(), h1, me, 5));
    assert.equal(a.length, 5);
    assert.ok(!a.includes(keyHex(me)));
    assert.notDeepEqual(a, measurementSample(relays, new Uint8Array(32).fill(2), me, 5));
  });
});
