import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, decapsulate, diffieHellman, encapsulate } from 'node:crypto';
import { describe, it } from 'node:test';
import { CryptoError } from '../../../src/crypto/errors.ts';
import {
  decodeOnionKeyPair,
  encodeOnionKeyPair,
  generateOnionKeyPair,
  isValidMlKem768Public,
  isValidX25519Public,
  onionKeyPairFromSecrets,
} from '../../../src/crypto/onion-keys.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';

const ms = (n: number) => n as UnixMillis;

describe('onion keys', () => {
  const pair = generateOnionKeyPair(ms(1000), ms(2000));

  it('generates keys of the documented sizes', () => {
    assert.equal(pair.x25519Public.length, 32);
    assert.equal(pair.x25519Private.length, 32);
    assert.equal(pair.mlkemPublic.length, 1184);
    assert.equal(pair.mlkemSeed.length, 64);
    assert.equal(pair.validFrom, 1000);
    assert.equal(pair.validUntil, 2000);
    assert.equal(isValidX25519Public(pair.x25519Public), true);
    assert.equal(isValidMlKem768Public(pair.mlkemPublic), true);
  });

  it('the private halves work with the public halves (DH and KEM)', () => {
    const xPriv = createPrivateKey({
      key: Buffer.from(pair.x25519Private),
      format: 'raw-private',
      asymmetricKeyType: 'x25519',
    });
    const other = generateOnionKeyPair(ms(1000), ms(2000));
    const otherPriv = createPrivateKey({
      key: Buffer.from(other.x25519Private),
      format: 'raw-private',
      asymmetricKeyType: 'x25519',
    });
    const pub = (raw: Uint8Array) =>
      createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'x25519' });
    assert.deepEqual(
      diffieHellman({ privateKey: xPriv, publicKey: pub(other.x25519Public) }),
      diffieHellman({ privateKey: otherPriv, publicKey: pub(pair.x25519Public) }),
    );
    const mPub = createPublicKey({
      key: Buffer.from(pair.mlkemPublic),
      format: 'raw-public',
      asymmetricKeyType: 'ml-kem-768',
    });
    const mPriv = createPrivateKey({
      key: Buffer.from(pair.mlkemSeed),
      format: 'raw-seed',
      asymmetricKeyType: 'ml-kem-768',
    });
    const { sharedKey, ciphertext } = encapsulate(mPub);
    assert.deepEqual(decapsulate(mPriv, ciphertext), sharedKey);
  });

  it('rebuilds the same public keys from the secrets', () => {
    const again = onionKeyPairFromSecrets(
      pair.x25519Private,
      pair.mlkemSeed,
      pair.validFrom,
      pair.validUntil,
    );
    assert.deepEqual(again, pair);
  });

  it('round-trips through the storage format and refuses damaged files', () => {
    const bytes = encodeOnionKeyPair(pair);
    assert.equal(bytes.length, 117);
    assert.deepEqual(decodeOnionKeyPair(bytes), pair);
    const isBadFile = (err: unknown) => err instanceof CryptoError && err.code === 'BAD_KEY_FILE';
    assert.throws(() => decodeOnionKeyPair(bytes.subarray(1)), isBadFile);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    assert.throws(() => decodeOnionKeyPair(badMagic), isBadFile);
    const badVersion = bytes.slice();
    badVersion[4] = 2;
    assert.throws(() => decodeOnionKeyPair(badVersion), isBadFile);
    const badWindow = bytes.slice();
    badWindow.fill(0, 101);
    assert.throws(() => decodeOnionKeyPair(badWindow), isBadFile);
  });

  it('refuses an empty validity window', () => {
    assert.throws(
      () => generateOnionKeyPair(ms(2000), ms(2000)),
      (err: unknown) => err instanceof CryptoError && err.code === 'BAD_VALIDITY',
    );
  });

  it('validators refuse bad lengths, small-order X25519 points and out-of-range ML-KEM keys', () => {
    assert.equal(isValidX25519Public(new Uint8Array(31)), false);
    assert.equal(isValidX25519Public(new Uint8Array(32)), false); // the zero point
    const one = new Uint8Array(32);
    one[0] = 1;
    assert.equal(isValidX25519Public(one), false); // order-1 point
    assert.equal(isValidMlKem768Public(new Uint8Array(1183)), false);
    assert.equal(isValidMlKem768Public(new Uint8Array(1184).fill(0xff)), false);
    assert.equal(isValidMlKem768Public(pair.mlkemPublic.subarray(0, 1183)), false);
  });
});
