// A simulated relay's claim for one epoch, built from leaves as the real code builds them: receipts in
// the wire format (wire/receipt.ts), a Merkle sum tree over them (crypto/merkle-sum.ts), and the answer to
// an audit (economy/claim.ts). Receipts are not signed with Ed25519 (a million claims would take hours):
// a receipt's first signature byte says whether its signature would verify (1) or is forged (0), and
// the audit checks that byte where it would check the signature. Everything else is the real code.
import { MerkleSumTree } from '../../../src/crypto/merkle-sum.ts';
import { type AuditResult, checkAuditAnswer, samplePositions } from '../../../src/economy/audit.ts';
import { answerAudit, type ClaimTree, type RelayClaim, receiptLeaf } from '../../../src/economy/claim.ts';
import {
  assembleReceipt,
  compareReceiptOrder,
  RECEIPT_ORDER_KEY_BYTES,
  type SignedReceipt,
} from '../../../src/wire/receipt.ts';
import type { Prng } from '../../../test/sim/prng.ts';
import type { LieMethod } from './population.ts';

const VALID = new Uint8Array(64).fill(1);
const FORGED = new Uint8Array(64);

/** The simulation's stand-in for Ed25519 verification (see the header). */
export function simVerify(signed: SignedReceipt): boolean {
  return signed.signature[0] === 1;
}

/**
 * A leaf as a relay commits it: the receipt, the value it puts in the tree and, when the tree states
 * another key than the receipt's (signer, tag), that key (a liar's may differ in both).
 */
export interface SimLeaf {
  readonly receipt: SignedReceipt;
  readonly sum: bigint;
  readonly key?: Uint8Array;
}

export interface SimClaim extends ClaimTree {
  readonly claim: RelayClaim;
}

function key(prng: Prng): Uint8Array {
  return prng.bytes(32);
}

function tag(prng: Prng): bigint {
  return (BigInt(prng.u32()) << 32n) | BigInt(prng.u32());
}

function receipt(
  relay: Uint8Array,
  epoch: number,
  signer: Uint8Array,
  t: bigint,
  cells: bigint,
  valid: boolean,
) {
  return assembleReceipt({ epoch, relay, signer, tag: t, cells }, valid ? VALID : FORGED);
}

/** `total` split into `parts` positive pieces (fewer when total is smaller), at random. */
export function split(total: bigint, parts: number, prng: Prng): bigint[] {
  const n = Number(total < BigInt(parts) ? total : BigInt(parts));
  if (n <= 0) return [];
  // Heavy-tailed, as circuits are: most carry little, a few carry most (weights 1..e^4).
  const weights = Array.from({ length: n }, () => Math.exp(4 * prng.float()));
  const sum = weights.reduce((s, w) => s + w, 0);
  const out = weights.map((w) => 1n + BigInt(Math.floor((w / sum) * Number(total - BigInt(n)))));
  out[0] = (out[0] as bigint) + total - out.reduce((s, v) => s + v, 0n);
  return out;
}

/** Receipts of the cells a relay really carried: one per circuit and direction, signed by its peers. */
export function honestReceipts(
  prng: Prng,
  relay: Uint8Array,
  epoch: number,
  cells: bigint,
  count: number,
): SignedReceipt[] {
  return split(cells, count, prng).map((c) => receipt(relay, epoch, key(prng), tag(prng), c, true));
}

/** Fake receipts a colluding partner signs (validly) to fill the claim up to `extra` more cells. */
export function partnerReceipts(
  prng: Prng,
  relay: Uint8Array,
  epoch: number,
  partner: Uint8Array,
  extra: bigint,
): SignedReceipt[] {
  return split(extra, prng.int(1, 3), prng).map((c) => receipt(relay, epoch, partner, tag(prng), c, true));
}

function sorted(receipts: readonly SignedReceipt[]): SignedReceipt[] {
  return [...receipts].sort((a, b) => compareReceiptOrder(a.receipt, b.receipt));
}

/** An honest relay's leaves: its receipts sorted, each valued at its cells. */
export function honestLeaves(receipts: readonly SignedReceipt[]): SimLeaf[] {
  return sorted(receipts).map((r) => ({ receipt: r, sum: r.receipt.cells }));
}

/**
 * A liar's leaves, claiming about `extra` cells more than its receipts prove, each method placed as
 * cleverly as the checks of docs/economy.md allow:
 *   fake-leaf  1..3 receipts with forged signatures (random signers: they sort anywhere)
 *   fake-sum   the smallest leaf valued at its cells + extra (the range a sample must hit is smallest)
 *   duplicate  copies of real receipts (up to extra), first in the tree, which states made-up keys for
 *              them (0^32 || i) below every real key: every level is then in order, so only a sample
 *              on a copy fails (its receipt's key is not the one stated), and no real leaf has a copy
 *              as its right-hand neighbour. Copies under their real keys would fail more paths: every
 *              path through the common ancestor of a copy and a greater real leaf.
 */
export function lyingLeaves(
  prng: Prng,
  method: LieMethod,
  relay: Uint8Array,
  epoch: number,
  receipts: readonly SignedReceipt[],
  extra: bigint,
): SimLeaf[] {
  const leaves = honestLeaves(receipts);
  if (extra <= 0n) return leaves;
  switch (method) {
    case 'fake-leaf': {
      const fakes = split(extra, prng.int(1, 3), prng).map((c) =>
        receipt(relay, epoch, key(prng), tag(prng), c, false),
      );
      return honestLeaves([...receipts, ...fakes]);
    }
    case 'fake-sum': {
      let smallest = 0;
      leaves.forEach((l, i) => {
        if (l.sum < (leaves[smallest] as SimLeaf).sum) smallest = i;
      });
      return leaves.map((l, i) => (i === smallest ? { ...l, sum: l.sum + extra } : l));
    }
    case 'duplicate':
      return duplicated(leaves, extra);
  }
}

function duplicated(leaves: readonly SimLeaf[], extra: bigint): SimLeaf[] {
  const copies: SimLeaf[] = [];
  let added = 0n;
  // Copies of leaves in order that keep within extra + 25% (at least one).
  for (let i = 0; i < leaves.length && added < extra; i++) {
    const v = (leaves[i] as SimLeaf).sum;
    if (added + v > extra + extra / 4n && !(copies.length === 0 && i === leaves.length - 1)) continue;
    copies.push({ ...(leaves[i] as SimLeaf), key: madeUpKey(copies.length) });
    added += v;
  }
  return [...copies, ...leaves];
}

/** 0^32 || i: below the key of any receipt whose signer is not all zeros. */
function madeUpKey(i: number): Uint8Array {
  const key = new Uint8Array(RECEIPT_ORDER_KEY_BYTES);
  new DataView(key.buffer).setBigUint64(RECEIPT_ORDER_KEY_BYTES - 8, BigInt(i));
  return key;
}

/** The claim a relay commits over its leaves (in the order given). */
export function commit(relay: Uint8Array, epoch: number, leaves: readonly SimLeaf[]): SimClaim {
  const tree = MerkleSumTree.build(
    leaves.map((l) => {
      const leaf = receiptLeaf(l.receipt);
      const key = l.key ?? leaf.min;
      return { hash: leaf.hash, sum: l.sum, min: key, max: key };
    }),
  );
  return {
    tree,
    receipts: leaves.map((l) => l.receipt.bytes),
    claim: { relayKey: relay, epoch, cells: tree.root.sum, leaves: tree.leafCount, root: tree.root.hash },
  };
}

/** One audit as a validator runs it: sample, ask the relay (which answers from its tree), check. */
export function audit(c: SimClaim, claimTxId: Uint8Array, samples: number): AuditResult {
  const positions = samplePositions(claimTxId, c.claim.cells, samples);
  if (positions.length === 0) return { ok: true };
  return checkAuditAnswer(c.claim, positions, answerAudit(c, positions), { verifyReceipt: simVerify });
}
