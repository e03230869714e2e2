// Layered encryption of relay cell bodies, as Tor's relay crypto (tor-spec "Routing relay cells"):
// per hop and direction, one AES-256-CTR context that lives as long as the circuit (one update() per
// cell, never a new cipher per cell), and one digest chain that says which hop a cell is for.
// Specification: docs/protocol.md, "Circuits" > "Relay crypto". Pure: no I/O, no timers.
//
// Forward (client → exit): the client sets the target hop's digest, then encrypts with the forward
// keys of hops target..0. Each relay removes its layer; if the body then reads recognized = 0 and the
// digest matches its chain, the cell is for it, else it passes the cell on.
// Backward (exit → client): the originating hop sets its digest and encrypts; every hop closer to the
// client adds its layer; the client removes layers from hop 0 outwards until one hop recognizes it.
//
// Digest chain (per hop and direction), over the whole body with its digest field zeroed:
//
//   d_i    = SHA-256( c_{i-1} || body_i )        c_0 = the digest seed from the handshake
//   digest = d_i[0..16]                          c_i = d_i (advanced only when the cell is recognized)
//
// Because the CTR keystream and the chain both advance with every cell, a cell that is modified,
// replayed, dropped or reordered anywhere on the path is not recognized where it ends: the caller tears
// the circuit down. What this does not prevent (tagging by colluding relays): docs/protocol.md.
import { type Cipheriv, createCipheriv, hash, timingSafeEqual } from 'node:crypto';
import { copyBytes } from '../wire/bytes.ts';
import {
  RELAY_DIGEST_BYTES,
  RELAY_DIGEST_OFFSET,
  RELAY_HEADER_BYTES,
  RELAY_RECOGNIZED_OFFSET,
} from '../wire/cell.ts';
import { type HopKeys, wipeKeys } from './circuit-handshake.ts';
import { CryptoError } from './errors.ts';

export const RELAY_CIPHER = 'aes-256-ctr';
const CHAIN_BYTES = 32;
const ZERO_IV = new Uint8Array(16);
const ZERO_DIGEST = new Uint8Array(RELAY_DIGEST_BYTES);

// Scratch space for c || body, so one native hash() call covers both. Sync use only (single thread).
let scratch = new Uint8Array(CHAIN_BYTES + 4096);

/** One direction of one hop: the running digest chain value. */
class DigestChain {
  readonly #chain: Uint8Array;

  constructor(seed: Uint8Array) {
    if (seed.length !== CHAIN_BYTES) throw new CryptoError('BAD_KEY', 'a digest seed is 32 bytes');
    this.#chain = new Uint8Array(seed);
  }

  /** Sender: zero recognized and digest, fill the digest in, advance. */
  seal(body: Uint8Array): void {
    body[RELAY_RECOGNIZED_OFFSET] = 0;
    body[RELAY_RECOGNIZED_OFFSET + 1] = 0;
    body.set(ZERO_DIGEST, RELAY_DIGEST_OFFSET);
    const d = this.#next(body);
    body.set(d.subarray(0, RELAY_DIGEST_BYTES), RELAY_DIGEST_OFFSET);
    this.#chain.set(d);
  }

  /** Receiver: true (and advance) if recognized = 0 and the digest matches; the body is left as it was. */
  open(body: Uint8Array): boolean {
    if (body[RELAY_RECOGNIZED_OFFSET] !== 0 || body[RELAY_RECOGNIZED_OFFSET + 1] !== 0) return false;
    const field = copyBytes(body, RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_BYTES);
    body.set(ZERO_DIGEST, RELAY_DIGEST_OFFSET);
    const d = this.#next(body);
    body.set(field, RELAY_DIGEST_OFFSET);
    if (!timingSafeEqual(d.subarray(0, RELAY_DIGEST_BYTES), field)) return false;
    this.#chain.set(d);
    return true;
  }

  #next(body: Uint8Array): Buffer {
    const n = CHAIN_BYTES + body.length;
    if (scratch.length < n) scratch = new Uint8Array(n);
    scratch.set(this.#chain, 0);
    scratch.set(body, CHAIN_BYTES);
    const d = hash('sha256', scratch.subarray(0, n), 'buffer');
    scratch.fill(0, 0, CHAIN_BYTES);
    return d;
  }
}

/** One direction of one hop: a kept-alive AES-256-CTR context. Encryption and decryption are the same. */
class Layer {
  readonly #cipher: Cipheriv;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new CryptoError('BAD_KEY', 'a relay cipher key is 32 bytes');
    this.#cipher = createCipheriv(RELAY_CIPHER, key, ZERO_IV);
  }

  apply(body: Uint8Array): void {
    body.set(this.#cipher.update(body));
  }
}

interface HopState {
  readonly forward: Layer;
  readonly backward: Layer;
  readonly forwardDigest: DigestChain;
  readonly backwardDigest: DigestChain;
}

function hopState(keys: HopKeys): HopState {
  try {
    return {
      forward: new Layer(keys.forwardKey),
      backward: new Layer(keys.backwardKey),
      forwardDigest: new DigestChain(keys.forwardDigestSeed),
      backwardDigest: new DigestChain(keys.backwardDigestSeed),
    };
  } finally {
    wipeKeys(keys);
  }
}

function checkDigestOut(out: Uint8Array | undefined): void {
  if (out !== undefined && (!(out instanceof Uint8Array) || out.length !== RELAY_DIGEST_BYTES))
    throw new CryptoError('BAD_ARGUMENT', `a digest copy is ${RELAY_DIGEST_BYTES} bytes`);
}

function copyDigest(body: Uint8Array, out: Uint8Array): void {
  out.set(body.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_BYTES));
}

function checkBody(body: Uint8Array): void {
  if (!(body instanceof Uint8Array) || body.length < RELAY_HEADER_BYTES)
    throw new CryptoError('BAD_ARGUMENT', `a relay body is at least ${RELAY_HEADER_BYTES} bytes`);
}

/**
 * The client's side of one circuit: one HopState per hop, hop 0 the entry. Bodies are RELAY_BODY_BYTES
 * on the wire (any length >= RELAY_HEADER_BYTES works, for benchmarks) and are changed in place.
 */
export class ClientCircuitCrypto {
  readonly #hops: HopState[] = [];

  /** Adds the next hop (after its CREATED or EXTENDED). Takes the keys over and zeroes them. */
  addHop(keys: HopKeys): void {
    this.#hops.push(hopState(keys));
  }

  get hops(): number {
    return this.#hops.length;
  }

  /** Forgets every hop past the first `keep` (after a TRUNCATED from hop keep - 1). */
  truncate(keep: number): void {
    if (!Number.isInteger(keep) || keep < 0 || keep > this.#hops.length)
      throw new CryptoError('BAD_ARGUMENT', `cannot keep ${keep} of ${this.#hops.length} hops`);
    this.#hops.length = keep;
  }

  /**
   * In place: sets recognized = 0 and the digest for `targetHop`, then adds the layers of hops
   * targetHop..0. `digestOut` (RELAY_DIGEST_BYTES), when given, gets a copy of the digest field before
   * encryption (an authenticated SENDME names it). Throws CryptoError 'BAD_ARGUMENT' on a hop that does
   * not exist or a short body.
   */
  encryptForward(body: Uint8Array, targetHop: number, digestOut?: Uint8Array): void {
    checkBody(body);
    checkDigestOut(digestOut);
    const target = this.#hops[targetHop];
    if (!Number.isInteger(targetHop) || target === undefined)
      throw new CryptoError('BAD_ARGUMENT', `no hop ${targetHop} (circuit has ${this.#hops.length})`);
    target.forwardDigest.seal(body);
    if (digestOut !== undefined) copyDigest(body, digestOut);
    for (let i = targetHop; i >= 0; i--) this.#hops[i]!.forward.apply(body);
  }

  /**
   * In place: removes layers from hop 0 outwards until a hop recognizes the cell; returns that hop's
   * index, or -1 when none does (the circuit's state is then out of step: tear it down). Never throws.
   */
  decryptBackward(body: Uint8Array): number {
    if (!(body instanceof Uint8Array) || body.length < RELAY_HEADER_BYTES) return -1;
    for (let i = 0; i < this.#hops.length; i++) {
      const hop = this.#hops[i]!;
      hop.backward.apply(body);
      if (hop.backwardDigest.open(body)) return i;
    }
    return -1;
  }
}

/** One relay's side of one circuit. Bodies are changed in place. */
export class RelayHopCrypto {
  readonly #hop: HopState;

  /** Takes the keys over and zeroes them. */
  constructor(keys: HopKeys) {
    this.#hop = hopState(keys);
  }

  /**
   * A cell from the client side: removes our layer; true when the cell is for us (recognized), false
   * when it goes on to the next hop (or, at the last hop, when the circuit must be torn down).
   * Never throws; a body shorter than a relay header gives false and changes nothing.
   */
  forward(body: Uint8Array): boolean {
    if (!(body instanceof Uint8Array) || body.length < RELAY_HEADER_BYTES) return false;
    this.#hop.forward.apply(body);
    return this.#hop.forwardDigest.open(body);
  }

  /**
   * A cell we originate towards the client: sets recognized = 0 and our digest, then adds our layer.
   * `digestOut`, when given, gets a copy of the digest field before encryption (as encryptForward).
   */
  backwardOriginate(body: Uint8Array, digestOut?: Uint8Array): void {
    checkBody(body);
    checkDigestOut(digestOut);
    this.#hop.backwardDigest.seal(body);
    if (digestOut !== undefined) copyDigest(body, digestOut);
    this.#hop.backward.apply(body);
  }

  /** A cell from further hops towards the client: adds our layer. */
  backwardRelay(body: Uint8Array): void {
    checkBody(body);
    this.#hop.backward.apply(body);
  }
}
