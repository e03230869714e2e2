// Checks test/vectors/circuit.json against this implementation: each handshake reproduces its CREATE,
// CREATED and hop keys from the fixed secrets; the cells reproduce byte for byte on one circuit built
// from those keys; the relay messages encode and decode exactly.
import assert from 'node:assert/strict';
import { createPrivateKey, decapsulate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  createHandshakeClientWithSecrets,
  onionKeyId,
  respondHandshakeWithSecrets,
} from '../../../src/crypto/circuit-handshake.ts';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import { onionKeyPairFromSecrets } from '../../../src/crypto/onion-keys.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../../../src/crypto/relay-crypto.ts';
import {
  decodeCell,
  decodeRelayMessage,
  decodeRelayPayload,
  encodeRelayBody,
  LinkCommand,
} from '../../../src/wire/cell.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import {
  buildCircuitVectors,
  keysFromJson,
  messageToJson,
  renderVectorFile,
  VECTOR_FILE,
  type VectorFile,
} from '../../vectors/generate-circuit-vectors.ts';

const text = readFileSync(VECTOR_FILE, 'utf8');
const file = JSON.parse(text) as VectorFile;
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('circuit test vectors', () => {
  it('has three handshakes, cells both ways and relay messages', () => {
    assert.equal(file.protoid, 'anonnet-circuit-hs-v1');
    assert.equal(file.handshakes.length, 3);
    assert.ok(file.cells.some((c) => c.direction === 'forward'));
    assert.ok(file.cells.some((c) => c.direction === 'backward'));
    assert.ok(file.relayMessages.length >= 10);
  });

  for (const v of file.handshakes) {
    it(`handshake: ${v.name}`, () => {
      assert.equal(hex(identityFromSeed(unhex(v.relayIdentitySeed)).publicKey), v.relayIdentity);
      const pair = onionKeyPairFromSecrets(
        unhex(v.onionKey.x25519Private),
        unhex(v.onionKey.mlkemSeed),
        0 as UnixMillis,
        1 as UnixMillis,
      );
      assert.equal(hex(pair.x25519Public), v.onionKey.x25519Public);
      assert.equal(hex(pair.mlkemPublic), v.onionKey.mlkem768Public);
      assert.equal(hex(onionKeyId(pair.x25519Public)), v.onionKey.onionKeyId);
      const dk = createPrivateKey({
        key: Buffer.from(pair.mlkemSeed),
        format: 'raw-seed',
        asymmetricKeyType: 'ml-kem-768',
      });
      assert.equal(hex(decapsulate(dk, unhex(v.mlkemCiphertext))), v.mlkemSharedSecret);

      const client = createHandshakeClientWithSecrets(
        unhex(v.relayIdentity),
        { x25519: pair.x25519Public, mlkem768: pair.mlkemPublic },
        {
          x25519Private: unhex(v.clientEphemeralPrivate),
          encapsulation: { ciphertext: unhex(v.mlkemCiphertext), sharedSecret: unhex(v.mlkemSharedSecret) },
        },
      );
      assert.equal(hex(client.message), v.create);
      assert.equal(hex(client.message.subarray(8, 40)), v.clientEphemeralPublic);
      const r = respondHandshakeWithSecrets(
        client.message,
        unhex(v.relayIdentity),
        [pair],
        unhex(v.relayEphemeralPrivate),
      );
      assert.ok(!('error' in r));
      assert.equal(hex(r.reply), v.created);
      assert.equal(hex(r.reply.subarray(0, 32)), v.relayEphemeralPublic);
      assert.equal(hex(r.reply.subarray(32)), v.auth);
      const keys = client.finish(r.reply);
      assert.deepEqual(keys, keysFromJson(v.keys));
      assert.deepEqual(r.keys, keysFromJson(v.keys));
    });
  }

  it('cells: one circuit from the vector keys reproduces every cell in order', () => {
    const client = new ClientCircuitCrypto();
    for (const h of file.handshakes) client.addHop(keysFromJson(h.keys));
    const relays = file.handshakes.map((h) => new RelayHopCrypto(keysFromJson(h.keys)));
    for (const c of file.cells) {
      const body = encodeRelayBody(c.streamId, c.command, unhex(c.payload), unhex(c.padding));
      const cell = decodeCell(unhex(c.linkCell));
      assert.ok(cell.kind === 'ok', c.name);
      assert.equal(cell.value.circuitId, file.circuitId);
      assert.equal(cell.value.command, c.linkCommand);
      assert.ok(
        c.linkCommand === LinkCommand.RELAY ||
          (c.linkCommand === LinkCommand.RELAY_EARLY && c.direction === 'forward'),
      );
      assert.equal(hex(cell.value.body), c.wire, c.name);
      const digest = new Uint8Array(16);
      if (c.direction === 'forward') {
        client.encryptForward(body, c.hop, digest);
        assert.equal(hex(body), c.wire, c.name);
        c.afterHop.forEach((after, i) => {
          assert.equal(relays[i]!.forward(body), i === c.hop, `${c.name}: hop ${i}`);
          assert.equal(hex(body), after, `${c.name}: after hop ${i}`);
        });
      } else {
        relays[c.hop]!.backwardOriginate(body, digest);
        for (let i = c.hop - 1; i >= 0; i--) relays[i]!.backwardRelay(body);
        assert.equal(hex(body), c.wire, c.name);
        assert.equal(client.decryptBackward(body), c.hop, c.name);
      }
      assert.equal(hex(body), c.plaintext, c.name);
      assert.equal(hex(digest), c.digest, c.name);
      assert.equal(hex(body.subarray(4, 20)), c.digest, c.name);
      const m = decodeRelayMessage(body);
      assert.ok(m.kind === 'ok', c.name);
      assert.equal(m.value.streamId, c.streamId);
    }
  });

  for (const v of file.relayMessages) {
    it(`relay message: ${v.name}`, () => {
      const d = decodeRelayPayload(v.command, unhex(v.payload));
      assert.ok(d.kind === 'ok', d.kind === 'error' ? d.code : '');
      assert.deepEqual(messageToJson(d.value), v.message);
    });
  }

  it('the file is exactly what the generator produces (deterministic, up to date)', () => {
    assert.equal(renderVectorFile(buildCircuitVectors(file)), text);
  });
});
