// Generates test/vectors/descriptor.json: relay descriptor v1 test vectors for AnonNet and for any
// other implementation. Deterministic (fixed Ed25519 seeds, fixed X25519 and ML-KEM-768 secrets,
// proof-of-work searched from fixed start nonces), so running it again gives the same file.
//
//   node test/vectors/generate-descriptor-vectors.ts        (rewrites descriptor.json)
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { identityFromSeed } from '../../src/crypto/identity.ts';
import { onionKeyPairFromSecrets } from '../../src/crypto/onion-keys.ts';
import { solvePow, verifyPow } from '../../src/crypto/pow.ts';
import { verifyDescriptor } from '../../src/directory/verify-descriptor.ts';
import {
  decodeDescriptor,
  descriptorSigningMessage,
  encodeDescriptorBody,
  signDescriptor,
} from '../../src/wire/descriptor.ts';
import { encodeFamily } from '../../src/wire/descriptor-family.ts';
import type { ExitRule, RelayDescriptor, UnixMillis } from '../../src/wire/descriptor-types.ts';

export const VECTOR_FILE = new URL('./descriptor.json', import.meta.url);

const ms = (n: number) => n as UnixMillis;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
/** Deterministic secret bytes: SHA-256 chained from a label. */
function secret(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 32 < length; i++) {
    out.set(
      createHash('sha256')
        .update(`anonnet-test-vector:${label}:${i}`)
        .digest()
        .subarray(0, length - i * 32),
      i * 32,
    );
  }
  return out;
}

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOUR = 3_600_000;
const OPTIONS = { now: NOW, powDifficulty: 8, maxLifetimeMs: 24 * HOUR, maxClockSkewMs: 300_000 };

// --- JSON forms ------------------------------------------------------------------------------------------

export interface DescriptorJson {
  version: 1;
  identityKey: string;
  powNonce: string;
  sequence: string;
  publishedAt: number;
  expiresAt: number;
  roles: number;
  bandwidth: number;
  onionKeys: { x25519: string; mlkem768: string; validFrom: number; validUntil: number }[];
  addresses: string[];
  exitPolicy: {
    action: 'accept' | 'reject';
    family: 0 | 4 | 6;
    address: string;
    prefixLength: number;
    portLow: number;
    portHigh: number;
  }[];
  extensions: { type: number; value: string }[];
}

export interface ValidVector {
  name: string;
  comment: string;
  identitySeed: string;
  onionKeySecrets: { x25519Private: string; mlkemSeed: string }[];
  descriptor: DescriptorJson;
  bytes: string;
}

export interface InvalidVector {
  name: string;
  comment: string;
  bytes: string;
  expectedIdentity?: string;
  /** What verifyDescriptor answers. */
  code: string;
  /** For MALFORMED and UNSUPPORTED_VERSION: what decodeDescriptor answers ('needMore' or an error code). */
  wireCode?: string;
}

export interface VectorFile {
  description: string;
  verifyOptions: typeof OPTIONS;
  valid: ValidVector[];
  invalid: InvalidVector[];
}

export function descriptorToJson(d: RelayDescriptor): DescriptorJson {
  return {
    version: d.version,
    identityKey: hex(d.identityKey),
    powNonce: d.powNonce.toString(),
    sequence: d.sequence.toString(),
    publishedAt: d.publishedAt,
    expiresAt: d.expiresAt,
    roles: d.roles,
    bandwidth: d.bandwidth,
    onionKeys: d.onionKeys.map((k) => ({
      x25519: hex(k.x25519),
      mlkem768: hex(k.mlkem768),
      validFrom: k.validFrom,
      validUntil: k.validUntil,
    })),
    addresses: d.addresses.map(hex),
    exitPolicy: d.exitPolicy.map((r) => ({ ...r, address: hex(r.address) })),
    extensions: d.extensions.map((e) => ({ type: e.type, value: hex(e.value) })),
  };
}

export function descriptorFromJson(j: DescriptorJson): RelayDescriptor {
  return {
    version: j.version,
    identityKey: unhex(j.identityKey),
    powNonce: BigInt(j.powNonce),
    sequence: BigInt(j.sequence),
    publishedAt: ms(j.publishedAt),
    expiresAt: ms(j.expiresAt),
    roles: j.roles,
    bandwidth: j.bandwidth,
    onionKeys: j.onionKeys.map((k) => ({
      x25519: unhex(k.x25519),
      mlkem768: unhex(k.mlkem768),
      validFrom: ms(k.validFrom),
      validUntil: ms(k.validUntil),
    })),
    addresses: j.addresses.map(unhex),
    exitPolicy: j.exitPolicy.map((r) => ({ ...r, address: unhex(r.address) })),
    extensions: j.extensions.map((e) => ({ type: e.type, value: unhex(e.value) })),
  };
}

// --- the vectors -----------------------------------------------------------------------------------------

const ADDR = {
  ip4Tcp: unhex('04cb007107061356'), // /ip4/203.0.113.7/tcp/4950
  ip6Quic: unhex('2920010db800000000000000000000000791021356cd03'), // /ip6/2001:db8::7/udp/4950/quic-v1
  ip4Quic: unhex('04c633641491021356cd03'), // /ip4/198.51.100.20/udp/4950/quic-v1
};

const any = new Uint8Array(0);
const EXIT_POLICY: ExitRule[] = [
  { action: 'reject', family: 4, address: unhex('0a000000'), prefixLength: 8, portLow: 0, portHigh: 65535 },
  { action: 'reject', family: 4, address: unhex('c0a80000'), prefixLength: 16, portLow: 0, portHigh: 65535 },
  {
    action: 'accept',
    family: 6,
    address: unhex('20010db8000000000000000000000000'),
    prefixLength: 32,
    portLow: 80,
    portHigh: 443,
  },
  { action: 'reject', family: 0, address: any, prefixLength: 0, portLow: 25, portHigh: 25 },
  { action: 'accept', family: 0, address: any, prefixLength: 0, portLow: 1, portHigh: 65535 },
];

function onion(label: string, validFrom: number, validUntil: number) {
  const x25519Private = secret(`${label}:x25519`, 32);
  const mlkemSeed = secret(`${label}:mlkem`, 64);
  const pair = onionKeyPairFromSecrets(x25519Private, mlkemSeed, ms(validFrom), ms(validUntil));
  return {
    key: {
      x25519: pair.x25519Public,
      mlkem768: pair.mlkemPublic,
      validFrom: pair.validFrom,
      validUntil: pair.validUntil,
    },
    secrets: { x25519Private: hex(x25519Private), mlkemSeed: hex(mlkemSeed) },
  };
}

function relay(label: string, startNonce = 0n) {
  const seed = secret(`${label}:identity`, 32);
  const id = identityFromSeed(seed);
  const powNonce = solvePow(id.publicKey, OPTIONS.powDifficulty, { startNonce }) ?? 0n;
  return { seed, id, powNonce };
}

function failingNonce(publicKey: Uint8Array): bigint {
  let n = 0n;
  while (verifyPow(publicKey, n, OPTIONS.powDifficulty)) n++;
  return n;
}

export function buildDescriptorVectors(): VectorFile {
  const valid: ValidVector[] = [];
  const invalid: InvalidVector[] = [];

  const a = relay('relay-a');
  const b = relay('relay-b', (1n << 64n) - 100_000n);
  const current = onion('relay-a:onion-1', NOW - 6 * HOUR, NOW + 6 * HOUR);
  const next = onion('relay-a:onion-2', NOW + 3 * HOUR, NOW + 15 * HOUR);

  const baseA: RelayDescriptor = {
    version: 1,
    identityKey: a.id.publicKey,
    powNonce: a.powNonce,
    sequence: 1n,
    publishedAt: ms(NOW - 10 * 60_000),
    expiresAt: ms(NOW + 3 * HOUR),
    roles: 1,
    bandwidth: 1_250_000,
    onionKeys: [current.key],
    addresses: [ADDR.ip4Tcp],
    exitPolicy: [],
    extensions: [],
  };
  const addValid = (
    name: string,
    comment: string,
    seed: Uint8Array,
    d: RelayDescriptor,
    secrets: ValidVector['onionKeySecrets'],
    sign: (m: Uint8Array) => Uint8Array,
  ) => {
    const signed = signDescriptor(d, sign);
    valid.push({
      name,
      comment,
      identitySeed: hex(seed),
      onionKeySecrets: secrets,
      descriptor: descriptorToJson(d),
      bytes: hex(signed.bytes),
    });
    return signed.bytes;
  };
  const signA = (m: Uint8Array) => a.id.sign(m);
  const signedInvalid = (
    name: string,
    comment: string,
    overrides: Partial<RelayDescriptor>,
    code: string,
    extra: Partial<InvalidVector> = {},
  ) => {
    invalid.push({
      name,
      comment,
      bytes: hex(signDescriptor({ ...baseA, ...overrides }, signA).bytes),
      code,
      ...extra,
    });
  };
  const rawInvalid = (name: string, comment: string, bytes: Uint8Array, code: string, wireCode?: string) => {
    invalid.push({ name, comment, bytes: hex(bytes), code, ...(wireCode === undefined ? {} : { wireCode }) });
  };
  const resignA = (body: Uint8Array) =>
    new Uint8Array([...body, ...a.id.sign(descriptorSigningMessage(body))]);

  const minimal = addValid(
    'minimal-relay',
    'One onion key, one address, no exit policy, no extensions.',
    a.seed,
    baseA,
    [current.secrets],
    signA,
  );
  addValid(
    'exit-with-policy',
    'Relay and exit: current and next onion key, three addresses, a five-rule exit policy, two extensions.',
    a.seed,
    {
      ...baseA,
      sequence: 2n,
      roles: 1 | 2,
      onionKeys: [current.key, next.key],
      addresses: [ADDR.ip4Tcp, ADDR.ip6Quic, ADDR.ip4Quic],
      exitPolicy: EXIT_POLICY,
      extensions: [
        { type: 1, value: new Uint8Array(0) },
        { type: 0xfffe, value: new TextEncoder().encode('unknown extensions are kept') },
      ],
    },
    [current.secrets, next.secrets],
    signA,
  );
  const bOnion = onion('relay-b:onion-1', NOW - HOUR, NOW + HOUR);
  addValid(
    'large-integers',
    'Validator with unknown role bit 0x80, u64 values near 2^64, proof-of-work nonce searched from 2^64 - 100000.',
    b.seed,
    {
      ...baseA,
      identityKey: b.id.publicKey,
      powNonce: b.powNonce,
      sequence: (1n << 64n) - 1n,
      roles: 4 | 0x80,
      bandwidth: 0xffffffff,
      onionKeys: [bOnion.key],
    },
    [bOnion.secrets],
    (m) => b.id.sign(m),
  );
  const familyExt = encodeFamily([b.id.publicKey, secret('relay-c:identity-key', 32)], a.id.publicKey);
  addValid(
    'family',
    'A relay declaring a family (extension type 2): two identity keys, strictly ascending.',
    a.seed,
    { ...baseA, sequence: 3n, extensions: familyExt === undefined ? [] : [familyExt] },
    [current.secrets],
    signA,
  );

  signedInvalid(
    'expired',
    'expiresAt equals now.',
    { publishedAt: ms(NOW - 2 * HOUR), expiresAt: ms(NOW) },
    'EXPIRED',
  );
  signedInvalid(
    'from-future',
    'Published 5 min + 1 ms ahead of now.',
    { publishedAt: ms(NOW + 300_001), expiresAt: ms(NOW + 2 * HOUR) },
    'FROM_FUTURE',
  );
  signedInvalid(
    'lifetime-too-long',
    'expiresAt - publishedAt = 24 h + 1 ms.',
    { publishedAt: ms(NOW - HOUR), expiresAt: ms(NOW - HOUR + 24 * HOUR + 1) },
    'LIFETIME_TOO_LONG',
  );
  signedInvalid(
    'expires-before-published',
    'expiresAt < publishedAt.',
    { publishedAt: ms(NOW), expiresAt: ms(NOW - 1) },
    'EXPIRES_BEFORE_PUBLISHED',
  );
  signedInvalid('no-roles', 'roles = 0.', { roles: 0 }, 'NO_ROLES');
  signedInvalid('no-addresses', 'No address.', { addresses: [] }, 'NO_ADDRESSES');
  signedInvalid(
    'insufficient-pow',
    'A nonce below difficulty 8.',
    { powNonce: failingNonce(a.id.publicKey) },
    'INSUFFICIENT_POW',
  );
  signedInvalid(
    'bad-mlkem-key',
    'ML-KEM-768 key of all 0xff bytes (coefficients >= q).',
    { onionKeys: [{ ...current.key, mlkem768: new Uint8Array(1184).fill(0xff) }] },
    'BAD_ONION_KEY',
  );
  signedInvalid(
    'small-order-x25519',
    'X25519 key 0 (a small-order point).',
    { onionKeys: [{ ...current.key, x25519: new Uint8Array(32) }] },
    'BAD_ONION_KEY',
  );
  signedInvalid(
    'no-current-onion-key',
    'The only onion key starts in 1 h.',
    { onionKeys: [next.key] },
    'NO_CURRENT_ONION_KEY',
  );
  signedInvalid(
    'identity-mismatch',
    'Verified with expectedIdentity set to relay-b.',
    {},
    'IDENTITY_MISMATCH',
    { expectedIdentity: hex(b.id.publicKey) },
  );

  signedInvalid(
    'family-lists-itself',
    'A family extension (type 2) naming the relay itself.',
    { extensions: [{ type: 2, value: a.id.publicKey }] },
    'BAD_FAMILY',
  );
  signedInvalid(
    'family-not-ascending',
    'A family extension with its two keys in descending order.',
    { extensions: [{ type: 2, value: new Uint8Array([...new Uint8Array(32).fill(9), ...new Uint8Array(32).fill(8)]) }] },
    'BAD_FAMILY',
  );

  const flipped = minimal.slice();
  flipped[flipped.length - 1]! ^= 0x01;
  rawInvalid('bad-signature', 'minimal-relay with the last signature bit flipped.', flipped, 'BAD_SIGNATURE');
  rawInvalid(
    'signed-by-other-key',
    'minimal-relay signed by relay-b.',
    signDescriptor(baseA, (m) => b.id.sign(m)).bytes,
    'BAD_SIGNATURE',
  );
  rawInvalid(
    'trailing-bytes',
    'minimal-relay followed by one zero byte.',
    new Uint8Array([...minimal, 0]),
    'MALFORMED',
    'TRAILING_BYTES',
  );
  rawInvalid(
    'truncated',
    'minimal-relay without its last byte.',
    minimal.subarray(0, minimal.length - 1),
    'MALFORMED',
    'needMore',
  );
  const badMagic = minimal.slice();
  badMagic[3] = 0x45;
  rawInvalid('bad-magic', 'Magic "ANRE".', badMagic, 'MALFORMED', 'BAD_MAGIC');
  const v2 = minimal.slice();
  v2[4] = 2;
  rawInvalid('unsupported-version', 'Version byte 2.', v2, 'UNSUPPORTED_VERSION', 'BAD_VERSION');
  const body = encodeDescriptorBody({ ...baseA, exitPolicy: [EXIT_POLICY[0]!] });
  const hostBits = body.slice();
  hostBits[body.length - 1 - 11 + 4] = 1; // 10.1.0.0/8: a bit set past the prefix
  rawInvalid(
    'exit-rule-host-bits',
    'Exit rule 10.1.0.0/8 (address bits past the prefix must be 0), validly signed.',
    resignA(hostBits),
    'MALFORMED',
    'BAD_FIELD',
  );
  const unordered = new Uint8Array([
    ...encodeDescriptorBody(baseA).subarray(0, -1),
    2,
    0,
    9,
    0,
    0,
    0,
    3,
    0,
    0,
  ]);
  rawInvalid(
    'extensions-out-of-order',
    'Extension types 9 then 3, validly signed.',
    resignA(unordered),
    'MALFORMED',
    'BAD_ORDER',
  );

  return {
    description:
      'AnonNet relay descriptor v1 test vectors (docs/protocol.md, "Relay descriptor v1"). Hex is lowercase; u64 values are decimal strings. ' +
      'Valid vectors: signing `descriptor` with the Ed25519 `identitySeed` gives `bytes` exactly, and `bytes` verifies at verifyOptions.now. ' +
      'Onion public keys derive from `onionKeySecrets` (X25519 raw private key, ML-KEM-768 64-byte seed d||z). ' +
      'Invalid vectors: verification with verifyOptions (plus expectedIdentity where given) refuses with `code`. ' +
      'Generated by test/vectors/generate-descriptor-vectors.ts.',
    verifyOptions: OPTIONS,
    valid,
    invalid,
  };
}

export function renderVectorFile(v: VectorFile): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

if (import.meta.main) {
  const vectors = buildDescriptorVectors();
  // Check every vector against the implementation before writing.
  for (const v of vectors.valid) {
    const r = verifyDescriptor(unhex(v.bytes), { ...OPTIONS, now: ms(NOW) });
    if (!r.ok) throw new Error(`valid vector ${v.name} refused: ${r.code} ${r.reason}`);
  }
  for (const v of vectors.invalid) {
    const opts = {
      ...OPTIONS,
      now: ms(NOW),
      ...(v.expectedIdentity === undefined ? {} : { expectedIdentity: unhex(v.expectedIdentity) }),
    };
    const r = verifyDescriptor(unhex(v.bytes), opts);
    if (r.ok || r.code !== v.code)
      throw new Error(`invalid vector ${v.name}: got ${r.ok ? 'ok' : r.code}, want ${v.code}`);
    const d = decodeDescriptor(unhex(v.bytes));
    if (v.wireCode !== undefined && (d.kind === 'error' ? d.code : d.kind) !== v.wireCode)
      throw new Error(`vector ${v.name}: wire code`);
  }
  writeFileSync(VECTOR_FILE, renderVectorFile(vectors));
  console.log(
    `wrote ${vectors.valid.length} valid and ${vectors.invalid.length} invalid vectors to ${VECTOR_FILE.pathname}`,
  );
}
