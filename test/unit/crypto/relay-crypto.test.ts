// Relay crypto: layered round trips through real handshakes, and the integrity properties the circuit
// layer relies on: a cell is recognized exactly at its target hop; a flipped bit anywhere, a replayed,
// dropped or reordered cell is not recognized at the edge; random bytes are never recognized.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HopKeys } from '../../../src/crypto/circuit-handshake.ts';
import { CryptoError } from '../../../src/crypto/errors.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../../../src/crypto/relay-crypto.ts';
import {
  decodeRelayBody,
  encodeRelayBody,
  MAX_RELAY_DATA,
  RELAY_BODY_BYTES,
  RELAY_DIGEST_BYTES,
  RELAY_DIGEST_OFFSET,
  RelayCommand,
} from '../../../src/wire/cell.ts';
import { buildCircuit, deliverForward, sendBackward, type TestCircuit } from './circuit-fixtures.ts';

const RUNS = 2000;

function body(streamId: number, data: Uint8Array): Uint8Array {
  return encodeRelayBody(streamId, RelayCommand.DATA, data);
}

function randomKeys(): HopKeys {
  return {
    forwardKey: new Uint8Array(randomBytes(32)),
    backwardKey: new Uint8Array(randomBytes(32)),
    forwardDigestSeed: new Uint8Array(randomBytes(32)),
    backwardDigestSeed: new Uint8Array(randomBytes(32)),
  };
}

/** Client and relays from the same random keys, without handshakes (fast, for many circuits). */
function keyedCircuit(hops: number): TestCircuit {
  const client = new ClientCircuitCrypto();
  const relays: RelayHopCrypto[] = [];
  for (let i = 0; i < hops; i++) {
    const k = randomKeys();
    const copy = {
      forwardKey: k.forwardKey.slice(),
      backwardKey: k.backwardKey.slice(),
      forwardDigestSeed: k.forwardDigestSeed.slice(),
      backwardDigestSeed: k.backwardDigestSeed.slice(),
    };
    client.addHop(k);
    relays.push(new RelayHopCrypto(copy));
  }
  return { client, relays };
}

describe('relay crypto: layered round trips', () => {
  it('3 hops over real handshakes: forward to the exit, backward from the exit', () => {
    const c = buildCircuit(3);
    assert.equal(c.client.hops, 3);
    const data = new Uint8Array(randomBytes(1000));
    const b = body(7, data);
    const plain = b.slice();
    c.client.encryptForward(b, 2);
    assert.notDeepEqual(b, plain);
    assert.equal(deliverForward(c, b), 2);
    const got = decodeRelayBody(b);
    assert.equal(got.kind, 'ok');
    if (got.kind === 'ok') assert.deepEqual(got.value.data, data);

    const back = body(7, data);
    sendBackward(c, back, 2);
    assert.equal(c.client.decryptBackward(back), 2);
    const got2 = decodeRelayBody(back);
    assert.equal(got2.kind, 'ok');
    if (got2.kind === 'ok') assert.deepEqual(got2.value.data, data);
  });

  it('a cell body held in a Node Buffer is recognized like any other (regression: a flaky teardown)', () => {
    // Cells cut from a Buffer.concat'ed chunk are Buffers; the digest check once copied the digest
    // field with slice(), a view on a Buffer, and so rejected good cells.
    for (let i = 0; i < 20; i++) {
      const c = keyedCircuit(3);
      const target = i % 3;
      const b = body(1, new Uint8Array(randomBytes(100)));
      c.client.encryptForward(b, target);
      const asBuffer = Buffer.from(b);
      for (let hop = 0; hop < target; hop++) assert.equal(c.relays[hop]!.forward(asBuffer), false);
      assert.equal(c.relays[target]!.forward(asBuffer), true, `recognized at hop ${target}`);
      const m = decodeRelayBody(asBuffer);
      assert.ok(m.kind === 'ok');
    }
  });

  it('takes the keys over and zeroes them', () => {
    const k = randomKeys();
    new ClientCircuitCrypto().addHop(k);
    assert.deepEqual(k.forwardKey, new Uint8Array(32));
    assert.deepEqual(k.backwardDigestSeed, new Uint8Array(32));
  });

  it('every cell is recognized exactly at its target hop, both ways, in any order of targets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.uint8Array({ maxLength: MAX_RELAY_DATA })), {
          minLength: 1,
          maxLength: 30,
        }),
        (hops, cells) => {
          const c = keyedCircuit(hops);
          for (const [forward, t, data] of cells) {
            const target = t % hops;
            const b = encodeRelayBody(1, RelayCommand.DROP, data);
            const plain = b.slice();
            if (forward) {
              c.client.encryptForward(b, target);
              assert.equal(deliverForward(c, b), target);
            } else {
              sendBackward(c, b, target);
              assert.equal(c.client.decryptBackward(b), target);
            }
            // Only the digest field differs from what was sent.
            b.fill(0, 4, 20);
            assert.deepEqual(b, plain);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('truncate forgets the hops past the ones kept', () => {
    const c = keyedCircuit(3);
    c.client.truncate(2);
    assert.equal(c.client.hops, 2);
    assert.throws(
      () => c.client.encryptForward(new Uint8Array(RELAY_BODY_BYTES), 2),
      (e: unknown) => e instanceof CryptoError && e.code === 'BAD_ARGUMENT',
    );
    const b = body(1, Uint8Array.of(1));
    c.client.encryptForward(b, 1);
    assert.equal(deliverForward(c, b), 1);
  });

  it('digestOut: the sender gets the digest field the receiver reads after recognition', () => {
    const c = keyedCircuit(3);
    const fwd = body(1, Uint8Array.of(1, 2, 3));
    const sent = new Uint8Array(RELAY_DIGEST_BYTES);
    c.client.encryptForward(fwd, 2, sent);
    assert.equal(deliverForward(c, fwd), 2);
    assert.deepEqual(fwd.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_BYTES), sent);
    const back = body(1, Uint8Array.of(4));
    const originated = new Uint8Array(RELAY_DIGEST_BYTES);
    c.relays[2]!.backwardOriginate(back, originated);
    for (let i = 1; i >= 0; i--) c.relays[i]!.backwardRelay(back);
    assert.equal(c.client.decryptBackward(back), 2);
    assert.deepEqual(
      back.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_BYTES),
      originated,
    );
    assert.notDeepEqual(originated, new Uint8Array(RELAY_DIGEST_BYTES));
    // A wrong-sized buffer is refused before anything advances.
    const bad = body(1, Uint8Array.of(5));
    assert.throws(() => c.client.encryptForward(bad, 2, new Uint8Array(15)), CryptoError);
    const ok = body(1, Uint8Array.of(5));
    c.client.encryptForward(ok, 2);
    assert.equal(deliverForward(c, ok), 2, 'the refused call left the chain where it was');
  });

  it('refuses a target hop that does not exist and a short body', () => {
    const c = keyedCircuit(2);
    for (const t of [-1, 2, 1.5]) {
      assert.throws(
        () => c.client.encryptForward(new Uint8Array(RELAY_BODY_BYTES), t),
        (e: unknown) => e instanceof CryptoError && e.code === 'BAD_ARGUMENT',
      );
    }
    assert.throws(() => c.client.encryptForward(new Uint8Array(10), 0), CryptoError);
    assert.equal(c.relays[0]!.forward(new Uint8Array(10)), false);
    assert.equal(c.client.decryptBackward(new Uint8Array(10)), -1);
    assert.equal(new ClientCircuitCrypto().decryptBackward(new Uint8Array(RELAY_BODY_BYTES)), -1);
  });
});

describe('relay crypto: integrity at the edge', () => {
  it('a flipped bit anywhere, before any hop, forward: no hop recognizes the cell', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: RELAY_BODY_BYTES * 8 - 1 }),
        fc.uint8Array({ maxLength: MAX_RELAY_DATA }),
        fc.integer({ min: 0, max: 2 }),
        (target, bit, data, flipAt) => {
          const c = keyedCircuit(3);
          // One good cell first, so the chains are mid-stream.
          const warm = body(1, Uint8Array.of(1));
          c.client.encryptForward(warm, target);
          assert.equal(deliverForward(c, warm), target);
          const b = body(1, data);
          c.client.encryptForward(b, target);
          const at = Math.min(flipAt, target);
          const got = deliverForward(c, b, (hop, bytes) => {
            if (hop === at) bytes[bit >> 3]! ^= 1 << (bit & 7);
          });
          assert.equal(got, -1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a flipped bit anywhere, at any hop, backward: the client recognizes nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: RELAY_BODY_BYTES * 8 - 1 }),
        fc.integer({ min: -1, max: 1 }),
        (origin, bit, flipAt) => {
          const c = keyedCircuit(3);
          const b = body(1, new Uint8Array(100).fill(5));
          const at = Math.min(flipAt, origin - 1);
          sendBackward(c, b, origin, (hop, bytes) => {
            if (hop === at) bytes[bit >> 3]! ^= 1 << (bit & 7);
          });
          assert.equal(c.client.decryptBackward(b), -1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('replayed, dropped and reordered cells are not recognized at the exit', () => {
    for (const pattern of ['replay', 'drop', 'reorder'] as const) {
      const c = keyedCircuit(3);
      const cells = [1, 2, 3].map((n) => {
        const b = body(1, Uint8Array.of(n));
        c.client.encryptForward(b, 2);
        return b;
      });
      const deliver = (b: Uint8Array) => deliverForward(c, b.slice());
      if (pattern === 'replay') {
        assert.equal(deliver(cells[0]!), 2);
        assert.equal(deliver(cells[0]!), -1, 'a replayed cell');
      } else if (pattern === 'drop') {
        assert.equal(deliver(cells[0]!), 2);
        assert.equal(deliver(cells[2]!), -1, 'the cell after a dropped one');
      } else {
        assert.equal(deliver(cells[1]!), -1, 'a cell ahead of its turn');
      }
    }
  });

  it('replayed and dropped cells are not recognized at the client', () => {
    const c = keyedCircuit(3);
    const cells = [1, 2].map((n) => {
      const b = body(1, Uint8Array.of(n));
      sendBackward(c, b, 2);
      return b;
    });
    assert.equal(c.client.decryptBackward(cells[1]!.slice()), -1, 'first cell dropped');
    const d = keyedCircuit(3);
    const b = body(1, Uint8Array.of(1));
    sendBackward(d, b, 1);
    assert.equal(d.client.decryptBackward(b.slice()), 1);
    assert.equal(d.client.decryptBackward(b.slice()), -1, 'replayed');
  });
});

describe('relay crypto: fuzz', () => {
  it('random bodies are never recognized by a relay and never throw', () => {
    const c = keyedCircuit(3);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: RELAY_BODY_BYTES + 10 }), (bytes) => {
        for (const r of c.relays) assert.equal(r.forward(bytes), false);
      }),
      { numRuns: RUNS },
    );
  });

  it('random bodies are never recognized by the client and never throw', () => {
    const c = keyedCircuit(3);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: RELAY_BODY_BYTES, maxLength: RELAY_BODY_BYTES }),
          fc.uint8Array({ maxLength: 64 }),
        ),
        (bytes) => {
          assert.equal(c.client.decryptBackward(bytes), -1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('plaintexts with recognized = 0 and a wrong digest are not recognized (the digest decides)', () => {
    const k = randomKeys();
    // A mirror of the relay's forward keystream, so the test controls the plaintext the relay sees.
    const mirror = createCipheriv('aes-256-ctr', k.forwardKey, new Uint8Array(16));
    const relay = new RelayHopCrypto(k);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: RELAY_BODY_BYTES, maxLength: RELAY_BODY_BYTES }), (plain) => {
        plain[0] = 0;
        plain[1] = 0;
        const cell = new Uint8Array(mirror.update(plain));
        assert.equal(relay.forward(cell), false);
        assert.deepEqual(cell, plain, 'the relay removed exactly its layer');
      }),
      { numRuns: RUNS },
    );
  });
});
