// Generates test/vectors/circuit.json: circuit handshake transcripts, hop keys, layered relay cells and
// relay message encodings, for AnonNet and for any other implementation (docs/protocol.md, "Circuits").
//
// Every secret is fixed (SHA-256 chained from a label), except one: node:crypto cannot take the
// randomness of an ML-KEM-768 encapsulation, so each hop's KEM ciphertext and shared secret are
// inputs of the vector. The generator keeps the ones already in circuit.json (after checking that they
// decapsulate under the fixed onion key) and draws fresh ones only for a hop that has none, so running
// it again gives the same file.
//
//   node test/vectors/generate-circuit-vectors.ts        (rewrites circuit.json)
import { createHash, decapsulate, createPrivateKey, encapsulate, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  createHandshakeClientWithSecrets,
  HANDSHAKE_PROTOID,
  type HopKeys,
  onionKeyId,
  respondHandshakeWithSecrets,
} from '../../src/crypto/circuit-handshake.ts';
import { identityFromSeed } from '../../src/crypto/identity.ts';
import { onionKeyPairFromSecrets } from '../../src/crypto/onion-keys.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../../src/crypto/relay-crypto.ts';
import {
  type CircuitId,
  encodeCell,
  encodeRelayBody,
  encodeRelayMessage,
  encodeRelayPayload,
  LinkCommand,
  RELAY_DIGEST_BYTES,
  type RelayMessage,
  relayCommandOf,
} from '../../src/wire/cell.ts';
import type { UnixMillis } from '../../src/wire/descriptor-types.ts';

export const VECTOR_FILE = new URL('./circuit.json', import.meta.url);

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

export interface KeysJson {
  forwardKey: string;
  backwardKey: string;
  forwardDigestSeed: string;
  backwardDigestSeed: string;
}

export interface HandshakeVector {
  name: string;
  relayIdentitySeed: string;
  relayIdentity: string;
  onionKey: {
    x25519Private: string;
    mlkemSeed: string;
    x25519Public: string;
    mlkem768Public: string;
    onionKeyId: string;
  };
  clientEphemeralPrivate: string;
  clientEphemeralPublic: string;
  mlkemCiphertext: string;
  mlkemSharedSecret: string;
  relayEphemeralPrivate: string;
  relayEphemeralPublic: string;
  create: string;
  created: string;
  auth: string;
  keys: KeysJson;
}

export interface CellVector {
  name: string;
  direction: 'forward' | 'backward';
  /** Forward: the target hop. Backward: the hop that originated the cell. */
  hop: number;
  streamId: number;
  command: number;
  payload: string;
  /** DATA only: the bytes right after the payload (random in the cell that makes a SENDME due). */
  padding: string;
  /** The link command the cell travels in: RELAY 3, or RELAY_EARLY 5 (forward only). */
  linkCommand: number;
  /** Its digest field, as a circuit SENDME v1 names it. */
  digest: string;
  /** The relay body in plaintext with its digest filled in (what the target hop reads). */
  plaintext: string;
  /** Forward: the body hop 0 receives. Backward: the body the client receives from hop 0. */
  wire: string;
  /** Forward only: the body after hop 0, hop 1, ... removed their layer. */
  afterHop: string[];
  /** The whole link cell on the client's link, circuit id `circuitId`. */
  linkCell: string;
}

export interface MessageVector {
  name: string;
  streamId: number;
  command: number;
  message: Record<string, unknown>;
  payload: string;
}

export interface VectorFile {
  description: string;
  protoid: string;
  circuitId: number;
  handshakes: HandshakeVector[];
  cells: CellVector[];
  relayMessages: MessageVector[];
}

const CIRCUIT_ID = 0x2a5f0c11 as CircuitId;

function keysJson(k: HopKeys): KeysJson {
  return {
    forwardKey: hex(k.forwardKey),
    backwardKey: hex(k.backwardKey),
    forwardDigestSeed: hex(k.forwardDigestSeed),
    backwardDigestSeed: hex(k.backwardDigestSeed),
  };
}

export function keysFromJson(k: KeysJson): HopKeys {
  return {
    forwardKey: unhex(k.forwardKey),
    backwardKey: unhex(k.backwardKey),
    forwardDigestSeed: unhex(k.forwardDigestSeed),
    backwardDigestSeed: unhex(k.backwardDigestSeed),
  };
}

/** A RelayMessage as JSON: byte fields in hex. */
export function messageToJson(m: RelayMessage): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v === undefined ? null : v)),
  ) as Record<string, unknown>;
}

/** The KEM inputs of hop `i`: from `previous` when they still decapsulate, else fresh. */
function encapsulationFor(
  i: number,
  ek: Uint8Array,
  seed: Uint8Array,
  previous: VectorFile | undefined,
): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  const old = previous?.handshakes[i];
  const dk = createPrivateKey({ key: Buffer.from(seed), format: 'raw-seed', asymmetricKeyType: 'ml-kem-768' });
  if (old !== undefined && old.onionKey.mlkem768Public === hex(ek)) {
    const ciphertext = unhex(old.mlkemCiphertext);
    const sharedSecret = unhex(old.mlkemSharedSecret);
    if (hex(decapsulate(dk, ciphertext)) !== old.mlkemSharedSecret)
      throw new Error(`hop ${i}: the recorded ML-KEM ciphertext does not decapsulate to its secret`);
    return { ciphertext, sharedSecret };
  }
  const r = encapsulate(createPublicKey({ key: Buffer.from(ek), format: 'raw-public', asymmetricKeyType: 'ml-kem-768' }));
  return { ciphertext: new Uint8Array(r.ciphertext), sharedSecret: new Uint8Array(r.sharedKey) };
}

export function buildCircuitVectors(previous: VectorFile | undefined): VectorFile {
  const handshakes: HandshakeVector[] = [];
  const clientKeys: HopKeys[] = [];
  const relayKeys: HopKeys[] = [];
  for (let i = 0; i < 3; i++) {
    const idSeed = secret(`circuit:relay${i}:identity`, 32);
    const identity = identityFromSeed(idSeed).publicKey;
    const xPriv = secret(`circuit:relay${i}:onion-x25519`, 32);
    const mlkemSeed = secret(`circuit:relay${i}:onion-mlkem`, 64);
    const pair = onionKeyPairFromSecrets(xPriv, mlkemSeed, 0 as UnixMillis, 1 as UnixMillis);
    const x = secret(`circuit:hop${i}:client-ephemeral`, 32);
    const y = secret(`circuit:hop${i}:relay-ephemeral`, 32);
    const kem = encapsulationFor(i, pair.mlkemPublic, mlkemSeed, previous);
    const client = createHandshakeClientWithSecrets(
      identity,
      { x25519: pair.x25519Public, mlkem768: pair.mlkemPublic },
      { x25519Private: x.slice(), encapsulation: kem },
    );
    const r = respondHandshakeWithSecrets(client.message, identity, [pair], y.slice());
    if ('error' in r) throw new Error(`hop ${i}: relay refused: ${r.error}`);
    const keys = keysJson(r.keys);
    const ck = client.finish(r.reply);
    if (JSON.stringify(keysJson(ck)) !== JSON.stringify(keys)) throw new Error(`hop ${i}: key mismatch`);
    clientKeys.push(ck);
    relayKeys.push(r.keys);
    const X = client.message.subarray(8, 40);
    handshakes.push({
      name: `hop ${i}`,
      relayIdentitySeed: hex(idSeed),
      relayIdentity: hex(identity),
      onionKey: {
        x25519Private: hex(xPriv),
        mlkemSeed: hex(mlkemSeed),
        x25519Public: hex(pair.x25519Public),
        mlkem768Public: hex(pair.mlkemPublic),
        onionKeyId: hex(onionKeyId(pair.x25519Public)),
      },
      clientEphemeralPrivate: hex(x),
      clientEphemeralPublic: hex(X),
      mlkemCiphertext: hex(kem.ciphertext),
      mlkemSharedSecret: hex(kem.sharedSecret),
      relayEphemeralPrivate: hex(y),
      relayEphemeralPublic: hex(r.reply.subarray(0, 32)),
      create: hex(client.message),
      created: hex(r.reply),
      auth: hex(r.reply.subarray(32, 64)),
      keys,
    });
  }

  const client = new ClientCircuitCrypto();
  for (const k of clientKeys) client.addHop(k);
  const relays = relayKeys.map((k) => new RelayHopCrypto(k));
  const cells: CellVector[] = [];
  const forward = (name: string, hop: number, streamId: number, m: RelayMessage, linkCommand: number) => {
    const body = encodeRelayMessage(streamId, m);
    const digest = new Uint8Array(RELAY_DIGEST_BYTES);
    client.encryptForward(body, hop, digest);
    const wire = body.slice();
    const afterHop: string[] = [];
    for (let i = 0; i <= hop; i++) {
      const recognized = relays[i]!.forward(body);
      afterHop.push(hex(body));
      if (recognized !== (i === hop)) throw new Error(`${name}: recognized at hop ${i}`);
    }
    cells.push({
      name,
      direction: 'forward',
      hop,
      streamId,
      command: relayCommandOf(m),
      payload: hex(encodeRelayPayload(m)),
      padding: '',
      linkCommand,
      digest: hex(digest),
      plaintext: hex(body),
      wire: hex(wire),
      afterHop,
      linkCell: hex(encodeCell({ circuitId: CIRCUIT_ID, command: linkCommand, body: wire })),
    });
  };
  const backward = (name: string, hop: number, streamId: number, m: RelayMessage, padding?: Uint8Array) => {
    const payload = encodeRelayPayload(m);
    const body = encodeRelayBody(streamId, relayCommandOf(m), payload, padding);
    const digest = new Uint8Array(RELAY_DIGEST_BYTES);
    relays[hop]!.backwardOriginate(body, digest);
    for (let i = hop - 1; i >= 0; i--) relays[i]!.backwardRelay(body);
    const wire = body.slice();
    if (client.decryptBackward(body) !== hop) throw new Error(`${name}: not recognized at the client`);
    cells.push({
      name,
      direction: 'backward',
      hop,
      streamId,
      command: relayCommandOf(m),
      payload: hex(payload),
      padding: hex(padding ?? new Uint8Array(0)),
      linkCommand: LinkCommand.RELAY,
      digest: hex(digest),
      plaintext: hex(body),
      wire: hex(wire),
      afterHop: [],
      linkCell: hex(encodeCell({ circuitId: CIRCUIT_ID, command: LinkCommand.RELAY, body: wire })),
    });
    return digest;
  };
  // The client's first cells past the first hop travel in RELAY_EARLY, as client-circuit.ts sends them.
  const EARLY = LinkCommand.RELAY_EARLY;
  forward('BEGIN to the exit', 2, 0x1234, { kind: 'begin', host: 'example.com', port: 443, flags: 0 }, EARLY);
  backward('CONNECTED from the exit', 2, 0x1234, {
    kind: 'connected',
    address: { family: 4, address: Uint8Array.of(93, 184, 215, 14), ttl: 300 },
  });
  forward('DATA to the exit', 2, 0x1234, { kind: 'data', data: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n') }, EARLY);
  forward('DROP to the middle hop', 1, 0, { kind: 'drop', data: new Uint8Array(0) }, EARLY);
  const due = backward(
    'DATA from the exit that makes a circuit SENDME due (random padding)',
    2,
    0x1234,
    { kind: 'data', data: new TextEncoder().encode('HTTP/1.1 200 OK\r\n') },
    secret('circuit:sendme-padding', 16),
  );
  forward('circuit SENDME v1 naming that cell', 2, 0, { kind: 'sendme', auth: { version: 1, data: due } }, EARLY);
  backward('stream SENDME from the exit', 2, 0x1234, { kind: 'sendme' });
  backward('DATA from the exit', 2, 0x1234, { kind: 'data', data: new TextEncoder().encode('<html></html>') });

  const msgs: [string, number, RelayMessage][] = [
    ['BEGIN IPv6 literal, flags', 7, { kind: 'begin', host: '2001:db8::1', port: 8080, flags: 5 }],
    ['CONNECTED without address', 7, { kind: 'connected', address: undefined }],
    ['END DONE', 7, { kind: 'end', reason: 6 }],
    ['stream SENDME (version 0: empty)', 7, { kind: 'sendme' }],
    ['circuit SENDME v1', 0, { kind: 'sendme', auth: { version: 1, data: secret('circuit:sendme-digest', 16) } }],
    ['SENDME of a later version (kept)', 0, { kind: 'sendme', auth: { version: 2, data: Uint8Array.of(9, 9) } }],
    ['FIN', 7, { kind: 'fin' }],
    ['TRUNCATE', 0, { kind: 'truncate' }],
    ['TRUNCATED', 0, { kind: 'truncated', reason: 8 }],
    ['RESOLVE', 9, { kind: 'resolve', host: 'shop.anon' }],
    [
      'RESOLVED two addresses',
      9,
      {
        kind: 'resolved',
        status: 'ok',
        addresses: [
          { family: 4, address: Uint8Array.of(192, 0, 2, 1), ttl: 60 },
          { family: 6, address: unhex('20010db8000000000000000000000001'), ttl: 3600 },
        ],
      },
    ],
    ['RESOLVED transient error', 9, { kind: 'resolved', status: 'transient-error', addresses: [] }],
    ['unknown command 200', 3, { kind: 'unknown', command: 200, data: Uint8Array.of(1, 2, 3) }],
  ];
  const relayMessages = msgs.map(([name, streamId, m]) => ({
    name,
    streamId,
    command: relayCommandOf(m),
    message: messageToJson(m),
    payload: hex(encodeRelayPayload(m)),
  }));

  return {
    description:
      'AnonNet circuit test vectors (docs/protocol.md, "Circuits"). Hex is lowercase. handshakes: one hybrid ' +
      'X25519 + ML-KEM-768 handshake per hop with fixed ephemeral secrets (clientEphemeralPrivate x, ' +
      'relayEphemeralPrivate y) and a fixed KEM result (mlkemCiphertext decapsulates to mlkemSharedSecret ' +
      'under mlkemSeed); create/created are the exact messages and keys the derived hop keys. cells: one ' +
      'circuit through the three hops with those keys, cells processed in this order (the AES-256-CTR ' +
      'streams and digest chains carry over from cell to cell); plaintext has the digest filled in, ' +
      'digest is that field (what a circuit SENDME v1 names), padding the DATA padding after the payload, ' +
      'linkCommand RELAY (3) or RELAY_EARLY (5). ' +
      'relayMessages: payload encodings. Generated by test/vectors/generate-circuit-vectors.ts.',
    protoid: HANDSHAKE_PROTOID,
    circuitId: CIRCUIT_ID,
    handshakes,
    cells,
    relayMessages,
  };
}

export function renderVectorFile(v: VectorFile): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

export function readVectorFile(): VectorFile | undefined {
  return existsSync(VECTOR_FILE) ? (JSON.parse(readFileSync(VECTOR_FILE, 'utf8')) as VectorFile) : undefined;
}

if (import.meta.main) {
  const vectors = buildCircuitVectors(readVectorFile());
  writeFileSync(VECTOR_FILE, renderVectorFile(vectors));
  console.log(
    `wrote ${vectors.handshakes.length} handshakes, ${vectors.cells.length} cells and ` +
      `${vectors.relayMessages.length} relay messages to ${VECTOR_FILE.pathname}`,
  );
}
