// Regressions for what the protocol fuzzer (test/e2e/attackers/protocol-fuzz.ts) found, each with a
// real relay on real libp2p streams in this process:
// - a RESOLVE on stream 0 reached the exit, which answered with a RESOLVED on stream 0 that no client
//   can decode; the relay now decodes every relay message it handles with the codec (wire/cell.ts
//   decodeRelayMessage), stream-id rule and payload layouts included;
// - a descriptor request may carry no bytes; the responder never read them, so each request stream
//   could park ~4 MiB in its read buffer; now a byte from the requester resets the stream, logged once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Stream } from '@libp2p/interface';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { createHandshakeClient } from '../../../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto } from '../../../src/crypto/relay-crypto.ts';
import {
  DESCRIPTOR_PROTOCOL,
  fetchPeerDescriptor,
  serveOwnDescriptor,
} from '../../../src/directory/descriptor-protocol.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { RefusalLog } from '../../../src/log/refusals.ts';
import type { Host } from '../../../src/p2p/host.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  DestroyReason,
  decodeRelayMessage,
  encodeCell,
  encodeRelayBody,
  encodeRelayPayload,
  LinkCommand,
  RelayCommand,
} from '../../../src/wire/cell.ts';
import { type MiniNet, publicOnionKey, startMiniNet } from '../lib/mini-net.ts';

let net: MiniNet;
let attacker: Host;

before(async () => {
  net = await startMiniNet([{ exit: true }]);
  attacker = await net.addClient();
});

after(async () => {
  await net.stop();
});

/** Reads whole cells from a stream, in order. */
function cellReader(stream: Stream): () => Promise<Uint8Array | 'closed'> {
  let buf = new Uint8Array(0);
  let closed = false;
  let wake: (() => void) | undefined;
  stream.addEventListener('message', (evt) => {
    buf = new Uint8Array([...buf, ...evt.data.subarray()]);
    wake?.();
  });
  stream.addEventListener('close', () => {
    closed = true;
    wake?.();
  });
  return async () => {
    while (buf.length < CELL_BYTES && !closed) await new Promise<void>((r) => (wake = r));
    if (buf.length < CELL_BYTES) return 'closed';
    const cell = buf.slice(0, CELL_BYTES);
    buf = buf.slice(CELL_BYTES);
    return cell;
  };
}

/** A one-hop circuit to the relay built by hand: the channel, its next-cell reader and the hop keys. */
async function oneHop(): Promise<{
  stream: Stream;
  next: () => Promise<Uint8Array | 'closed'>;
  crypto: ClientCircuitCrypto;
}> {
  const relay = net.relays[0]!;
  const stream = await attacker.dialProtocol(relay.host.getMultiaddrs(), CIRCUIT_PROTOCOL);
  const next = cellReader(stream);
  const hs = createHandshakeClient(relay.identity.publicKey, publicOnionKey(relay.onionKeys));
  stream.send(encodeCell({ circuitId: 7 as never, command: LinkCommand.CREATE, body: hs.message }));
  const created = await next();
  assert.ok(created !== 'closed' && created[4] === LinkCommand.CREATED, 'CREATED');
  const crypto = new ClientCircuitCrypto();
  crypto.addHop(hs.finish(created.subarray(CELL_HEADER_BYTES)));
  return { stream, next, crypto };
}

function relayCell(
  crypto: ClientCircuitCrypto,
  streamId: number,
  command: number,
  data: Uint8Array,
): Uint8Array {
  const body = encodeRelayBody(streamId, command, data);
  crypto.encryptForward(body, 0);
  return encodeCell({ circuitId: 7 as never, command: LinkCommand.RELAY, body });
}

test('a RESOLVE on stream 0, or any message the codec refuses, destroys the circuit; on a stream it is answered', async () => {
  const resolve = encodeRelayPayload({ kind: 'resolve', host: '127.0.0.1' });
  const ok = await oneHop();
  ok.stream.send(relayCell(ok.crypto, 9, RelayCommand.RESOLVE, resolve));
  const answer = await ok.next();
  assert.ok(answer !== 'closed' && answer[4] === LinkCommand.RELAY);
  const body = answer.subarray(CELL_HEADER_BYTES);
  assert.equal(ok.crypto.decryptBackward(body), 0);
  const m = decodeRelayMessage(body);
  assert.ok(m.kind === 'ok' && m.value.message.kind === 'resolved' && m.value.streamId === 9);
  ok.stream.abort(new Error('done'));

  for (const [streamId, command, data] of [
    [0, RelayCommand.RESOLVE, resolve],
    [0, RelayCommand.BEGIN, encodeRelayPayload({ kind: 'begin', host: '127.0.0.1', port: 1, flags: 0 })],
    [5, RelayCommand.TRUNCATE, new Uint8Array(0)],
    // Payloads the codec refuses are refused by the same decoder, once: a host with a space, an empty
    // DATA, an END with a byte too many.
    [5, RelayCommand.BEGIN, Uint8Array.of(3, 0x61, 0x20, 0x62, 0, 80, 0)],
    [5, RelayCommand.DATA, new Uint8Array(0)],
    [5, RelayCommand.END, Uint8Array.of(6, 0)],
  ] as const) {
    const bad = await oneHop();
    bad.stream.send(relayCell(bad.crypto, streamId, command, data));
    const reply = await bad.next();
    assert.ok(reply !== 'closed', `an answer to command ${command} on stream ${streamId}`);
    assert.equal(reply[4], LinkCommand.DESTROY, `command ${command} on stream ${streamId} destroys`);
    assert.equal(reply[CELL_HEADER_BYTES], DestroyReason.PROTOCOL);
    bad.stream.abort(new Error('done'));
  }
});

test('a descriptor request that carries data is reset and logged; honest requests are answered', async () => {
  const relay = net.relays[0]!;
  const refusals = new RefusalLog(createLogger({ level: 'silent' }));
  const descriptor = new Uint8Array([1, 2, 3]);
  await serveOwnDescriptor(relay.host, () => descriptor, refusals);
  const stream = await attacker.dialProtocol(relay.host.getMultiaddrs(), DESCRIPTOR_PROTOCOL);
  const closed = new Promise<Error | 'still open' | undefined>((resolve) => {
    stream.addEventListener('close', (evt) => resolve(evt.error), { once: true });
    setTimeout(() => resolve('still open'), 10_000).unref();
  });
  stream.send(new Uint8Array(64 * 1024));
  const how = await closed;
  assert.ok(how instanceof Error, `the stream was reset (${String(how)})`);
  assert.equal(refusals.count('DESCRIPTOR_PROTOCOL'), 1);
  const fetched = await fetchPeerDescriptor(attacker, relay.peerId, AbortSignal.timeout(5_000));
  assert.deepEqual(fetched, descriptor);
  assert.equal(refusals.count('DESCRIPTOR_PROTOCOL'), 1, 'an honest request is no refusal');
});
