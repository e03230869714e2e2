import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import fc from 'fast-check';
import {
  identityKeyOfPeerId,
  peerIdFromRecordKey,
  RELAY_NAMESPACE,
  RecordRefusedError,
  relayRecordKey,
  relayRecordValidator,
  selectNewestDescriptor,
} from '../../../src/directory/dht-records.ts';
import { makeVerify, ms, NOW, relay } from './relay-view-helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('relay record keys', () => {
  const a = relay(1);

  it('are /anonnet-relay/<peer id> and round-trip', () => {
    assert.equal(RELAY_NAMESPACE, 'anonnet-relay');
    const key = relayRecordKey(a.peerId);
    assert.equal(new TextDecoder().decode(key), `/anonnet-relay/${a.peerId}`);
    assert.equal(peerIdFromRecordKey(key), a.peerId);
    fc.assert(
      fc.property(fc.string(), (id) => peerIdFromRecordKey(relayRecordKey(id)) === id),
      { numRuns: 200 },
    );
  });

  it('other namespaces give undefined', () => {
    assert.equal(peerIdFromRecordKey(enc(`/pk/${a.peerId}`)), undefined);
    assert.equal(peerIdFromRecordKey(enc(`anonnet-relay/${a.peerId}`)), undefined);
    assert.equal(peerIdFromRecordKey(enc('/anonnet-relay')), undefined);
    assert.equal(peerIdFromRecordKey(new Uint8Array(0)), undefined);
  });
});

describe('identityKeyOfPeerId', () => {
  it('returns the raw Ed25519 key of an Ed25519 peer id', () => {
    const a = relay(1);
    assert.deepEqual(identityKeyOfPeerId(a.peerId), a.identity.publicKey);
  });

  it('gives undefined for secp256k1 and RSA ids and for garbage', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
    assert.equal(identityKeyOfPeerId(secp), undefined);
    // An RSA peer id (sha256 multihash): well-formed, but not Ed25519.
    assert.equal(identityKeyOfPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), undefined);
    for (const garbage of ['', 'hello', '12D3KooW', '12D3KooW000000', `${relay(1).peerId}x`]) {
      assert.equal(identityKeyOfPeerId(garbage), undefined, garbage);
    }
  });
});

describe('relayRecordValidator', () => {
  const a = relay(1);
  const b = relay(2);
  const validate = relayRecordValidator(makeVerify(() => NOW));

  async function refusedWith(key: Uint8Array, value: Uint8Array, code: string): Promise<void> {
    await assert.rejects(
      validate(key, value),
      (err: unknown) =>
        err instanceof RecordRefusedError && err.name === 'RecordRefusedError' && err.code === code,
    );
  }

  it('accepts a valid descriptor under its own key', async () => {
    await validate(relayRecordKey(a.peerId), a.descriptor().bytes);
  });

  it('refuses a foreign key, another relay, a bad descriptor, each with its code', async () => {
    await refusedWith(enc(`/pk/${a.peerId}`), a.descriptor().bytes, 'BAD_KEY');
    await refusedWith(relayRecordKey(b.peerId), a.descriptor().bytes, 'IDENTITY_MISMATCH');
    await refusedWith(relayRecordKey('garbage'), a.descriptor().bytes, 'IDENTITY_MISMATCH');
    await refusedWith(relayRecordKey(a.peerId), new Uint8Array([1, 2]), 'MALFORMED');
    await refusedWith(relayRecordKey(a.peerId), a.descriptor({ expiresAt: ms(NOW) }).bytes, 'EXPIRED');
  });
});

describe('selectNewestDescriptor', () => {
  const a = relay(1);
  const key = relayRecordKey(a.peerId);
  const s10 = a.descriptor({ sequence: 10n }).bytes;
  const s11 = a.descriptor({ sequence: 11n }).bytes;
  const s11later = a.descriptor({ sequence: 11n, publishedAt: ms(NOW - 1000) }).bytes;
  const junk = new Uint8Array([0x41, 0x4e, 0x52, 0x44, 1, 2, 3]);

  it('picks the highest sequence, then the later publishedAt', () => {
    assert.equal(selectNewestDescriptor(key, [s10, s11]), 1);
    assert.equal(selectNewestDescriptor(key, [s11, s10]), 0);
    assert.equal(selectNewestDescriptor(key, [s10, s11, s11later]), 2);
    assert.equal(selectNewestDescriptor(key, [s11later, s11, s10]), 0);
  });

  it('ignores malformed records wherever they sit', () => {
    assert.equal(selectNewestDescriptor(key, [junk, s10]), 1);
    assert.equal(selectNewestDescriptor(key, [s10, junk]), 0);
    assert.equal(selectNewestDescriptor(key, [junk, new Uint8Array(0), s10, junk, s11, junk]), 4);
  });

  it('returns 0 for a single record or when nothing decodes', () => {
    assert.equal(selectNewestDescriptor(key, [s10]), 0);
    assert.equal(selectNewestDescriptor(key, [junk, junk]), 0);
  });

  it('settles equal sequence and publishedAt by the bytewise larger encoding, in any order', () => {
    const x = a.descriptor({ bandwidth: 1 }).bytes;
    const y = a.descriptor({ bandwidth: 2 }).bytes;
    const larger = Buffer.compare(x, y) > 0 ? x : y;
    assert.equal(selectNewestDescriptor(key, [x, y]), [x, y].indexOf(larger));
    assert.equal(selectNewestDescriptor(key, [y, x]), [y, x].indexOf(larger));
  });

  it('is independent of order (property)', () => {
    const all = [s10, s11, s11later, junk];
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: 1 }), (records) => {
        const winner = records[selectNewestDescriptor(key, records)];
        const expected = records.includes(s11later)
          ? s11later
          : records.includes(s11)
            ? s11
            : records.includes(s10)
              ? s10
              : records[0];
        assert.equal(winner, expected);
      }),
      { numRuns: 100 },
    );
  });
});
