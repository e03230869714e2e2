// Checks test/vectors/descriptor.json against this implementation: every valid vector decodes, verifies
// and re-encodes byte for byte; every invalid one is refused with its stated code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import { onionKeyPairFromSecrets } from '../../../src/crypto/onion-keys.ts';
import { verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import { decodeDescriptor, encodeDescriptorBody, signDescriptor } from '../../../src/wire/descriptor.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import {
  buildDescriptorVectors,
  descriptorFromJson,
  renderVectorFile,
  VECTOR_FILE,
  type VectorFile,
} from '../../vectors/generate-descriptor-vectors.ts';

const text = readFileSync(VECTOR_FILE, 'utf8');
const file = JSON.parse(text) as VectorFile;
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const opts = { ...file.verifyOptions, now: file.verifyOptions.now as UnixMillis };

describe('descriptor test vectors', () => {
  it('has valid and invalid vectors', () => {
    assert.ok(file.valid.length >= 3);
    assert.ok(file.invalid.length >= 10);
  });

  for (const v of file.valid) {
    it(`valid: ${v.name}`, () => {
      const bytes = unhex(v.bytes);
      const expected = descriptorFromJson(v.descriptor);
      const decoded = decodeDescriptor(bytes);
      assert.equal(decoded.kind, 'ok');
      if (decoded.kind !== 'ok') return;
      assert.deepStrictEqual(decoded.value.descriptor, expected);
      assert.deepStrictEqual(encodeDescriptorBody(decoded.value.descriptor), decoded.value.body);
      const id = identityFromSeed(unhex(v.identitySeed));
      assert.deepStrictEqual(id.publicKey, expected.identityKey);
      assert.deepStrictEqual(signDescriptor(expected, (m) => id.sign(m)).bytes, bytes);
      v.onionKeySecrets.forEach((s, i) => {
        const key = expected.onionKeys[i]!;
        const pair = onionKeyPairFromSecrets(
          unhex(s.x25519Private),
          unhex(s.mlkemSeed),
          key.validFrom,
          key.validUntil,
        );
        assert.deepStrictEqual(pair.x25519Public, key.x25519);
        assert.deepStrictEqual(pair.mlkemPublic, key.mlkem768);
      });
      const r = verifyDescriptor(bytes, opts);
      assert.equal(r.ok, true, r.ok ? '' : `${r.code}: ${r.reason}`);
    });
  }

  for (const v of file.invalid) {
    it(`invalid: ${v.name} → ${v.code}`, () => {
      const bytes = unhex(v.bytes);
      const extra = v.expectedIdentity === undefined ? {} : { expectedIdentity: unhex(v.expectedIdentity) };
      const r = verifyDescriptor(bytes, { ...opts, ...extra });
      assert.equal(r.ok ? 'ok' : r.code, v.code, r.ok ? '' : r.reason);
      const decoded = decodeDescriptor(bytes);
      if (v.wireCode !== undefined) {
        assert.equal(decoded.kind === 'error' ? decoded.code : decoded.kind, v.wireCode);
      } else {
        // Everything else is well formed and must re-encode byte for byte.
        assert.equal(decoded.kind, 'ok');
        if (decoded.kind === 'ok')
          assert.deepStrictEqual(encodeDescriptorBody(decoded.value.descriptor), decoded.value.body);
      }
    });
  }

  it('the file is exactly what the generator produces (deterministic, up to date)', () => {
    assert.equal(renderVectorFile(buildDescriptorVectors()), text);
  });
});
