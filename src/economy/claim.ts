// A relay's claim for one epoch (docs/economy.md, "Claims"): its kept receipts sorted by (signer, tag),
// a Merkle sum tree over them whose nodes also commit the smallest and largest (signer, tag) below them
// (so every audited path proves the order around it), and the root and total that go on the ledger.
// Also the relay's side of an audit: the covering leaf and its right-hand neighbour, with their paths,
// for each sampled position.
// Pure: the receipts are already verified (signature, relay, epoch) when the relay kept them.
import { type MerkleSumNode, MerkleSumTree, merkleLeaf, merkleLeafHash } from '../crypto/merkle-sum.ts';
import type { AuditEntry, AuditLeaf, AuditResponse } from '../wire/audit-msg.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { compareReceiptOrder, receiptOrderKey, type SignedReceipt } from '../wire/receipt.ts';
import { EconomyError } from './errors.ts';

/** What RELAY_CLAIM commits on the ledger, with the claimant and epoch it is for. */
export interface RelayClaim {
  readonly relayKey: Uint8Array;
  readonly epoch: number;
  /** root.sum: the cells claimed. */
  readonly cells: bigint;
  /** How many leaves (receipts) the tree has. */
  readonly leaves: number;
  /** root.hash */
  readonly root: Uint8Array;
}

/** A claim with what the relay keeps to answer audits: the tree and each leaf's receipt bytes. */
export interface ClaimTree {
  readonly tree: MerkleSumTree;
  /** The 153 receipt bytes of leaf i, in leaf order. */
  readonly receipts: readonly Uint8Array[];
}

export interface BuiltClaim extends ClaimTree {
  readonly claim: RelayClaim;
}

/** A claim leaf: (SHA-256(0x00 || receipt), cells, key, key) with key = signer || tag u64. */
export function receiptLeaf(signed: SignedReceipt): MerkleSumNode {
  return merkleLeaf(merkleLeafHash(signed.bytes), signed.receipt.cells, receiptOrderKey(signed.receipt));
}

/**
 * The claim over a relay's kept receipts of one epoch (in any order). Throws EconomyError
 * 'BAD_RECEIPTS' when there are none, one is for another relay or epoch, or a (signer, tag) repeats.
 */
export function buildClaim(
  relayKey: Uint8Array,
  epoch: number,
  receipts: readonly SignedReceipt[],
): BuiltClaim {
  if (receipts.length === 0) throw new EconomyError('BAD_RECEIPTS', 'no receipts to claim');
  const sorted = [...receipts].sort((a, b) => compareReceiptOrder(a.receipt, b.receipt));
  for (let i = 0; i < sorted.length; i++) {
    const r = (sorted[i] as SignedReceipt).receipt;
    if (!bytesEqual(r.relay, relayKey)) throw new EconomyError('BAD_RECEIPTS', 'a receipt for another relay');
    if (r.epoch !== epoch)
      throw new EconomyError('BAD_RECEIPTS', `a receipt of epoch ${r.epoch}, not ${epoch}`);
    const prev = sorted[i - 1];
    if (prev !== undefined && compareReceiptOrder(prev.receipt, r) === 0) {
      throw new EconomyError('BAD_RECEIPTS', 'two receipts with one (signer, tag)');
    }
  }
  const tree = MerkleSumTree.build(sorted.map(receiptLeaf));
  const claim: RelayClaim = {
    relayKey,
    epoch,
    cells: tree.root.sum,
    leaves: tree.leafCount,
    root: tree.root.hash,
  };
  return { claim, tree, receipts: sorted.map((s) => s.bytes) };
}

/**
 * The relay's answer to an audit request: per position, the covering leaf and its right-hand neighbour
 * (null after the last leaf). Throws EconomyError 'BAD_ARGUMENT' for a position outside [0, total).
 */
export function answerAudit(claim: ClaimTree, positions: readonly bigint[]): AuditResponse {
  if (claim.receipts.length !== claim.tree.leafCount) {
    throw new EconomyError('BAD_ARGUMENT', "the receipts are not the tree's leaves");
  }
  const leaves = new Map<number, AuditLeaf>();
  const leafAt = (i: number): AuditLeaf => {
    let leaf = leaves.get(i);
    if (leaf === undefined) {
      leaf = {
        receipt: claim.receipts[i] as Uint8Array,
        start: claim.tree.start(i),
        steps: claim.tree.proof(i).steps,
      };
      leaves.set(i, leaf);
    }
    return leaf;
  };
  const entries: AuditEntry[] = positions.map((p) => {
    const i = claim.tree.covering(p);
    if (i === undefined) throw new EconomyError('BAD_ARGUMENT', `position ${p} is outside the claim`);
    return { leaf: leafAt(i), neighbour: i + 1 < claim.tree.leafCount ? leafAt(i + 1) : null };
  });
  return { entries };
}
