import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DESCRIPTOR_SIGNING_CONTEXT,
  decodeDescriptor,
  descriptorSigningMessage,
  encodeDescriptorBody,
  MAX_DESCRIPTOR_BYTES,
  signDescriptor,
} from '../../../src/wire/descriptor.ts';
import type { RelayDescriptor } from '../../../src/wire/descriptor-types.ts';
import { WireError } from '../../../src/wire/errors.ts';
import { arbDescriptor, baseDescriptor, identity, signedBase } from './descriptor-fixtures.ts';

const sign = (m: Uint8Array) => identity.sign(m);

function decodeOk(bytes: Uint8Array) {
  const r = decodeDescriptor(bytes);
  assert.equal(r.kind, 'ok', r.kind === 'error' ? `${r.code}: ${r.message}` : r.kind);
  return r.kind === 'ok' ? r : assert.fail('unreachable');
}

function decodeErrorCode(bytes: Uint8Array): string {
  const r = decodeDescriptor(bytes);
  return r.kind === 'error' ? r.code : r.kind;
}

/** Re-sign after editing the encoded body (for bytes the encoder would refuse to produce). */
function resign(body: Uint8Array): Uint8Array {
  const sig = identity.sign(descriptorSigningMessage(body));
  const out = new Uint8Array(body.length + 64);
  out.set(body);
  out.set(sig, body.length);
  return out;
}

describe('relay descriptor codec', () => {
  it('encode → sign → decode gives the same value and the same bytes (property)', () => {
    fc.assert(
      fc.property(arbDescriptor, (d) => {
        const signed = signDescriptor(d, sign);
        const r = decodeOk(signed.bytes);
        assert.equal(r.consumed, signed.bytes.length);
        assert.deepStrictEqual(r.value.descriptor, d);
        assert.deepStrictEqual(r.value.body, signed.body);
        assert.deepStrictEqual(r.value.signature, signed.signature);
        assert.deepStrictEqual(encodeDescriptorBody(r.value.descriptor), signed.body);
        assert.deepStrictEqual(signDescriptor(r.value.descriptor, sign).bytes, signed.bytes);
      }),
      { numRuns: 150 },
    );
  });

  it('lays out the fixed header as documented', () => {
    const b = signedBase().bytes;
    assert.deepEqual([...b.subarray(0, 5)], [0x41, 0x4e, 0x52, 0x44, 1]);
    assert.deepEqual(b.subarray(5, 37), identity.publicKey);
    const view = new DataView(b.buffer, b.byteOffset);
    const d = baseDescriptor();
    assert.equal(view.getBigUint64(37), d.powNonce);
    assert.equal(view.getBigUint64(45), d.sequence);
    assert.equal(Number(view.getBigUint64(53)), d.publishedAt);
    assert.equal(Number(view.getBigUint64(61)), d.expiresAt);
    assert.equal(b[69], d.roles);
    assert.equal(view.getUint32(70), d.bandwidth);
    assert.equal(b[74], d.onionKeys.length);
    assert.equal(b.length, 75 + 2 * 1232 + 1 + 2 + 8 + 2 + 11 + 7 + 1 + 4 + 3 + 64);
  });

  it('signs "anonnet-descriptor-v1\\0" || body', () => {
    const s = signedBase();
    const msg = descriptorSigningMessage(s.body);
    assert.equal(DESCRIPTOR_SIGNING_CONTEXT.length, 22);
    assert.deepEqual(Buffer.from(msg.subarray(0, 22)).toString('latin1'), 'anonnet-descriptor-v1\0');
    assert.deepEqual(msg.subarray(22), s.body);
    assert.deepEqual(s.signature, identity.sign(msg));
  });

  it('every proper prefix of a valid descriptor is needMore, never ok or a throw', () => {
    const bytes = signedBase().bytes;
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(decodeDescriptor(bytes.subarray(0, n)).kind, 'needMore', `prefix ${n}`);
    }
  });

  it('refuses wrong magic and version as early as possible', () => {
    const bytes = signedBase().bytes;
    assert.equal(decodeErrorCode(new Uint8Array([0x41, 0x4e, 0x58])), 'BAD_MAGIC');
    const badVersion = bytes.slice();
    badVersion[4] = 2;
    assert.equal(decodeErrorCode(badVersion), 'BAD_VERSION');
    assert.equal(decodeErrorCode(badVersion.subarray(0, 5)), 'BAD_VERSION');
  });

  it('refuses trailing bytes and oversize input', () => {
    const bytes = signedBase().bytes;
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.equal(decodeErrorCode(longer), 'TRAILING_BYTES');
    const huge = new Uint8Array(MAX_DESCRIPTOR_BYTES + 1);
    huge.set(bytes);
    assert.equal(decodeErrorCode(huge), 'TOO_LARGE');
  });

  it('refuses counts above their limits (TOO_MANY)', () => {
    const body = signedBase({ onionKeys: [] }).body;
    const b = body.slice();
    b[74] = 5; // onion key count
    assert.equal(decodeErrorCode(resign(b)), 'TOO_MANY');
  });

  it('refuses a declared structure larger than 16 KiB with TOO_LARGE, not needMore', () => {
    const d = baseDescriptor({ onionKeys: [], addresses: [], exitPolicy: [], extensions: [] });
    const body = encodeDescriptorBody(d);
    // 16 extensions of 1024 bytes each would pass the 16 KiB limit: TOO_LARGE as soon as that shows.
    const header = body.slice(0, body.length - 1);
    const parts: number[] = [...header, 16];
    for (let t = 0; t < 16; t++) parts.push(0, t, 0x04, 0x00, ...new Uint8Array(1024));
    assert.equal(decodeErrorCode(new Uint8Array(parts.slice(0, MAX_DESCRIPTOR_BYTES))), 'TOO_LARGE');
    assert.throws(
      () =>
        encodeDescriptorBody({
          ...d,
          extensions: Array.from({ length: 16 }, (_, type) => ({ type, value: new Uint8Array(1024) })),
        }),
      (err: unknown) => err instanceof WireError && err.code === 'TOO_LARGE',
    );
  });

  it('refuses bad exit rules and unordered extensions in bytes', () => {
    const base = baseDescriptor({ exitPolicy: [], extensions: [] });
    const withRule = encodeDescriptorBody({
      ...base,
      exitPolicy: [
        {
          action: 'accept',
          family: 4,
          address: new Uint8Array([10, 0, 0, 0]),
          prefixLength: 8,
          portLow: 1,
          portHigh: 2,
        },
      ],
    });
    const ruleAt = withRule.length - 1 - 11; // an IPv4 rule is 11 bytes, then the extension count
    const cases: Array<[number, number, string]> = [
      [ruleAt, 2, 'BAD_FIELD'], // action
      [ruleAt + 1, 5, 'BAD_FIELD'], // family
      [ruleAt + 2, 33, 'BAD_FIELD'], // prefix too long for IPv4
      [ruleAt + 4, 1, 'BAD_FIELD'], // host bit set past /8
      [ruleAt + 7, 0xff, 'BAD_FIELD'], // portLow (high byte) > portHigh
    ];
    for (const [at, value, code] of cases) {
      const b = withRule.slice();
      b[at] = value;
      assert.equal(decodeErrorCode(resign(b)), code, `byte ${at} = ${value}`);
    }
    const unordered = encodeDescriptorBody(base).slice(0, -1);
    const bytes = new Uint8Array([...unordered, 2, 0, 5, 0, 0, 0, 5, 0, 0]);
    assert.equal(decodeErrorCode(resign(bytes)), 'BAD_ORDER');
    const zeroAddress = encodeDescriptorBody({ ...base, addresses: [new Uint8Array([1])] });
    // From the end: ext count (1), rule count (2), the address byte (1), its u16 length.
    const at = zeroAddress.length - 6;
    const z = zeroAddress.slice();
    z[at + 1] = 0;
    assert.equal(
      decodeErrorCode(resign(new Uint8Array([...z.subarray(0, at + 2), ...z.subarray(at + 3)]))),
      'BAD_LENGTH',
    );
  });

  it('refuses timestamps above 2^53-1 (BAD_FIELD)', () => {
    const b = signedBase().body.slice();
    b[53] = 0xff; // publishedAt high byte
    assert.equal(decodeErrorCode(resign(b)), 'BAD_FIELD');
  });

  it('encoder throws WireError for values the format cannot carry', () => {
    const cases: Array<[Partial<RelayDescriptor>, string]> = [
      [{ identityKey: new Uint8Array(31) }, 'BAD_LENGTH'],
      [{ publishedAt: -1 as RelayDescriptor['publishedAt'] }, 'BAD_FIELD'],
      [{ expiresAt: (2 ** 53) as RelayDescriptor['expiresAt'] }, 'BAD_FIELD'],
      [{ powNonce: 1n << 64n }, 'BAD_FIELD'],
      [{ sequence: -1n }, 'BAD_FIELD'],
      [{ roles: 256 }, 'BAD_FIELD'],
      [{ bandwidth: 2 ** 32 }, 'BAD_FIELD'],
      [{ onionKeys: Array.from({ length: 5 }, () => baseDescriptor().onionKeys[0]!) }, 'TOO_MANY'],
      [{ onionKeys: [{ ...baseDescriptor().onionKeys[0]!, mlkem768: new Uint8Array(1185) }] }, 'BAD_LENGTH'],
      [{ onionKeys: [{ ...baseDescriptor().onionKeys[0]!, x25519: new Uint8Array(33) }] }, 'BAD_LENGTH'],
      [{ addresses: Array.from({ length: 17 }, () => new Uint8Array(1)) }, 'TOO_MANY'],
      [{ addresses: [new Uint8Array(257)] }, 'BAD_LENGTH'],
      [{ addresses: [new Uint8Array(0)] }, 'BAD_LENGTH'],
      [{ exitPolicy: Array.from({ length: 65 }, () => baseDescriptor().exitPolicy[1]!) }, 'TOO_MANY'],
      [
        { exitPolicy: [{ ...baseDescriptor().exitPolicy[0]!, address: new Uint8Array([10, 0, 0, 1]) }] },
        'BAD_FIELD',
      ],
      [{ exitPolicy: [{ ...baseDescriptor().exitPolicy[0]!, portLow: 2, portHigh: 1 }] }, 'BAD_FIELD'],
      [{ exitPolicy: [{ ...baseDescriptor().exitPolicy[1]!, prefixLength: 1 }] }, 'BAD_FIELD'],
      [{ exitPolicy: [{ ...baseDescriptor().exitPolicy[0]!, address: new Uint8Array(16) }] }, 'BAD_LENGTH'],
      [
        { extensions: Array.from({ length: 17 }, (_, type) => ({ type, value: new Uint8Array(0) })) },
        'TOO_MANY',
      ],
      [{ extensions: [{ type: 1, value: new Uint8Array(1025) }] }, 'BAD_LENGTH'],
      [
        {
          extensions: [
            { type: 3, value: new Uint8Array(0) },
            { type: 3, value: new Uint8Array(0) },
          ],
        },
        'BAD_ORDER',
      ],
      [{ extensions: [{ type: 0x10000, value: new Uint8Array(0) }] }, 'BAD_FIELD'],
    ];
    for (const [override, code] of cases) {
      assert.throws(
        () => encodeDescriptorBody(baseDescriptor(override)),
        (err: unknown) => err instanceof WireError && err.code === code,
        `${JSON.stringify(Object.keys(override))} → ${code}`,
      );
    }
    assert.throws(
      () => signDescriptor(baseDescriptor(), () => new Uint8Array(63)),
      (err: unknown) => err instanceof WireError && err.code === 'BAD_LENGTH',
    );
  });

  it('decoded values do not alias the input buffer', () => {
    const bytes = signedBase().bytes.slice();
    const r = decodeOk(bytes);
    bytes.fill(0);
    assert.deepEqual(r.value.descriptor.identityKey, identity.publicKey);
    assert.equal(r.value.bytes[0], 0x41);
  });
});
