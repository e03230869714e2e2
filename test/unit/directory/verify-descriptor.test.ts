import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyPow } from '../../../src/crypto/pow.ts';
import {
  compareDescriptors,
  type DescriptorRefusalCode,
  type DescriptorVerifyOptions,
  selectOnionKey,
  supersedes,
  verifyDescriptor,
} from '../../../src/directory/verify-descriptor.ts';
import { descriptorSigningMessage, encodeDescriptorBody } from '../../../src/wire/descriptor.ts';
import type { RelayDescriptor } from '../../../src/wire/descriptor-types.ts';
import {
  baseDescriptor,
  HOUR,
  identity,
  ms,
  NOW,
  onionKey,
  otherIdentity,
  POW_DIFFICULTY,
  signedBase,
  verifyOpts,
} from '../wire/descriptor-fixtures.ts';

function refusal(bytes: Uint8Array, opts: Partial<DescriptorVerifyOptions> = {}) {
  const r = verifyDescriptor(bytes, { ...verifyOpts, ...opts });
  return r.ok ? { code: 'ok', reason: '' } : { code: r.code, reason: r.reason };
}

function codeFor(overrides: Partial<RelayDescriptor>, opts: Partial<DescriptorVerifyOptions> = {}): string {
  return refusal(signedBase(overrides).bytes, opts).code;
}

function expectCode(actual: string, expected: DescriptorRefusalCode | 'ok'): void {
  assert.equal(actual, expected);
}

/** Sign raw body bytes (to build descriptors the encoder would refuse to produce). */
function signBody(body: Uint8Array): Uint8Array {
  return new Uint8Array([...body, ...identity.sign(descriptorSigningMessage(body))]);
}

describe('verifyDescriptor', () => {
  it('accepts the base descriptor and returns the decoded value', () => {
    const signed = signedBase();
    const r = verifyDescriptor(signed.bytes, { ...verifyOpts, expectedIdentity: identity.publicKey });
    assert.equal(r.ok, true);
    assert.deepEqual(r.ok && r.signed, signed);
  });

  it('MALFORMED: truncated, bad magic, trailing bytes, oversize, with the wire code in the reason', () => {
    const bytes = signedBase().bytes;
    const truncated = refusal(bytes.subarray(0, 100));
    expectCode(truncated.code, 'MALFORMED');
    assert.match(truncated.reason, /TRUNCATED/);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    assert.match(refusal(badMagic).reason, /^BAD_MAGIC/);
    const trailing = refusal(new Uint8Array([...bytes, 0]));
    expectCode(trailing.code, 'MALFORMED');
    assert.match(trailing.reason, /^TRAILING_BYTES/);
    assert.match(refusal(new Uint8Array(16 * 1024 + 1)).reason, /^TOO_LARGE/);
  });

  it('MALFORMED: an oversize onion key cannot be expressed; its bytes misparse', () => {
    // Key sizes are fixed by the layout, so one extra byte inside an ML-KEM key shifts every field after.
    const body = encodeDescriptorBody(baseDescriptor());
    const at = 75 + 32 + 100;
    const longer = new Uint8Array([...body.subarray(0, at), 0x42, ...body.subarray(at)]);
    expectCode(refusal(signBody(longer)).code, 'MALFORMED');
  });

  it('UNSUPPORTED_VERSION', () => {
    const bytes = signedBase().bytes.slice();
    bytes[4] = 2;
    expectCode(refusal(bytes).code, 'UNSUPPORTED_VERSION');
  });

  it('BAD_SIGNATURE: any flipped signature bit, a changed body byte, or the wrong signer', () => {
    const bytes = signedBase().bytes;
    for (const bit of [0, 7, 100, 511]) {
      const b = bytes.slice();
      b[b.length - 64 + (bit >> 3)]! ^= 1 << (bit & 7);
      expectCode(refusal(b).code, 'BAD_SIGNATURE');
    }
    const b = bytes.slice();
    b[73]! ^= 1; // bandwidth's low byte: still well formed, no longer what was signed
    expectCode(refusal(b).code, 'BAD_SIGNATURE');
    expectCode(refusal(signedBase({}, otherIdentity).bytes).code, 'BAD_SIGNATURE');
  });

  it('EXPIRED at and after expiresAt', () => {
    expectCode(codeFor({ expiresAt: NOW }), 'EXPIRED');
    expectCode(codeFor({}, { now: ms(NOW + 3 * HOUR + 1) }), 'EXPIRED');
    expectCode(codeFor({ expiresAt: ms(NOW + 1) }), 'ok');
  });

  it('FROM_FUTURE beyond the clock skew only', () => {
    const skew = verifyOpts.maxClockSkewMs;
    expectCode(codeFor({ publishedAt: ms(NOW + skew + 1) }), 'FROM_FUTURE');
    expectCode(codeFor({ publishedAt: ms(NOW + skew) }), 'ok');
  });

  it('LIFETIME_TOO_LONG and EXPIRES_BEFORE_PUBLISHED', () => {
    const max = verifyOpts.maxLifetimeMs;
    expectCode(
      codeFor({ publishedAt: ms(NOW - 1000), expiresAt: ms(NOW - 1000 + max + 1) }),
      'LIFETIME_TOO_LONG',
    );
    expectCode(codeFor({ publishedAt: ms(NOW - 1000), expiresAt: ms(NOW - 1000 + max) }), 'ok');
    expectCode(
      codeFor({ publishedAt: ms(NOW + 1000), expiresAt: ms(NOW + 1000) }),
      'EXPIRES_BEFORE_PUBLISHED',
    );
    expectCode(codeFor({ publishedAt: ms(NOW + 1000), expiresAt: ms(NOW + 10) }), 'EXPIRES_BEFORE_PUBLISHED');
  });

  it('INSUFFICIENT_POW', () => {
    let nonce = 0n;
    while (verifyPow(identity.publicKey, nonce, POW_DIFFICULTY)) nonce++;
    expectCode(codeFor({ powNonce: nonce }), 'INSUFFICIENT_POW');
    expectCode(codeFor({ powNonce: nonce }, { powDifficulty: 0 }), 'ok');
  });

  it('IDENTITY_MISMATCH', () => {
    const bytes = signedBase().bytes;
    expectCode(refusal(bytes, { expectedIdentity: otherIdentity.publicKey }).code, 'IDENTITY_MISMATCH');
    expectCode(
      refusal(bytes, { expectedIdentity: identity.publicKey.subarray(1) }).code,
      'IDENTITY_MISMATCH',
    );
  });

  it('NO_ROLES and NO_ADDRESSES', () => {
    expectCode(codeFor({ roles: 0 }), 'NO_ROLES');
    expectCode(codeFor({ roles: 0x80 }), 'ok'); // an unknown role is still a role
    expectCode(codeFor({ addresses: [] }), 'NO_ADDRESSES');
  });

  it('BAD_ONION_KEY: invalid ML-KEM bytes, a small-order X25519 key, an empty window', () => {
    const good = onionKey(0, NOW - HOUR, NOW + HOUR);
    expectCode(
      codeFor({ onionKeys: [{ ...good, mlkem768: new Uint8Array(1184).fill(0xff) }] }),
      'BAD_ONION_KEY',
    );
    expectCode(codeFor({ onionKeys: [{ ...good, x25519: new Uint8Array(32) }] }), 'BAD_ONION_KEY');
    expectCode(
      codeFor({ onionKeys: [good, { ...good, validFrom: ms(NOW + HOUR), validUntil: ms(NOW + HOUR) }] }),
      'BAD_ONION_KEY',
    );
  });

  it('NO_CURRENT_ONION_KEY: none, all expired, all in the future beyond skew', () => {
    expectCode(codeFor({ onionKeys: [] }), 'NO_CURRENT_ONION_KEY');
    expectCode(codeFor({ onionKeys: [onionKey(0, NOW - 2 * HOUR, NOW)] }), 'NO_CURRENT_ONION_KEY');
    expectCode(codeFor({ onionKeys: [onionKey(0, NOW + HOUR, NOW + 2 * HOUR)] }), 'NO_CURRENT_ONION_KEY');
    expectCode(codeFor({ onionKeys: [onionKey(0, NOW + 60_000, NOW + 2 * HOUR)] }), 'ok'); // within skew
  });

  it('BAD_OPTIONS instead of throwing on unusable options', () => {
    const bytes = signedBase().bytes;
    expectCode(refusal(bytes, { powDifficulty: 65 }).code, 'BAD_OPTIONS');
    expectCode(refusal(bytes, { now: ms(Number.NaN) }).code, 'BAD_OPTIONS');
    expectCode(refusal(bytes, { maxLifetimeMs: 0 }).code, 'BAD_OPTIONS');
    expectCode(refusal(bytes, { maxClockSkewMs: -1 }).code, 'BAD_OPTIONS');
  });
});

describe('selectOnionKey', () => {
  const a = onionKey(0, 1000, 3000);
  const b = onionKey(1, 2000, 4000);
  it('picks the newest key valid now, else one starting within the skew', () => {
    assert.equal(selectOnionKey([a, b], 1500), a);
    assert.equal(selectOnionKey([a, b], 2500), b);
    assert.equal(selectOnionKey([b, a], 2500), b);
    assert.equal(selectOnionKey([a, b], 3500), b);
    assert.equal(selectOnionKey([a, b], 4000), undefined);
    assert.equal(selectOnionKey([b], 1900), undefined);
    assert.equal(selectOnionKey([b], 1900, 100), b);
  });
});

describe('compareDescriptors / supersedes', () => {
  it('higher sequence wins, then later publishedAt, then larger bytes', () => {
    const older = signedBase({ sequence: 1n, publishedAt: ms(NOW) });
    const newer = signedBase({ sequence: 2n, publishedAt: ms(NOW - 1000) });
    assert.equal(supersedes(newer, older), true);
    assert.equal(supersedes(older, newer), false);
    const later = signedBase({ sequence: 1n, publishedAt: ms(NOW + 1) });
    assert.equal(supersedes(later, older), true);
    const twinA = signedBase({ sequence: 1n, publishedAt: ms(NOW), bandwidth: 1 });
    const twinB = signedBase({ sequence: 1n, publishedAt: ms(NOW), bandwidth: 2 });
    assert.equal(compareDescriptors(twinA, twinB), -compareDescriptors(twinB, twinA));
    assert.notEqual(compareDescriptors(twinA, twinB), 0);
    assert.equal(compareDescriptors(older, signedBase({ sequence: 1n, publishedAt: ms(NOW) })), 0);
    assert.equal(supersedes(older, older), false);
  });
});
