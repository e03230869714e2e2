// The circuit handshake: one round trip that gives a client and one relay the keys of one hop.
// ntor-like (Tor's ntor: static-ephemeral and ephemeral-ephemeral X25519, relay authenticated by a
// MAC) combined with ML-KEM-768, so the hop keys stay secret unless both X25519 and ML-KEM fall.
// Specification: docs/protocol.md, "Circuits" > "Handshake". Test vectors: test/vectors/circuit.json.
//
//   ID  relay identity key (Ed25519, 32)        B, b  relay onion X25519 key (32)
//   EK  relay onion ML-KEM-768 key (1184)       x, X  client ephemeral X25519    y, Y  relay ephemeral
//
//   client → relay  CREATE  (1128) = onionKeyId (8) = SHA-256(B)[0..8] | X (32) | ct (1088)
//                              where (ct, ss) = ML-KEM-768.Encaps(EK)
//   relay → client  CREATED (64)   = Y (32) | auth (32)
//
//   secret_input = X25519(b,X)=X25519(x,B) | X25519(y,X)=X25519(x,Y) | ss | ID | B | X | Y
//                  | SHA-256(ct) | PROTOID                         PROTOID = "anonnet-circuit-hs-v1"
//   auth_key     = HKDF-SHA256(ikm = secret_input, salt = PROTOID, info = PROTOID ":auth", 32)
//   hop keys     = HKDF-SHA256(ikm = secret_input, salt = PROTOID, info = PROTOID ":keys", 128)
//                = forward key | backward key | forward digest seed | backward digest seed
//   auth         = HMAC-SHA256(auth_key, ID | B | Y | X | PROTOID | "server")
//
// Pure: node:crypto only, no I/O. The ephemeral private keys x and y live only in node:crypto KeyObjects
// (dropped as soon as they are used: they cannot be wiped from JavaScript and go with garbage
// collection); every secret buffer this module holds (DH outputs, KEM secret, secret_input, HKDF
// output, auth key, fixed test secrets) is zeroed after use.
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  decapsulate,
  diffieHellman,
  encapsulate,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { CREATE_MESSAGE_BYTES, CREATED_MESSAGE_BYTES } from '../wire/cell.ts';
import { CryptoError } from './errors.ts';
import type { OnionKeyPair } from './onion-keys.ts';

// The sizes live in wire/cell.ts (EXTEND and EXTENDED carry these messages); re-exported here.
export { CREATE_MESSAGE_BYTES, CREATED_MESSAGE_BYTES };

const CREATE_BYTES = CREATE_MESSAGE_BYTES;
const CREATED_BYTES = CREATED_MESSAGE_BYTES;
export const HANDSHAKE_PROTOID = 'anonnet-circuit-hs-v1';
export const ONION_KEY_ID_BYTES = 8;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
/** Bytes of hop key material: four 32-byte keys. */
export const HOP_KEY_MATERIAL_BYTES = 128;

const X25519_BYTES = 32;
const IDENTITY_BYTES = 32;
const MLKEM768_EK_BYTES = 1184;
const AUTH_BYTES = 32;
const PROTOID = Buffer.from(HANDSHAKE_PROTOID, 'ascii');
const SERVER = Buffer.from('server', 'ascii');
const INFO_AUTH = Buffer.from(`${HANDSHAKE_PROTOID}:auth`, 'ascii');
const INFO_KEYS = Buffer.from(`${HANDSHAKE_PROTOID}:keys`, 'ascii');

/** The keys of one hop, consumed (and zeroed) by relay-crypto.ts. */
export interface HopKeys {
  /** AES-256-CTR key, client → exit direction. */
  readonly forwardKey: Uint8Array;
  /** AES-256-CTR key, exit → client direction. */
  readonly backwardKey: Uint8Array;
  /** First chaining value of the forward digest chain. */
  readonly forwardDigestSeed: Uint8Array;
  /** First chaining value of the backward digest chain. */
  readonly backwardDigestSeed: Uint8Array;
}

export type HandshakeRefusal = 'UNKNOWN_ONION_KEY' | 'MALFORMED' | 'BAD_KEY';

export interface HandshakeClient {
  /** The CREATE message (CREATE_MESSAGE_BYTES), for a CREATE cell or an EXTEND payload. */
  readonly message: Uint8Array;
  /**
   * Checks the relay's CREATED reply (exactly CREATED_MESSAGE_BYTES, or a CREATED cell body: the
   * message followed by zero bytes) and returns the hop keys. Throws CryptoError 'HANDSHAKE_FAILED'
   * on a bad reply or a wrong auth, and on a second call (the ephemeral secrets are gone).
   */
  finish(reply: Uint8Array): HopKeys;
}

/**
 * Starts a handshake with the relay whose identity key is `relayIdentity` and whose current onion key
 * (from its verified descriptor) is `onionKey`. Throws CryptoError 'BAD_KEY' on malformed keys.
 */
export function createHandshakeClient(
  relayIdentity: Uint8Array,
  onionKey: { x25519: Uint8Array; mlkem768: Uint8Array },
): HandshakeClient {
  return startClient(relayIdentity, onionKey, undefined);
}

/**
 * For test vectors only: the client with a fixed ephemeral X25519 secret and, optionally, a fixed
 * ML-KEM result (node:crypto cannot take the encapsulation randomness). Zeroes `x25519Private`.
 */
export function createHandshakeClientWithSecrets(
  relayIdentity: Uint8Array,
  onionKey: { x25519: Uint8Array; mlkem768: Uint8Array },
  fixed: { x25519Private: Uint8Array; encapsulation?: { ciphertext: Uint8Array; sharedSecret: Uint8Array } },
): HandshakeClient {
  return startClient(relayIdentity, onionKey, fixed);
}

function startClient(
  relayIdentity: Uint8Array,
  onionKey: { x25519: Uint8Array; mlkem768: Uint8Array },
  fixed:
    | { x25519Private: Uint8Array; encapsulation?: { ciphertext: Uint8Array; sharedSecret: Uint8Array } }
    | undefined,
): HandshakeClient {
  if (relayIdentity.length !== IDENTITY_BYTES)
    throw new CryptoError('BAD_KEY', `a relay identity key is ${IDENTITY_BYTES} bytes`);
  if (onionKey.x25519.length !== X25519_BYTES || onionKey.mlkem768.length !== MLKEM768_EK_BYTES)
    throw new CryptoError('BAD_KEY', 'an onion key is X25519 (32 bytes) and ML-KEM-768 (1184 bytes)');
  const id = Buffer.from(relayIdentity);
  const B = Buffer.from(onionKey.x25519);
  let x: KeyObject | undefined;
  let dh1: Buffer;
  let ct: Buffer;
  let ss: Buffer;
  let X: Buffer;
  try {
    const relayKeys = parsedOnionKey(onionKey);
    if (fixed === undefined) {
      const pair = generateKeyPairSync('x25519');
      x = pair.privateKey;
      X = pair.publicKey.export({ format: 'raw-public' });
    } else {
      x = x25519Private(fixed.x25519Private);
      X = createPublicKey(x).export({ format: 'raw-public' });
    }
    dh1 = x25519(x, relayKeys.B);
    if (fixed?.encapsulation !== undefined) {
      ct = Buffer.from(fixed.encapsulation.ciphertext);
      ss = Buffer.from(fixed.encapsulation.sharedSecret);
    } else {
      const r = encapsulate(relayKeys.ek);
      ct = r.ciphertext;
      ss = r.sharedKey;
    }
  } catch (err) {
    throw new CryptoError('BAD_KEY', `unusable onion key: ${(err as Error).message}`);
  } finally {
    fixed?.x25519Private.fill(0);
  }
  if (ct.length !== MLKEM768_CIPHERTEXT_BYTES || ss.length !== 32)
    throw new CryptoError('BAD_KEY', 'an ML-KEM-768 result is a 1088-byte ciphertext and 32-byte secret');
  const message = new Uint8Array(CREATE_BYTES);
  message.set(onionKeyId(B), 0);
  message.set(X, ONION_KEY_ID_BYTES);
  message.set(ct, ONION_KEY_ID_BYTES + X25519_BYTES);

  let done = false;
  return {
    message,
    finish(reply: Uint8Array): HopKeys {
      if (done) throw new CryptoError('HANDSHAKE_FAILED', 'finish was already called');
      done = true;
      const xKey = x;
      x = undefined;
      try {
        if (xKey === undefined || !paddedMessage(reply, CREATED_BYTES))
          throw new CryptoError('HANDSHAKE_FAILED', 'malformed CREATED reply');
        const Y = Buffer.from(reply.subarray(0, X25519_BYTES));
        const auth = reply.subarray(X25519_BYTES, X25519_BYTES + AUTH_BYTES);
        let dh2: Buffer;
        try {
          dh2 = x25519(xKey, x25519Public(Y));
        } catch {
          throw new CryptoError('HANDSHAKE_FAILED', 'the relay sent a bad ephemeral key');
        }
        const derived = derive(dh1, dh2, ss, id, B, X, Y, ct);
        dh2.fill(0);
        if (!timingSafeEqual(derived.auth, auth)) {
          wipeKeys(derived.keys);
          throw new CryptoError('HANDSHAKE_FAILED', 'the relay did not prove its onion key');
        }
        return derived.keys;
      } finally {
        dh1.fill(0);
        ss.fill(0);
      }
    },
  };
}

/**
 * The relay's side: answers a CREATE message (exactly CREATE_MESSAGE_BYTES, or a CREATE cell body:
 * the message followed by zero bytes) against the onion key pairs it holds. Never throws.
 */
export function respondHandshake(
  message: Uint8Array,
  relayIdentity: Uint8Array,
  onionKeys: readonly OnionKeyPair[],
): { reply: Uint8Array; keys: HopKeys } | { error: HandshakeRefusal } {
  return respondHandshakeWithSecrets(message, relayIdentity, onionKeys, undefined);
}

/** For test vectors only: respondHandshake with a fixed ephemeral X25519 secret `y` (zeroed after). */
export function respondHandshakeWithSecrets(
  message: Uint8Array,
  relayIdentity: Uint8Array,
  onionKeys: readonly OnionKeyPair[],
  yPrivate: Uint8Array | undefined,
): { reply: Uint8Array; keys: HopKeys } | { error: HandshakeRefusal } {
  try {
    if (!paddedMessage(message, CREATE_BYTES) || relayIdentity.length !== IDENTITY_BYTES)
      return { error: 'MALFORMED' };
    const keyId = message.subarray(0, ONION_KEY_ID_BYTES);
    const pair = onionKeys.find((p) => timingSafeEqual(prepared(p).id, keyId));
    if (pair === undefined) return { error: 'UNKNOWN_ONION_KEY' };
    const own = prepared(pair);
    const X = Buffer.from(message.subarray(ONION_KEY_ID_BYTES, ONION_KEY_ID_BYTES + X25519_BYTES));
    const ct = Buffer.from(message.subarray(ONION_KEY_ID_BYTES + X25519_BYTES, CREATE_BYTES));
    let yKey: KeyObject;
    let Y: Buffer;
    let dh1: Buffer;
    let dh2: Buffer;
    let ss: Buffer;
    try {
      if (yPrivate === undefined) {
        const pair = generateKeyPairSync('x25519');
        yKey = pair.privateKey;
        Y = pair.publicKey.export({ format: 'raw-public' });
      } else {
        yKey = x25519Private(yPrivate);
        Y = createPublicKey(yKey).export({ format: 'raw-public' });
      }
      const peer = x25519Public(X);
      dh1 = x25519(own.b, peer);
      dh2 = x25519(yKey, peer);
      ss = decapsulate(own.dk, ct);
    } catch {
      return { error: 'BAD_KEY' };
    }
    const derived = derive(dh1, dh2, ss, Buffer.from(relayIdentity), own.B, X, Y, ct);
    dh1.fill(0);
    dh2.fill(0);
    ss.fill(0);
    const reply = new Uint8Array(CREATED_BYTES);
    reply.set(Y, 0);
    reply.set(derived.auth, X25519_BYTES);
    return { reply, keys: derived.keys };
  } catch {
    return { error: 'MALFORMED' };
  } finally {
    yPrivate?.fill(0);
  }
}

/** The first 8 bytes of SHA-256(B): how a CREATE names the onion key it was made for. */
export function onionKeyId(x25519Public: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(x25519Public).digest().subarray(0, ONION_KEY_ID_BYTES));
}

/** Zeroes the key material (relay-crypto does this once its cipher contexts exist). */
export function wipeKeys(keys: HopKeys): void {
  keys.forwardKey.fill(0);
  keys.backwardKey.fill(0);
  keys.forwardDigestSeed.fill(0);
  keys.backwardDigestSeed.fill(0);
}

// ------------------------------------------------------------------------------------------------

interface PreparedPair {
  readonly id: Uint8Array;
  readonly B: Buffer;
  readonly b: KeyObject;
  readonly dk: KeyObject;
}

// Parsing the private halves costs tens of microseconds (ML-KEM expands its seed): do it once per pair.
const preparedPairs = new WeakMap<OnionKeyPair, PreparedPair>();

function prepared(pair: OnionKeyPair): PreparedPair {
  let p = preparedPairs.get(pair);
  if (p === undefined) {
    p = {
      id: onionKeyId(pair.x25519Public),
      B: Buffer.from(pair.x25519Public),
      b: x25519Private(pair.x25519Private),
      dk: createPrivateKey({
        key: Buffer.from(pair.mlkemSeed),
        format: 'raw-seed',
        asymmetricKeyType: 'ml-kem-768',
      }),
    };
    preparedPairs.set(pair, p);
  }
  return p;
}

function x25519Private(raw: Uint8Array): KeyObject {
  const copy = Buffer.from(raw);
  try {
    return createPrivateKey({ key: copy, format: 'raw-private', asymmetricKeyType: 'x25519' });
  } finally {
    copy.fill(0);
  }
}

function x25519Public(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'x25519' });
}

// Parsing an ML-KEM-768 encapsulation key costs more than encapsulating to it: once per onion key
// (keyed by the descriptor's key bytes, which stay the same object while the descriptor is in use).
const parsedOnionKeys = new WeakMap<
  Uint8Array,
  { readonly x25519: Uint8Array; B: KeyObject; ek: KeyObject }
>();

function parsedOnionKey(k: { x25519: Uint8Array; mlkem768: Uint8Array }): { B: KeyObject; ek: KeyObject } {
  const cached = parsedOnionKeys.get(k.mlkem768);
  // The X25519 half is checked too: the cache is keyed on the ML-KEM bytes only.
  if (cached !== undefined && cached.x25519 === k.x25519) return cached;
  const parsed = {
    x25519: k.x25519,
    B: x25519Public(k.x25519),
    ek: createPublicKey({
      key: Buffer.from(k.mlkem768),
      format: 'raw-public',
      asymmetricKeyType: 'ml-kem-768',
    }),
  };
  parsedOnionKeys.set(k.mlkem768, parsed);
  return parsed;
}

/** X25519 agreement; throws on an all-zero result (a small-order point). */
function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  // OpenSSL already refuses an all-zero result; the check stays in case a build does not.
  const out = diffieHellman({ privateKey, publicKey });
  if (out.every((v) => v === 0)) throw new Error('all-zero X25519 output');
  return out;
}

function derive(
  dh1: Buffer,
  dh2: Buffer,
  ss: Buffer,
  id: Buffer,
  B: Buffer,
  X: Buffer,
  Y: Buffer,
  ct: Buffer,
): { auth: Buffer; keys: HopKeys } {
  const secretInput = Buffer.concat([
    dh1,
    dh2,
    ss,
    id,
    B,
    X,
    Y,
    createHash('sha256').update(ct).digest(),
    PROTOID,
  ]);
  const authKey = Buffer.from(hkdfSync('sha256', secretInput, PROTOID, INFO_AUTH, 32));
  const material = new Uint8Array(
    hkdfSync('sha256', secretInput, PROTOID, INFO_KEYS, HOP_KEY_MATERIAL_BYTES),
  );
  secretInput.fill(0);
  const auth = createHmac('sha256', authKey)
    .update(Buffer.concat([id, B, Y, X, PROTOID, SERVER]))
    .digest();
  authKey.fill(0);
  const keys: HopKeys = {
    forwardKey: material.slice(0, 32),
    backwardKey: material.slice(32, 64),
    forwardDigestSeed: material.slice(64, 96),
    backwardDigestSeed: material.slice(96, 128),
  };
  material.fill(0);
  return { auth, keys };
}

/** `bytes` is a message of `size` bytes, possibly followed by zero bytes (a cell body). */
function paddedMessage(bytes: Uint8Array, size: number): boolean {
  if (bytes.length < size) return false;
  for (let i = size; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
