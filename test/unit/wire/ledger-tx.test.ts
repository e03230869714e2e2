import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { concatBytes } from '../../../src/wire/bytes.ts';
import { WireError } from '../../../src/wire/errors.ts';
import {
  decodeTx,
  encodeTx,
  MAX_TX_BYTES,
  type SignedTx,
  signTx,
  TX_HEADER_BYTES,
  TX_KIND,
  TX_SIGNING_CONTEXT,
  type Tx,
  txId,
  txSigningMessage,
} from '../../../src/wire/ledger-tx.ts';
import { alice, arbTx, bob, sampleBodies, tx } from '../ledger/fixtures.ts';

function decodeOk(bytes: Uint8Array): SignedTx {
  const r = decodeTx(bytes);
  assert.equal(r.kind, 'ok', r.kind === 'error' ? `${r.code}: ${r.message}` : r.kind);
  return r.kind === 'ok' ? r.value : assert.fail('unreachable');
}

function code(bytes: Uint8Array): string {
  const r = decodeTx(bytes);
  return r.kind === 'error' ? r.code : r.kind;
}

/** Signs an arbitrary body (bytes the encoder would refuse to produce). */
function resign(body: Uint8Array): Uint8Array {
  return concatBytes(body, alice.sign(txSigningMessage(body)));
}

const transfer = () => tx(alice, 1n, { kind: 'TRANSFER', to: bob.publicKey, amount: 5n });

describe('ledger transaction codec', () => {
  it('encode → sign → decode gives the same value and the same bytes (property)', () => {
    fc.assert(
      fc.property(arbTx, (t) => {
        let body: Uint8Array;
        try {
          body = encodeTx(t);
        } catch (err) {
          // Only a name longer than 63 UTF-8 bytes is refused by the arbitrary's ranges.
          assert.ok(err instanceof WireError && err.code === 'BAD_LENGTH' && t.kind === 'REGISTER_NAME');
          return;
        }
        const signed = signTx(t, (m) => alice.sign(m));
        assert.deepEqual(signed.body, body);
        const d = decodeOk(signed.bytes);
        assert.deepStrictEqual(d.tx, t);
        assert.deepStrictEqual(d.bytes, signed.bytes);
        assert.deepStrictEqual(encodeTx(d.tx), d.body);
      }),
      { numRuns: 300 },
    );
  });

  it('every sample kind round-trips byte for byte', () => {
    for (const body of sampleBodies) {
      const signed = tx(alice, 9n, body, 3n);
      const d = decodeOk(signed.bytes);
      assert.deepStrictEqual(d.tx, signed.tx);
      assert.deepStrictEqual(signTx(d.tx, (m) => alice.sign(m)).bytes, signed.bytes);
      assert.ok(signed.bytes.length <= MAX_TX_BYTES);
    }
  });

  it('lays out the header as documented', () => {
    const b = transfer().bytes;
    assert.deepEqual([...b.subarray(0, 6)], [0x41, 0x4e, 0x54, 0x58, 2, TX_KIND.TRANSFER]);
    assert.deepEqual(b.subarray(6, 38), alice.publicKey);
    const view = new DataView(b.buffer, b.byteOffset);
    assert.equal(view.getBigUint64(38), 1n);
    assert.equal(view.getBigUint64(46), 1n);
    assert.deepEqual(b.subarray(TX_HEADER_BYTES, TX_HEADER_BYTES + 32), bob.publicKey);
    assert.equal(view.getBigUint64(TX_HEADER_BYTES + 32), 5n);
    assert.equal(b.length, TX_HEADER_BYTES + 40 + 64);
  });

  it('signs the context string followed by the body', () => {
    const s = transfer();
    const ctx = new TextEncoder().encode(TX_SIGNING_CONTEXT);
    assert.deepEqual(txSigningMessage(s.body), concatBytes(ctx, s.body));
    assert.ok(TX_SIGNING_CONTEXT.endsWith('\0'));
  });

  it('txId is SHA-256 of the signed bytes', () => {
    const s = transfer();
    assert.deepEqual(txId(s.bytes), new Uint8Array(createHash('sha256').update(s.bytes).digest()));
    assert.notDeepEqual(txId(s.bytes), txId(signTx({ ...s.tx, nonce: 2n }, (m) => alice.sign(m)).bytes));
  });

  it('keeps a leading byte-order mark in a name (one encoding per value)', () => {
    const s = tx(alice, 1n, { kind: 'REGISTER_NAME', name: '\uFEFFa', target: bob.publicKey });
    const d = decodeOk(s.bytes);
    assert.equal(d.tx.kind === 'REGISTER_NAME' && d.tx.name, '\uFEFFa');
    assert.deepEqual(encodeTx(d.tx), s.body);
  });

  it('every proper prefix answers needMore', () => {
    for (const body of sampleBodies) {
      const b = tx(alice, 1n, body).bytes;
      for (let n = 0; n < b.length; n++) assert.equal(code(b.subarray(0, n)), 'needMore', `prefix ${n}`);
    }
  });

  it('refuses, with stable codes', () => {
    const good = transfer().bytes;
    const bad = (at: number, v: number) => {
      const b = good.slice();
      b[at] = v;
      return b;
    };
    assert.equal(code(bad(0, 0x42)), 'BAD_MAGIC');
    assert.equal(code(new Uint8Array([0x41, 0x4e, 0x00])), 'BAD_MAGIC');
    assert.equal(code(bad(4, 1)), 'BAD_VERSION');
    assert.equal(code(bad(5, 0)), 'UNKNOWN_KIND');
    assert.equal(code(bad(5, 11)), 'UNKNOWN_KIND');
    assert.equal(code(concatBytes(good, new Uint8Array([0]))), 'TRAILING_BYTES');
    assert.equal(code(new Uint8Array(MAX_TX_BYTES + 1)), 'TOO_LARGE');

    const relay = tx(alice, 1n, sampleBodies[2]!).body;
    const policyAt = TX_HEADER_BYTES + 1 + 4 + 32 + 32;
    const longPolicy = relay.slice(0, policyAt + 2);
    new DataView(longPolicy.buffer).setUint16(policyAt, 257);
    assert.equal(code(resign(concatBytes(longPolicy, new Uint8Array(257)))), 'BAD_LENGTH');

    const name = tx(alice, 1n, sampleBodies[4]!).body;
    const zeroName = name.slice();
    zeroName[TX_HEADER_BYTES] = 0;
    assert.equal(code(resign(zeroName)), 'BAD_LENGTH');
    const longName = name.slice();
    longName[TX_HEADER_BYTES] = 64;
    assert.equal(code(resign(longName)), 'BAD_LENGTH');
    const badUtf8 = name.slice();
    badUtf8[TX_HEADER_BYTES + 1] = 0xff;
    assert.equal(code(resign(badUtf8)), 'BAD_UTF8');

    const vote = tx(alice, 1n, sampleBodies[6]!).body;
    const badYes = vote.slice();
    badYes[badYes.length - 1] = 2;
    assert.equal(code(resign(badYes)), 'BAD_FIELD');
  });

  it('the encoder refuses values the format cannot carry', () => {
    const base = { sender: alice.publicKey, nonce: 1n, fee: 1n };
    const refuses = (t: Tx, c: string) =>
      assert.throws(
        () => encodeTx(t),
        (e: unknown) => e instanceof WireError && e.code === c,
      );
    refuses({ ...base, sender: new Uint8Array(31), kind: 'VALIDATOR_CANDIDACY' }, 'BAD_LENGTH');
    refuses({ ...base, nonce: -1n, kind: 'VALIDATOR_CANDIDACY' }, 'BAD_FIELD');
    refuses({ ...base, fee: 1n << 64n, kind: 'VALIDATOR_CANDIDACY' }, 'BAD_FIELD');
    refuses({ ...base, kind: 'TRANSFER', to: new Uint8Array(3), amount: 1n }, 'BAD_LENGTH');
    refuses({ ...base, kind: 'REGISTER_NAME', name: '', target: bob.publicKey }, 'BAD_LENGTH');
    refuses({ ...base, kind: 'REGISTER_NAME', name: 'a'.repeat(64), target: bob.publicKey }, 'BAD_LENGTH');
    refuses(
      {
        ...base,
        kind: 'REGISTER_RELAY',
        roles: 1,
        bandwidth: 1,
        onionKeyHash: new Uint8Array(32),
        payout: new Uint8Array(32).fill(0xcd),
        exitPolicySummary: new Uint8Array(257),
      },
      'BAD_LENGTH',
    );
    refuses({ ...base, kind: 'PARAM_PROPOSAL', paramId: 256, value: 1n }, 'BAD_FIELD');
    refuses({ ...base, kind: 'PARAM_VOTE', proposalId: new Uint8Array(31), yes: true }, 'BAD_LENGTH');
    assert.throws(() => signTx({ ...base, kind: 'VALIDATOR_CANDIDACY' }, () => new Uint8Array(63)));
  });
});
