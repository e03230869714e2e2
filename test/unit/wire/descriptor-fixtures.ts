// Shared fixtures for descriptor tests: a few real onion keys generated once (ML-KEM key generation is
// the slow part), a valid signed descriptor builder, and fast-check arbitraries for RelayDescriptor.
import fc from 'fast-check';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import { onionKeyPairFromSecrets } from '../../../src/crypto/onion-keys.ts';
import { solvePow } from '../../../src/crypto/pow.ts';
import { signDescriptor } from '../../../src/wire/descriptor.ts';
import type {
  ExitRule,
  Extension,
  OnionKey,
  RelayDescriptor,
  SignedDescriptor,
  UnixMillis,
} from '../../../src/wire/descriptor-types.ts';

export const ms = (n: number): UnixMillis => n as UnixMillis;

/** A fixed "now" for every verification test. */
export const NOW = ms(1_800_000_000_000);
export const HOUR = 3_600_000;
export const POW_DIFFICULTY = 8;

export const verifyOpts = {
  now: NOW,
  powDifficulty: POW_DIFFICULTY,
  maxLifetimeMs: 24 * HOUR,
  maxClockSkewMs: 5 * 60_000,
} as const;

function fixedBytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (fill + i * 7) & 0xff);
}

export const identity: Identity = identityFromSeed(fixedBytes(32, 1));
export const otherIdentity: Identity = identityFromSeed(fixedBytes(32, 2));
export const powNonce: bigint = solvePow(identity.publicKey, POW_DIFFICULTY) ?? 0n;

/** Three real onion key pairs (deterministic), reused by every test. */
export const onionPairs = [3, 4, 5].map((i) =>
  onionKeyPairFromSecrets(
    fixedBytes(32, i * 11),
    fixedBytes(64, i * 13),
    ms(NOW - HOUR),
    ms(NOW + 24 * HOUR),
  ),
);

export function onionKey(index: number, validFrom: number, validUntil: number): OnionKey {
  const pair = onionPairs[index % onionPairs.length]!;
  return {
    x25519: pair.x25519Public,
    mlkem768: pair.mlkemPublic,
    validFrom: ms(validFrom),
    validUntil: ms(validUntil),
  };
}

const anyPort: ExitRule = {
  action: 'accept',
  family: 0,
  address: new Uint8Array(0),
  prefixLength: 0,
  portLow: 1,
  portHigh: 65535,
};

/** A descriptor that verifies at NOW with verifyOpts; override any field. */
export function baseDescriptor(overrides: Partial<RelayDescriptor> = {}): RelayDescriptor {
  return {
    version: 1,
    identityKey: identity.publicKey,
    powNonce,
    sequence: 7n,
    publishedAt: ms(NOW - 60_000),
    expiresAt: ms(NOW + 3 * HOUR),
    roles: 1 | 2,
    bandwidth: 1_000_000,
    onionKeys: [onionKey(0, NOW - HOUR, NOW + 2 * HOUR), onionKey(1, NOW + HOUR, NOW + 4 * HOUR)],
    addresses: [new Uint8Array([4, 203, 0, 113, 7, 6, 0x13, 0x56])],
    exitPolicy: [
      {
        action: 'reject',
        family: 4,
        address: new Uint8Array([10, 0, 0, 0]),
        prefixLength: 8,
        portLow: 0,
        portHigh: 65535,
      },
      anyPort,
    ],
    extensions: [{ type: 9, value: new Uint8Array([1, 2, 3]) }],
    ...overrides,
  };
}

export function signedBase(
  overrides: Partial<RelayDescriptor> = {},
  signer: Identity = identity,
): SignedDescriptor {
  return signDescriptor(baseDescriptor(overrides), (m) => signer.sign(m));
}

// --- arbitraries -------------------------------------------------------------------------------------

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const millis = fc.maxSafeNat().map(ms);

const arbOnionKey: fc.Arbitrary<OnionKey> = fc
  .record({
    x25519: fc.oneof(
      fc.constantFrom(...onionPairs.map((p) => p.x25519Public)),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
    ),
    mlkem768: fc.oneof(
      fc.constantFrom(...onionPairs.map((p) => p.mlkemPublic)),
      fc.uint8Array({ minLength: 1184, maxLength: 1184 }),
    ),
    validFrom: millis,
    validUntil: millis,
  })
  .map((k) => ({ ...k })); // fc.record builds null-prototype objects; the decoder builds plain ones

function maskToPrefix(address: Uint8Array, prefixLength: number): Uint8Array {
  return address.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
}

const portRange = fc
  .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
  .map(([a, b]) => ({
    portLow: Math.min(a, b),
    portHigh: Math.max(a, b),
  }));

export const arbExitRule: fc.Arbitrary<ExitRule> = fc
  .tuple(
    fc.constantFrom<'accept' | 'reject'>('accept', 'reject'),
    fc.constantFrom<0 | 4 | 6>(0, 4, 6),
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    fc.integer({ min: 0, max: 128 }),
    portRange,
  )
  .map(([action, family, raw, prefix, ports]) => {
    const bytes = family === 0 ? 0 : family === 4 ? 4 : 16;
    const prefixLength = prefix % (bytes * 8 + 1);
    return {
      action,
      family,
      address: maskToPrefix(raw.slice(0, bytes), prefixLength),
      prefixLength,
      ...ports,
    };
  });

const arbExtensions: fc.Arbitrary<Extension[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 0xffff }), { maxLength: 4 })
  .chain((types) =>
    fc.tuple(
      ...types
        .sort((a, b) => a - b)
        .map((type) => fc.uint8Array({ maxLength: 1024 }).map((value) => ({ type, value }))),
    ),
  );

/** Any descriptor the format can carry (kept under the 16 KiB limit by construction). */
export const arbDescriptor: fc.Arbitrary<RelayDescriptor> = fc
  .record({
    version: fc.constant(1 as const),
    identityKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    powNonce: u64,
    sequence: u64,
    publishedAt: millis,
    expiresAt: millis,
    roles: fc.integer({ min: 0, max: 255 }),
    bandwidth: fc.integer({ min: 0, max: 0xffffffff }),
    onionKeys: fc.array(arbOnionKey, { maxLength: 4 }),
    addresses: fc.array(fc.uint8Array({ minLength: 1, maxLength: 256 }), { maxLength: 16 }),
    exitPolicy: fc.array(arbExitRule, { maxLength: 64 }),
    extensions: arbExtensions,
  })
  .map((d) => ({ ...d }));
