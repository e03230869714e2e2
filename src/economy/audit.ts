// Audits of relay claims (docs/economy.md, "Audits"), the validator's pure side: which positions of a
// claim to sample, and whether a relay's answer proves the leaves covering them. The protocol driver
// (asking the relay, the audit window, the verdict transaction) lives elsewhere.
//
//   p_i = SHA-256("anonnet-audit" || claim txId || i u32) as a 256-bit big-endian integer mod cells
//
// A sampled position lands in a leaf with probability proportional to its value, so inflating a claim
// by a share q of its total is caught with probability 1 - (1 - q)^samples. That holds for receipts
// counted twice too: every path is checked for strict (signer, tag) order at each level (the tree's
// nodes commit their smallest and largest key), so of two leaves with one (signer, tag) at most one has
// a path that passes, and the copies' share of the total is what a sample must hit.
import { hash } from 'node:crypto';
import {
  type MerkleSumProof,
  merkleLeaf,
  merkleLeafHash,
  pathIndex,
  proofStart,
  walkProof,
} from '../crypto/merkle-sum.ts';
import { verifyReceiptSignature } from '../crypto/receipt-signature.ts';
import { type AuditLeaf, type AuditResponse, MAX_AUDIT_POSITIONS } from '../wire/audit-msg.ts';
import { bytesEqual } from '../wire/bytes.ts';
import {
  compareReceiptOrder,
  decodeReceipt,
  type Receipt,
  receiptOrderKey,
  type SignedReceipt,
} from '../wire/receipt.ts';
import type { RelayClaim } from './claim.ts';
import { EconomyError } from './errors.ts';

export const AUDIT_CONTEXT = 'anonnet-audit';
export const CLAIM_TX_ID_BYTES = 32;

/** Why an answer fails. Stable codes: verdict transactions and logs carry them. */
export type AuditFailReason =
  /** Not one entry per sampled position. */
  | 'WRONG_COUNT'
  /** Leaf bytes that are not a receipt. */
  | 'BAD_RECEIPT'
  /** The receipt's signature does not verify against its signer. */
  | 'BAD_SIGNATURE'
  /** The receipt confirms another relay's cells. */
  | 'WRONG_RELAY'
  /** The receipt is of another epoch than the claim. */
  | 'WRONG_EPOCH'
  /**
   * The path, with the receipt's cells as the leaf's value and its (signer, tag) as the leaf's key,
   * does not recompute the claim's root and total.
   */
  | 'BAD_PATH'
  /**
   * The path recomputes the root, but at some level the keys are not strictly ascending
   * (left.max < right.min, and min <= max on both sides): leaves out of order, or a receipt counted twice.
   */
  | 'NOT_SORTED'
  /** The start offset given is not where the path puts the leaf. */
  | 'BAD_START'
  /** The leaf's range does not hold the sampled position. */
  | 'NOT_COVERED'
  /** No neighbour given, but the covering leaf is not the claim's last. */
  | 'MISSING_NEIGHBOUR'
  /** A neighbour that is not the next leaf (or one given after the last leaf). */
  | 'BAD_NEIGHBOUR'
  /**
   * The neighbour's (signer, tag) is not strictly greater. Two sorted paths to one root already imply
   * it (so it needs a hash collision); kept as a cheap second check.
   */
  | 'NOT_ASCENDING';

export type AuditResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: AuditFailReason; readonly sample: number };

export interface AuditCheckOptions {
  /**
   * Checks a receipt's signature. Ed25519 by default; a simulation that models forged receipts
   * without signing every one passes its own.
   */
  readonly verifyReceipt?: (signed: SignedReceipt) => boolean;
}

const CONTEXT_BYTES = new TextEncoder().encode(AUDIT_CONTEXT);

/**
 * The sampled positions of a claim: `samples` points in [0, cells), from the claim transaction's id.
 * None when cells is 0. Throws EconomyError 'BAD_ARGUMENT' on a txId that is not 32 bytes or a sample
 * count outside 1..MAX_AUDIT_POSITIONS.
 */
export function samplePositions(claimTxId: Uint8Array, cells: bigint, samples: number): bigint[] {
  if (claimTxId.length !== CLAIM_TX_ID_BYTES) {
    throw new EconomyError('BAD_ARGUMENT', `a claim txId is ${CLAIM_TX_ID_BYTES} bytes`);
  }
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_AUDIT_POSITIONS) {
    throw new EconomyError('BAD_ARGUMENT', `${samples} samples: must be 1..${MAX_AUDIT_POSITIONS}`);
  }
  if (cells <= 0n) return [];
  const input = new Uint8Array(CONTEXT_BYTES.length + CLAIM_TX_ID_BYTES + 4);
  input.set(CONTEXT_BYTES);
  input.set(claimTxId, CONTEXT_BYTES.length);
  const view = new DataView(input.buffer);
  const out: bigint[] = [];
  for (let i = 0; i < samples; i++) {
    view.setUint32(input.length - 4, i);
    // One parse of the hex digest: about twice as fast as assembling four u64 reads.
    out.push(BigInt(`0x${hash('sha256', input, 'hex')}`) % cells);
  }
  return out;
}

/** A leaf of an answer that passed the per-leaf checks: its receipt, index and range. */
interface CheckedLeaf {
  readonly receipt: Receipt;
  readonly index: number;
  readonly start: bigint;
}

type LeafCheck = CheckedLeaf | AuditFailReason;

/**
 * Step 3 of "Audits": does `answer` prove every sampled position of `claim`? For each entry: both
 * receipts decode, confirm this relay's cells in this epoch and carry a valid signature; their paths,
 * with the receipts' cells as leaf values and (signer, tag) as leaf keys, recompute the claim's root
 * and total and are in strict key order at every level; the covering leaf's range holds the position;
 * the neighbour is the next leaf (none only after the last) and its (signer, tag) is strictly greater.
 * The first failure is the answer. Never throws.
 */
export function checkAuditAnswer(
  claim: RelayClaim,
  positions: readonly bigint[],
  answer: AuditResponse,
  options: AuditCheckOptions = {},
): AuditResult {
  if (answer.entries.length !== positions.length) return { ok: false, reason: 'WRONG_COUNT', sample: 0 };
  const verify = options.verifyReceipt ?? verifyReceiptSignature;
  // An answer names the same leaf for many positions: check each once. By object first (an answer
  // built in memory shares them), then by content (a decoded answer has one object per entry).
  const byObject = new Map<AuditLeaf, LeafCheck>();
  const byContent = new Map<string, LeafCheck>();
  const check = (leaf: AuditLeaf): LeafCheck => {
    let r = byObject.get(leaf);
    if (r !== undefined) return r;
    const key = leafKey(leaf);
    r = byContent.get(key);
    if (r === undefined) {
      r = checkLeaf(claim, leaf, verify);
      byContent.set(key, r);
    }
    byObject.set(leaf, r);
    return r;
  };
  for (let k = 0; k < positions.length; k++) {
    const reason = checkEntry(claim, positions[k] as bigint, answer.entries[k]!, check);
    if (reason !== undefined) return { ok: false, reason, sample: k };
  }
  return { ok: true };
}

function checkEntry(
  claim: RelayClaim,
  p: bigint,
  entry: AuditResponse['entries'][number],
  check: (leaf: AuditLeaf) => LeafCheck,
): AuditFailReason | undefined {
  const leaf = check(entry.leaf);
  if (typeof leaf === 'string') return leaf;
  if (p < leaf.start || p >= leaf.start + leaf.receipt.cells) return 'NOT_COVERED';
  const last = leaf.index === claim.leaves - 1;
  if (entry.neighbour === null) return last ? undefined : 'MISSING_NEIGHBOUR';
  if (last) return 'BAD_NEIGHBOUR';
  const next = check(entry.neighbour);
  if (typeof next === 'string') return next;
  if (next.index !== leaf.index + 1) return 'BAD_NEIGHBOUR';
  if (compareReceiptOrder(next.receipt, leaf.receipt) <= 0) return 'NOT_ASCENDING';
  return undefined;
}

function checkLeaf(
  claim: RelayClaim,
  leaf: AuditLeaf,
  verify: (signed: SignedReceipt) => boolean,
): LeafCheck {
  const decoded = decodeReceipt(leaf.receipt);
  if (decoded.kind !== 'ok') return 'BAD_RECEIPT';
  const signed = decoded.value;
  const receipt = signed.receipt;
  if (!bytesEqual(receipt.relay, claim.relayKey)) return 'WRONG_RELAY';
  if (receipt.epoch !== claim.epoch) return 'WRONG_EPOCH';
  const index = pathIndex(
    leaf.steps.map((s) => s.side),
    claim.leaves,
  );
  if (index === undefined) return 'BAD_PATH';
  // The leaf's key is read from the receipt: a tree that states another key for it does not recompute.
  const proof: MerkleSumProof = {
    index,
    leafCount: claim.leaves,
    leaf: merkleLeaf(merkleLeafHash(signed.bytes), receipt.cells, receiptOrderKey(receipt)),
    steps: leaf.steps,
  };
  const walk = walkProof(proof);
  if (walk === undefined || walk.root.sum !== claim.cells || !bytesEqual(walk.root.hash, claim.root)) {
    return 'BAD_PATH';
  }
  if (!walk.sorted) return 'NOT_SORTED';
  const start = proofStart(proof);
  if (start !== leaf.start) return 'BAD_START';
  // Last: the one check that costs an Ed25519 verification.
  if (!verify(signed)) return 'BAD_SIGNATURE';
  return { receipt, index, start };
}

/** Identifies a leaf of an answer by everything it carries (an answer may repeat a leaf per position). */
function leafKey(leaf: AuditLeaf): string {
  let key = `${Buffer.from(leaf.receipt).toString('latin1')}|${leaf.start}`;
  for (const s of leaf.steps) {
    // Lengths too: a leaf built in memory may carry fields of the wrong size (the codec's cannot).
    const bytes = Buffer.concat([s.hash, s.min, s.max]).toString('latin1');
    key += `|${s.hash.length},${s.min.length},${s.max.length}:${bytes}${s.side}${s.sum}`;
  }
  return key;
}
