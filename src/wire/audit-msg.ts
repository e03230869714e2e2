// Audit protocol messages (/anonnet/audit/1.0.0, docs/economy.md "Audits"): a validator asks a relay
// for the leaves of its claim that cover sampled positions; the relay answers, per position in the
// request's order, the covering leaf and its right-hand neighbour with their Merkle sum paths.
// Structure only: economy/audit.ts checks what an answer proves. The protocol id carries the version.
//
// All integers are unsigned big-endian.
//
//   request    epoch u32 | count u8 (1..255) | position u64 × count
//   response   count u8 (1..255) | entry × count
//   entry      leaf | hasNeighbour u8 (0 or 1) | leaf (when hasNeighbour = 1)
//   leaf       receipt (153: wire/receipt.ts, opaque here) | start u64 (where the leaf's range
//              starts in the claim's running sum) | steps u8 (0..32) | step × steps
//   step       sibling hash (32) | sibling sum u64 | sibling min (40) | sibling max (40) |
//              side u8 (0: the sibling is on the left, 1: right)                      (121 bytes)
//
// A key (min, max) is a receipt's signer (32) || tag u64: the smallest and largest leaf key below the
// sibling, so the validator can check the leaves' order at every level (crypto/merkle-sum.ts). The
// path's steps go from the leaf's level upwards. Every value has one encoding, so decode then encode
// gives the same bytes back. Nothing may follow a message.
import {
  MAX_MERKLE_DEPTH,
  MERKLE_HASH_BYTES,
  MERKLE_KEY_BYTES,
  type MerkleSumStep,
} from '../crypto/merkle-sum.ts';
import { guardDecode, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError } from './decode-result.ts';
import { WireError } from './errors.ts';
import { RECEIPT_BYTES } from './receipt.ts';

/** Most positions one request may ask for (the count is a u8; auditSamples defaults to 64). */
export const MAX_AUDIT_POSITIONS = 255;
export const AUDIT_STEP_BYTES = MERKLE_HASH_BYTES + 8 + 2 * MERKLE_KEY_BYTES + 1;
const MAX_LEAF_BYTES = RECEIPT_BYTES + 8 + 1 + MAX_MERKLE_DEPTH * AUDIT_STEP_BYTES;
export const MAX_AUDIT_REQUEST_BYTES = 4 + 1 + MAX_AUDIT_POSITIONS * 8;
/** 2,057,596 bytes: 255 entries of two leaves with 32-step paths. */
export const MAX_AUDIT_RESPONSE_BYTES = 1 + MAX_AUDIT_POSITIONS * (2 * MAX_LEAF_BYTES + 1);

export interface AuditRequest {
  readonly epoch: number;
  readonly positions: readonly bigint[];
}

export interface AuditLeaf {
  /** The receipt's 153 bytes, as the relay holds them (undecoded here). */
  readonly receipt: Uint8Array;
  readonly start: bigint;
  readonly steps: readonly MerkleSumStep[];
}

export interface AuditEntry {
  readonly leaf: AuditLeaf;
  /** The next leaf of the claim; null for the claim's last leaf. */
  readonly neighbour: AuditLeaf | null;
}

export interface AuditResponse {
  readonly entries: readonly AuditEntry[];
}

/** Throws WireError on a value the format cannot carry. */
export function encodeAuditRequest(req: AuditRequest): Uint8Array {
  checkCount(req.positions.length, 'positions');
  const w = new Writer().u32(req.epoch).u8(req.positions.length);
  for (const p of req.positions) w.u64(p);
  return w.finish();
}

/** Throws WireError on a value the format cannot carry. */
export function encodeAuditResponse(res: AuditResponse): Uint8Array {
  checkCount(res.entries.length, 'entries');
  const w = new Writer().u8(res.entries.length);
  for (const e of res.entries) {
    writeLeaf(w, e.leaf);
    w.u8(e.neighbour === null ? 0 : 1);
    if (e.neighbour !== null) writeLeaf(w, e.neighbour);
  }
  return w.finish();
}

/** Decodes exactly one request. Never throws. */
export function decodeAuditRequest(bytes: Uint8Array): DecodeResult<AuditRequest> {
  return guardDecode(() => {
    if (bytes.length > MAX_AUDIT_REQUEST_BYTES) return tooLarge(bytes.length, MAX_AUDIT_REQUEST_BYTES);
    const r = new Reader(bytes, MAX_AUDIT_REQUEST_BYTES);
    const epoch = r.u32();
    const count = r.u8();
    checkCount(count, 'positions');
    const positions: bigint[] = [];
    for (let i = 0; i < count; i++) positions.push(r.u64());
    return finish(r, { epoch, positions });
  });
}

/** Decodes exactly one response. Never throws. */
export function decodeAuditResponse(bytes: Uint8Array): DecodeResult<AuditResponse> {
  return guardDecode(() => {
    if (bytes.length > MAX_AUDIT_RESPONSE_BYTES) return tooLarge(bytes.length, MAX_AUDIT_RESPONSE_BYTES);
    const r = new Reader(bytes, MAX_AUDIT_RESPONSE_BYTES);
    const count = r.u8();
    checkCount(count, 'entries');
    const entries: AuditEntry[] = [];
    for (let i = 0; i < count; i++) {
      const leaf = readLeaf(r);
      const hasNeighbour = r.u8();
      if (hasNeighbour > 1)
        throw new WireError('BAD_FIELD', `hasNeighbour must be 0 or 1, got ${hasNeighbour}`);
      entries.push({ leaf, neighbour: hasNeighbour === 1 ? readLeaf(r) : null });
    }
    return finish(r, { entries });
  });
}

function writeLeaf(w: Writer, leaf: AuditLeaf): void {
  if (!(leaf.receipt instanceof Uint8Array) || leaf.receipt.length !== RECEIPT_BYTES) {
    throw new WireError('BAD_LENGTH', `a receipt is ${RECEIPT_BYTES} bytes`);
  }
  if (leaf.steps.length > MAX_MERKLE_DEPTH) {
    throw new WireError('TOO_MANY', `${leaf.steps.length} path steps, max ${MAX_MERKLE_DEPTH}`);
  }
  w.bytes(leaf.receipt).u64(leaf.start).u8(leaf.steps.length);
  for (const s of leaf.steps) {
    if (!(s.hash instanceof Uint8Array) || s.hash.length !== MERKLE_HASH_BYTES) {
      throw new WireError('BAD_LENGTH', `a sibling hash is ${MERKLE_HASH_BYTES} bytes`);
    }
    checkKey(s.min);
    checkKey(s.max);
    w.bytes(s.hash)
      .u64(s.sum)
      .bytes(s.min)
      .bytes(s.max)
      .u8(s.side === 'left' ? 0 : 1);
  }
}

function readLeaf(r: Reader): AuditLeaf {
  const receipt = r.bytes(RECEIPT_BYTES);
  const start = r.u64();
  const n = r.u8();
  if (n > MAX_MERKLE_DEPTH) throw new WireError('TOO_MANY', `${n} path steps, max ${MAX_MERKLE_DEPTH}`);
  const steps: MerkleSumStep[] = [];
  for (let i = 0; i < n; i++) {
    const hash = r.bytes(MERKLE_HASH_BYTES);
    const sum = r.u64();
    const min = r.bytes(MERKLE_KEY_BYTES);
    const max = r.bytes(MERKLE_KEY_BYTES);
    const side = r.u8();
    if (side > 1) throw new WireError('BAD_FIELD', `a path side must be 0 or 1, got ${side}`);
    steps.push({ hash, sum, min, max, side: side === 0 ? 'left' : 'right' });
  }
  return { receipt, start, steps };
}

function checkKey(k: Uint8Array): void {
  if (!(k instanceof Uint8Array) || k.length !== MERKLE_KEY_BYTES) {
    throw new WireError('BAD_LENGTH', `a sibling key is ${MERKLE_KEY_BYTES} bytes`);
  }
}

function checkCount(n: number, what: string): void {
  if (n < 1) throw new WireError('BAD_FIELD', `no ${what}: at least one is needed`);
  if (n > MAX_AUDIT_POSITIONS) throw new WireError('TOO_MANY', `${n} ${what}, max ${MAX_AUDIT_POSITIONS}`);
}

function finish<T>(r: Reader, value: T): DecodeResult<T> {
  if (r.remaining > 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes follow the message`);
  return { kind: 'ok', value, consumed: r.offset };
}

function tooLarge(n: number, max: number): DecodeResult<never> {
  return decodeError('TOO_LARGE', `message is ${n} bytes, max ${max}`);
}
