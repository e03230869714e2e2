// The hybrid circuit handshake: both sides derive the same hop keys; the client refuses any reply not
// made with the relay's onion key; the relay refuses malformed and foreign CREATE messages without
// throwing (fuzzed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  createHandshakeClient,
  type HopKeys,
  onionKeyId,
  respondHandshake,
} from '../../../src/crypto/circuit-handshake.ts';
import { CryptoError } from '../../../src/crypto/errors.ts';
import { RELAY_BODY_BYTES } from '../../../src/wire/cell.ts';
import { publicOnionKey, testRelay } from './circuit-fixtures.ts';

const isHandshakeFailed = (e: unknown) => e instanceof CryptoError && e.code === 'HANDSHAKE_FAILED';
const copyKeys = (k: HopKeys) => ({
  forwardKey: k.forwardKey.slice(),
  backwardKey: k.backwardKey.slice(),
  forwardDigestSeed: k.forwardDigestSeed.slice(),
  backwardDigestSeed: k.backwardDigestSeed.slice(),
});

describe('circuit handshake', () => {
  const relay = testRelay();
  const other = testRelay();

  it('has the documented sizes', () => {
    assert.equal(CREATE_MESSAGE_BYTES, 1128);
    assert.equal(CREATED_MESSAGE_BYTES, 64);
  });

  it('client and relay derive the same four distinct 32-byte keys', () => {
    const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
    assert.equal(hs.message.length, CREATE_MESSAGE_BYTES);
    assert.deepEqual(hs.message.subarray(0, 8), onionKeyId(relay.onionKeys[0]!.x25519Public));
    const r = respondHandshake(hs.message, relay.identity, [...other.onionKeys, ...relay.onionKeys]);
    assert.ok(!('error' in r));
    assert.equal(r.reply.length, CREATED_MESSAGE_BYTES);
    const relayKeys = copyKeys(r.keys);
    const clientKeys = hs.finish(r.reply);
    assert.deepEqual(copyKeys(clientKeys), relayKeys);
    const all = Object.values(relayKeys).map((k) => Buffer.from(k).toString('hex'));
    assert.equal(new Set(all).size, 4);
    for (const k of Object.values(relayKeys)) assert.equal(k.length, 32);
  });

  it('two handshakes give different keys (fresh ephemerals)', () => {
    const keys = [0, 1].map(() => {
      const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
      const r = respondHandshake(hs.message, relay.identity, relay.onionKeys);
      assert.ok(!('error' in r));
      return hs.finish(r.reply);
    });
    assert.notDeepEqual(keys[0]!.forwardKey, keys[1]!.forwardKey);
  });

  it('accepts messages padded with zeros (cell bodies), refuses nonzero padding', () => {
    const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
    const body = new Uint8Array(RELAY_BODY_BYTES);
    body.set(hs.message);
    const r = respondHandshake(body, relay.identity, relay.onionKeys);
    assert.ok(!('error' in r));
    const reply = new Uint8Array(RELAY_BODY_BYTES);
    reply.set(r.reply);
    hs.finish(reply);
    body[RELAY_BODY_BYTES - 1] = 1;
    assert.deepEqual(respondHandshake(body, relay.identity, relay.onionKeys), { error: 'MALFORMED' });
    const hs2 = createHandshakeClient(relay.identity, publicOnionKey(relay));
    const r2 = respondHandshake(hs2.message, relay.identity, relay.onionKeys);
    assert.ok(!('error' in r2));
    const bad = new Uint8Array(100);
    bad.set(r2.reply);
    bad[99] = 1;
    assert.throws(() => hs2.finish(bad), isHandshakeFailed);
  });

  it('the client refuses a reply from a relay without the onion key (wrong identity, wrong key)', () => {
    // The relay answers with the right onion key but claims another identity: auth fails.
    const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
    const r = respondHandshake(hs.message, other.identity, relay.onionKeys);
    assert.ok(!('error' in r));
    assert.throws(() => hs.finish(r.reply), isHandshakeFailed);
  });

  it('the client refuses a tampered reply, a short reply, a small-order Y, and a second finish', () => {
    const mk = () => {
      const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
      const r = respondHandshake(hs.message, relay.identity, relay.onionKeys);
      assert.ok(!('error' in r));
      return { hs, reply: r.reply };
    };
    for (const at of [0, 31, 32, 63]) {
      const { hs, reply } = mk();
      reply[at]! ^= 0x01;
      assert.throws(() => hs.finish(reply), isHandshakeFailed);
    }
    const a = mk();
    assert.throws(() => a.hs.finish(a.reply.subarray(0, 63)), isHandshakeFailed);
    const b = mk();
    const zeroY = b.reply.slice();
    zeroY.fill(0, 0, 32);
    assert.throws(() => b.hs.finish(zeroY), isHandshakeFailed);
    const c = mk();
    c.hs.finish(c.reply);
    assert.throws(() => c.hs.finish(c.reply), isHandshakeFailed);
  });

  it('the relay refuses unknown onion keys, malformed messages and small-order X, without throwing', () => {
    const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
    assert.deepEqual(respondHandshake(hs.message, relay.identity, other.onionKeys), {
      error: 'UNKNOWN_ONION_KEY',
    });
    assert.deepEqual(respondHandshake(hs.message, relay.identity, []), { error: 'UNKNOWN_ONION_KEY' });
    assert.deepEqual(respondHandshake(hs.message.subarray(0, 1127), relay.identity, relay.onionKeys), {
      error: 'MALFORMED',
    });
    assert.deepEqual(respondHandshake(hs.message, new Uint8Array(31), relay.onionKeys), {
      error: 'MALFORMED',
    });
    const zeroX = hs.message.slice();
    zeroX.fill(0, 8, 40);
    assert.deepEqual(respondHandshake(zeroX, relay.identity, relay.onionKeys), { error: 'BAD_KEY' });
  });

  it('a CREATE with a modified KEM ciphertext or X gives a reply the client refuses', () => {
    for (const at of [8, 39, 40, 1127]) {
      const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
      const m = hs.message.slice();
      m[at]! ^= 0x80;
      const r = respondHandshake(m, relay.identity, relay.onionKeys);
      if ('error' in r) {
        assert.equal(r.error, 'BAD_KEY');
        continue;
      }
      assert.throws(() => hs.finish(r.reply), isHandshakeFailed);
    }
  });

  it('createHandshakeClient refuses malformed keys with BAD_KEY', () => {
    const k = publicOnionKey(relay);
    const isBadKey = (e: unknown) => e instanceof CryptoError && e.code === 'BAD_KEY';
    assert.throws(() => createHandshakeClient(new Uint8Array(31), k), isBadKey);
    assert.throws(
      () => createHandshakeClient(relay.identity, { ...k, x25519: new Uint8Array(32) }),
      isBadKey,
    );
    assert.throws(
      () => createHandshakeClient(relay.identity, { ...k, mlkem768: new Uint8Array(1184).fill(0xff) }),
      isBadKey,
    );
    assert.throws(
      () => createHandshakeClient(relay.identity, { ...k, mlkem768: new Uint8Array(10) }),
      isBadKey,
    );
  });

  it('fuzz: respondHandshake never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: RELAY_BODY_BYTES }), (m) => {
        const r = respondHandshake(m, relay.identity, relay.onionKeys);
        assert.ok('error' in r && ['UNKNOWN_ONION_KEY', 'MALFORMED'].includes(r.error));
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: mutated CREATE messages (right key id) never throw, and their replies never verify', () => {
    const edits = fc.uniqueArray(
      fc.tuple(fc.integer({ min: 8, max: CREATE_MESSAGE_BYTES - 1 }), fc.integer({ min: 1, max: 255 })),
      { minLength: 1, maxLength: 8, selector: ([at]) => at },
    );
    fc.assert(
      fc.property(edits, fc.integer({ min: 0, max: 40 }), (changes, padding) => {
        const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
        const m = new Uint8Array(CREATE_MESSAGE_BYTES + padding);
        m.set(hs.message);
        for (const [at, v] of changes) m[at]! ^= v;
        const r = respondHandshake(m, relay.identity, relay.onionKeys);
        if ('error' in r) {
          assert.equal(r.error, 'BAD_KEY');
        } else {
          assert.equal(r.reply.length, CREATED_MESSAGE_BYTES);
          assert.throws(() => hs.finish(r.reply), isHandshakeFailed);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: finish refuses random replies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (reply) => {
        const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
        assert.throws(() => hs.finish(reply), isHandshakeFailed);
      }),
      { numRuns: 2000 },
    );
  });
});
