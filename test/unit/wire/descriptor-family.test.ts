// The family extension (type 2): canonical encoding, decoding, every malformed form refused by the
// decoder and by descriptor verification (BAD_FAMILY), and a descriptor with a family round-trips.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildOwnDescriptor } from '../../../src/directory/build-descriptor.ts';
import { verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import { decodeDescriptor } from '../../../src/wire/descriptor.ts';
import {
  decodeFamily,
  encodeFamily,
  FAMILY_EXTENSION_TYPE,
  MAX_FAMILY_MEMBERS,
} from '../../../src/wire/descriptor-family.ts';
import type { RelayDescriptor } from '../../../src/wire/descriptor-types.ts';
import { WireError } from '../../../src/wire/errors.ts';
import { NOW, relay } from '../directory/relay-view-helpers.ts';

const own = new Uint8Array(32).fill(7);
const key = (b: number) => new Uint8Array(32).fill(b);
const withValue = (value: Uint8Array): RelayDescriptor =>
  ({ identityKey: own, extensions: [{ type: FAMILY_EXTENSION_TYPE, value }] }) as unknown as RelayDescriptor;
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as WireError).code;
  }
  return 'none';
};

describe('descriptor family extension', () => {
  it('encodes sorted and deduplicated, and decodes back', () => {
    const ext = encodeFamily([key(9), key(3), key(9), key(5)], own)!;
    assert.equal(ext.type, FAMILY_EXTENSION_TYPE);
    assert.equal(ext.value.length, 96);
    assert.deepEqual(decodeFamily(withValue(ext.value)), [key(3), key(5), key(9)]);
    assert.equal(encodeFamily([], own), undefined);
    assert.deepEqual(decodeFamily({ identityKey: own, extensions: [] } as unknown as RelayDescriptor), []);
  });

  it('refuses what it cannot carry', () => {
    assert.equal(
      code(() => encodeFamily([own], own)),
      'BAD_FIELD',
    );
    assert.equal(
      code(() => encodeFamily([new Uint8Array(31)], own)),
      'BAD_LENGTH',
    );
    const many = Array.from({ length: MAX_FAMILY_MEMBERS + 1 }, () => randomBytes(32));
    assert.equal(
      code(() => encodeFamily(many, own)),
      'TOO_MANY',
    );
  });

  it('refuses malformed values when decoding', () => {
    assert.equal(
      code(() => decodeFamily(withValue(new Uint8Array(0)))),
      'BAD_LENGTH',
    );
    assert.equal(
      code(() => decodeFamily(withValue(new Uint8Array(33)))),
      'BAD_LENGTH',
    );
    assert.equal(
      code(() => decodeFamily(withValue(new Uint8Array(32 * 17).map((_, i) => i >> 5)))),
      'TOO_MANY',
    );
    const unsorted = new Uint8Array([...key(5), ...key(3)]);
    assert.equal(
      code(() => decodeFamily(withValue(unsorted))),
      'BAD_ORDER',
    );
    const dup = new Uint8Array([...key(5), ...key(5)]);
    assert.equal(
      code(() => decodeFamily(withValue(dup))),
      'BAD_ORDER',
    );
    assert.equal(
      code(() => decodeFamily(withValue(own))),
      'BAD_FIELD',
    );
    assert.ok(new WireError('BAD_FIELD', 'x') instanceof Error);
  });

  it('travels in a signed descriptor, and verification refuses a malformed one', () => {
    const r = relay(1);
    const signed = buildOwnDescriptor({
      identity: r.identity,
      powNonce: r.powNonce,
      onionKeys: [],
      addresses: [new Uint8Array([4, 10, 0, 0, 1, 6, 0x13, 0x56])],
      roles: ['relay'],
      bandwidth: 1000,
      exitPolicy: [],
      now: NOW,
      lifetimeMs: 3_600_000,
      family: [relay(2).identity.publicKey, relay(3).identity.publicKey],
    });
    const decoded = decodeDescriptor(signed.bytes);
    assert.equal(decoded.kind, 'ok');
    if (decoded.kind !== 'ok') return;
    assert.deepEqual(
      decodeFamily(decoded.value.descriptor)
        .map((k) => Buffer.from(k).toString('hex'))
        .sort(),
      [relay(2), relay(3)].map((x) => Buffer.from(x.identity.publicKey).toString('hex')).sort(),
    );
    const opts = { now: NOW, powDifficulty: 0, maxLifetimeMs: 86_400_000, maxClockSkewMs: 0 };
    // A malformed family (the relay's own key), correctly signed: refused as BAD_FAMILY.
    const bad = r.descriptor({ extensions: [{ type: FAMILY_EXTENSION_TYPE, value: r.identity.publicKey }] });
    const result = verifyDescriptor(bad.bytes, opts);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.code, 'BAD_FAMILY');
    const good = r.descriptor({
      extensions: [encodeFamily([relay(2).identity.publicKey], r.identity.publicKey)!],
    });
    assert.equal(verifyDescriptor(good.bytes, opts).ok, true);
  });
});
