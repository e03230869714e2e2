import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { signReceiptWith, verifyReceiptSignature } from '../../../src/crypto/receipt-signature.ts';
import { concatBytes } from '../../../src/wire/bytes.ts';
import { WireError } from '../../../src/wire/errors.ts';
import {
  assembleReceipt,
  compareReceiptOrder,
  decodeReceipt,
  encodeReceipt,
  RECEIPT_BYTES,
  RECEIPT_ORDER_KEY_BYTES,
  RECEIPT_SIGNING_CONTEXT,
  receiptOrderKey,
  receiptSigningMessage,
  type SignedReceipt,
} from '../../../src/wire/receipt.ts';
import { arbReceipt, arbSignature, otherRelay, relay, signed, signers } from '../economy/receipt-fixtures.ts';

const a = signers[0]!;

function decodeOk(bytes: Uint8Array): SignedReceipt {
  const r = decodeReceipt(bytes);
  assert.equal(r.kind, 'ok', r.kind === 'error' ? `${r.code}: ${r.message}` : r.kind);
  return r.kind === 'ok' ? r.value : assert.fail('unreachable');
}

function code(bytes: Uint8Array): string {
  const r = decodeReceipt(bytes);
  return r.kind === 'error' ? r.code : r.kind;
}

describe('receipt codec', () => {
  it('lays the fields out at the offsets of docs/economy.md', () => {
    const s = signed(a, 0x0102030405060708n, 0xa1a2a3a4a5a6a7a8n, { epoch: 0x01020304 });
    const b = s.bytes;
    assert.equal(b.length, 153);
    assert.deepEqual([...b.subarray(0, 5)], [0x41, 0x4e, 0x52, 0x43, 1]);
    assert.deepEqual([...b.subarray(5, 9)], [1, 2, 3, 4]);
    assert.deepEqual(b.subarray(9, 41), relay.publicKey);
    assert.deepEqual(b.subarray(41, 73), a.publicKey);
    assert.deepEqual([...b.subarray(73, 81)], [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8]);
    assert.deepEqual([...b.subarray(81, 89)], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(b.subarray(89), s.signature);
    assert.deepEqual(s.body, b.subarray(0, 89));
  });

  it('signs "anonnet-receipt-v1\\0" || bytes 0..88 with the signer key', () => {
    const s = signed(a, 5n, 1n);
    assert.equal(RECEIPT_SIGNING_CONTEXT, 'anonnet-receipt-v1\0');
    const msg = concatBytes(new TextEncoder().encode('anonnet-receipt-v1\0'), s.bytes.subarray(0, 89));
    assert.deepEqual(receiptSigningMessage(s.body), msg);
    assert.deepEqual(s.signature, a.sign(msg));
    assert.ok(verifyReceiptSignature(s));
    assert.ok(verifyReceiptSignature(decodeOk(s.bytes)));
  });

  it('a signature fails when any byte of the receipt changes', () => {
    const s = signed(a, 5n, 1n);
    for (let i = 0; i < RECEIPT_BYTES; i++) {
      const bytes = s.bytes.slice();
      bytes[i]! ^= 0x01;
      const d = decodeReceipt(bytes);
      if (d.kind === 'ok') assert.equal(verifyReceiptSignature(d.value), false, `byte ${i}`);
    }
  });

  it('refuses to sign for another signer key', () => {
    assert.throws(
      () =>
        signReceiptWith(a, {
          epoch: 1,
          relay: relay.publicKey,
          signer: otherRelay.publicKey,
          tag: 1n,
          cells: 1n,
        }),
      { name: 'CryptoError', code: 'BAD_KEY' },
    );
  });

  it('encode → decode gives the same value and the same bytes (property)', () => {
    fc.assert(
      fc.property(arbReceipt, arbSignature, (r, sig) => {
        const s = assembleReceipt(r, sig);
        const d = decodeOk(s.bytes);
        assert.deepStrictEqual(d.receipt, r);
        assert.deepStrictEqual(d.bytes, s.bytes);
        assert.deepStrictEqual(d.signature, sig);
        assert.deepStrictEqual(encodeReceipt(d.receipt), d.body);
      }),
      { numRuns: 500 },
    );
  });

  it('answers needMore for every proper prefix and TRAILING_BYTES past 153', () => {
    const b = signed(a, 5n, 1n).bytes;
    for (let n = 0; n < b.length; n++) assert.equal(code(b.subarray(0, n)), 'needMore', `prefix ${n}`);
    assert.equal(code(concatBytes(b, new Uint8Array(1))), 'TRAILING_BYTES');
  });

  it('refuses another magic or version', () => {
    const b = signed(a, 5n, 1n).bytes;
    const m = b.slice();
    m[0] = 0x42;
    assert.equal(code(m), 'BAD_MAGIC');
    assert.equal(code(m.subarray(0, 2)), 'BAD_MAGIC');
    const v = b.slice();
    v[4] = 2;
    assert.equal(code(v), 'BAD_VERSION');
    assert.equal(code(v.subarray(0, 5)), 'BAD_VERSION');
  });

  it('encoding refuses keys of the wrong length, an epoch past u32 and cells past u64', () => {
    const base = { epoch: 1, relay: relay.publicKey, signer: a.publicKey, tag: 1n, cells: 1n };
    const bad = [
      { ...base, relay: new Uint8Array(31) },
      { ...base, signer: new Uint8Array(33) },
      { ...base, epoch: 2 ** 32 },
      { ...base, epoch: -1 },
      { ...base, cells: 2n ** 64n },
      { ...base, tag: -1n },
    ];
    for (const r of bad) assert.throws(() => encodeReceipt(r), WireError);
    assert.throws(() => assembleReceipt(base, new Uint8Array(63)), { name: 'WireError', code: 'BAD_LENGTH' });
  });

  it('orders receipts by signer bytes, then tag', () => {
    const keys = signers.map((s) => s.publicKey);
    const r = (signer: Uint8Array, tag: bigint) => ({
      epoch: 1,
      relay: relay.publicKey,
      signer,
      tag,
      cells: 1n,
    });
    const [k0, k1] = [...keys].sort(Buffer.compare);
    assert.equal(compareReceiptOrder(r(k0!, 9n), r(k1!, 1n)), -1);
    assert.equal(compareReceiptOrder(r(k1!, 1n), r(k0!, 9n)), 1);
    assert.equal(compareReceiptOrder(r(k0!, 1n), r(k0!, 2n)), -1);
    assert.equal(compareReceiptOrder(r(k0!, 2n), r(k0!, 2n)), 0);
  });

  it('the order key is signer || tag u64 big-endian', () => {
    const key = receiptOrderKey({ ...signed(a, 5n, 0x0102030405060708n).receipt });
    assert.equal(key.length, RECEIPT_ORDER_KEY_BYTES);
    assert.deepEqual(key.subarray(0, 32), a.publicKey);
    assert.deepEqual([...key.subarray(32)], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('comparing order keys as bytes is compareReceiptOrder (property)', () => {
    // Signers from a small set, so that equal signers (and the tag deciding) are common.
    const arbSigner = fc.constantFrom(...signers.slice(0, 3).map((s) => s.publicKey));
    const arbTag = fc.oneof(
      fc.bigInt({ min: 0n, max: 3n }),
      fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    );
    const arb = fc.record({ signer: arbSigner, tag: arbTag }, { noNullPrototype: true });
    fc.assert(
      fc.property(arb, arb, (x, y) => {
        const [rx, ry] = [x, y].map((v) => ({ epoch: 1, relay: relay.publicKey, cells: 1n, ...v }));
        const byKey = Math.sign(Buffer.compare(receiptOrderKey(rx!), receiptOrderKey(ry!)));
        assert.equal(byKey, compareReceiptOrder(rx!, ry!));
      }),
      { numRuns: 500 },
    );
  });
});
