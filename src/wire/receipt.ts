// Link receipt v1 (docs/economy.md, "Link receipts"): the receiver of cells on a circuit link signs, for
// the node that sent them, how many cells it received on that circuit, in that direction, this epoch.
// Structure only: the signature is checked by crypto/receipt-signature.ts, the epoch and relay by the
// relay that keeps receipts and by auditors (economy/audit.ts).
//
// All integers are unsigned big-endian.
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------------------
//        0  4     magic "ANRC" (41 4e 52 43)
//        4  1     version = 1
//        5  4     epoch (u32): the receiver's ledger epoch when it signed
//        9  32    relay: identity key of the sender, the node whose work is confirmed
//       41  32    signer: the receiver's key (a relay's identity key or a client's throwaway key)
//       73  8     tag (u64): the receiver's random tag for this circuit and direction in this epoch
//       81  8     cells (u64): cumulative cells received from `relay` on this circuit in this epoch
//       89  64    signature: Ed25519 by `signer` over "anonnet-receipt-v1\0" || bytes 0..88
//   ------  ----  -----------------------------------------------------------------------
//   total exactly 153 bytes.
//
// Every field has one encoding, so decode then encode gives the same bytes back.
import { concatBytes, copyBytes, guardDecode, Reader } from './bytes.ts';
import { type DecodeResult, decodeError, needMore } from './decode-result.ts';
import { WireError } from './errors.ts';

export const RECEIPT_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x52, 0x43]); // "ANRC"
export const RECEIPT_VERSION = 1;
export const RECEIPT_SIGNING_CONTEXT = 'anonnet-receipt-v1\0';

export const RECEIPT_KEY_BYTES = 32;
export const RECEIPT_SIGNATURE_BYTES = 64;
/** Bytes the signature covers (after the context string): everything before the signature. */
export const RECEIPT_BODY_BYTES = 89;
export const RECEIPT_BYTES = RECEIPT_BODY_BYTES + RECEIPT_SIGNATURE_BYTES;
export const MAX_EPOCH = 0xffffffff;

export interface Receipt {
  readonly epoch: number;
  /** 32-byte identity key of the node whose sent cells this receipt confirms. */
  readonly relay: Uint8Array;
  /** 32-byte Ed25519 key of the receiver that signs. */
  readonly signer: Uint8Array;
  readonly tag: bigint;
  readonly cells: bigint;
}

export interface SignedReceipt {
  readonly receipt: Receipt;
  /** The first 89 bytes: what the signature covers, after the context string. */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** body || signature: the 153 bytes that travel, and what a claim's Merkle leaf hashes. */
  readonly bytes: Uint8Array;
}

const CONTEXT_BYTES = new TextEncoder().encode(RECEIPT_SIGNING_CONTEXT);

/** The bytes the signature covers: the context string, then the body. */
export function receiptSigningMessage(body: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_BYTES, body);
}

/** The 89-byte body. Throws WireError on a value the format cannot carry. */
export function encodeReceipt(r: Receipt): Uint8Array {
  checkKey(r.relay, 'relay');
  checkKey(r.signer, 'signer');
  // One fixed layout: written in place (relays sign one receipt per MiB of every circuit).
  const out = new Uint8Array(RECEIPT_BODY_BYTES);
  const view = new DataView(out.buffer);
  out.set(RECEIPT_MAGIC, 0);
  out[4] = RECEIPT_VERSION;
  if (!Number.isInteger(r.epoch) || r.epoch < 0 || r.epoch > MAX_EPOCH) {
    throw new WireError('BAD_FIELD', `${r.epoch} is not a u32 epoch`);
  }
  view.setUint32(5, r.epoch);
  out.set(r.relay, 9);
  out.set(r.signer, 41);
  view.setBigUint64(73, u64(r.tag, 'tag'));
  view.setBigUint64(81, u64(r.cells, 'cells'));
  return out;
}

function u64(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) {
    throw new WireError('BAD_FIELD', `${what} ${String(v)} is not a u64`);
  }
  return v;
}

/** Encodes and signs. `sign` gets the signing message and must return a 64-byte Ed25519 signature. */
export function signReceipt(r: Receipt, sign: (msg: Uint8Array) => Uint8Array): SignedReceipt {
  const body = encodeReceipt(r);
  return withSignature(r, body, new Uint8Array(sign(receiptSigningMessage(body))));
}

/**
 * A receipt with the given signature bytes, unchecked: for fixtures and simulations that need a
 * receipt whose signature does not verify. Throws WireError on a bad field or signature length.
 */
export function assembleReceipt(r: Receipt, signature: Uint8Array): SignedReceipt {
  return withSignature(r, encodeReceipt(r), copyBytes(signature));
}

function withSignature(r: Receipt, body: Uint8Array, signature: Uint8Array): SignedReceipt {
  if (signature.length !== RECEIPT_SIGNATURE_BYTES) {
    throw new WireError('BAD_LENGTH', `signature must be ${RECEIPT_SIGNATURE_BYTES} bytes`);
  }
  return { receipt: r, body, signature, bytes: concatBytes(body, signature) };
}

/**
 * Structural decode of exactly one receipt (153 bytes). Does not check the signature. needMore: a
 * proper prefix of something that could decode. Never throws.
 */
export function decodeReceipt(bytes: Uint8Array): DecodeResult<SignedReceipt> {
  return guardDecode(() => decodeUnchecked(bytes));
}

function decodeUnchecked(bytes: Uint8Array): DecodeResult<SignedReceipt> {
  for (let i = 0; i < RECEIPT_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== RECEIPT_MAGIC[i]) return decodeError('BAD_MAGIC', 'not a receipt (magic)');
  }
  if (bytes.length > RECEIPT_MAGIC.length && bytes[RECEIPT_MAGIC.length] !== RECEIPT_VERSION) {
    return decodeError('BAD_VERSION', `unsupported receipt version ${bytes[RECEIPT_MAGIC.length]}`);
  }
  if (bytes.length < RECEIPT_BYTES) return needMore;
  if (bytes.length > RECEIPT_BYTES) {
    return decodeError('TRAILING_BYTES', `${bytes.length - RECEIPT_BYTES} bytes follow the receipt`);
  }
  const r = new Reader(bytes, RECEIPT_BYTES);
  r.bytes(RECEIPT_MAGIC.length + 1);
  const receipt: Receipt = {
    epoch: r.u32(),
    relay: r.bytes(RECEIPT_KEY_BYTES),
    signer: r.bytes(RECEIPT_KEY_BYTES),
    tag: r.u64(),
    cells: r.u64(),
  };
  const signature = r.bytes(RECEIPT_SIGNATURE_BYTES);
  return {
    kind: 'ok',
    value: { receipt, body: copyBytes(bytes, 0, RECEIPT_BODY_BYTES), signature, bytes: copyBytes(bytes) },
    consumed: RECEIPT_BYTES,
  };
}

/**
 * The order of a claim's leaves (docs/economy.md, "Claims"): by signer key bytes, then tag. 0 only for
 * the same (signer, tag), which a claim may hold once.
 */
export function compareReceiptOrder(a: Receipt, b: Receipt): number {
  for (let i = 0; i < RECEIPT_KEY_BYTES; i++) {
    const d = (a.signer[i] ?? 0) - (b.signer[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0;
}

/** Bytes of a receipt's order key: signer (32) || tag u64 big-endian (8). */
export const RECEIPT_ORDER_KEY_BYTES = RECEIPT_KEY_BYTES + 8;

/**
 * A receipt's key in a claim's Merkle sum tree (docs/economy.md, "Claims"): signer || tag u64, so that
 * comparing keys as bytes is compareReceiptOrder.
 */
export function receiptOrderKey(r: Receipt): Uint8Array {
  const out = new Uint8Array(RECEIPT_ORDER_KEY_BYTES);
  out.set(r.signer.subarray(0, RECEIPT_KEY_BYTES));
  new DataView(out.buffer).setBigUint64(RECEIPT_KEY_BYTES, r.tag);
  return out;
}

function checkKey(v: Uint8Array, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== RECEIPT_KEY_BYTES) {
    throw new WireError('BAD_LENGTH', `${what} must be ${RECEIPT_KEY_BYTES} bytes`);
  }
}
