// The receipts a relay holds for its own work (docs/economy.md, "Link receipts"): the latest receipt per
// (epoch, signer, tag), so that when an epoch ends the relay can claim it. A receipt is kept only when
// it confirms this relay's cells, its epoch is the current or the previous one, and it counts more cells
// than the one it replaces. Bounded: at most `maxPerEpoch` circuits' receipts an epoch; past that new
// (signer, tag) pairs are refused and counted.
//
// Signatures: a circuit's first receipt is verified at once; the later ones (cumulative, each replacing
// the last) only when the epoch is claimed, and a newest one that fails falls back to the newest that
// verified. That is one Ed25519 verification per circuit link and epoch instead of one per MiB (bench/
// economy.ts); a neighbour that sends a forged newer receipt loses us no more than it could by sending
// none, which it can always do.
import { verifyReceiptSignature } from '../crypto/receipt-signature.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { decodeReceipt, type SignedReceipt } from '../wire/receipt.ts';

export type ReceiptRefusal = 'MALFORMED' | 'BAD_SIGNATURE' | 'NOT_OURS' | 'WRONG_EPOCH' | 'STALE' | 'FULL';

export interface ReceiptBookStats {
  accepted: number;
  refused: Record<ReceiptRefusal, number>;
}

interface Kept {
  verified: SignedReceipt;
  pending: SignedReceipt | undefined;
}

function newest(k: Kept): SignedReceipt {
  return k.pending ?? k.verified;
}

export class ReceiptBook {
  readonly #own: Uint8Array;
  readonly #maxPerEpoch: number;
  /** epoch → (signer hex + tag) → the newest receipt that verified, and a newer one not checked yet. */
  readonly #byEpoch = new Map<number, Map<string, Kept>>();
  readonly stats: ReceiptBookStats = {
    accepted: 0,
    refused: { MALFORMED: 0, BAD_SIGNATURE: 0, NOT_OURS: 0, WRONG_EPOCH: 0, STALE: 0, FULL: 0 },
  };

  constructor(ownKey: Uint8Array, maxPerEpoch = 1_000_000) {
    this.#own = ownKey;
    this.#maxPerEpoch = maxPerEpoch;
  }

  /** Keeps `bytes` (a receipt from a neighbour) when it is good; why not, otherwise. */
  accept(bytes: Uint8Array, currentEpoch: number): ReceiptRefusal | null {
    const refused = this.#check(bytes, currentEpoch);
    if (refused !== null) this.stats.refused[refused]++;
    else this.stats.accepted++;
    return refused;
  }

  #check(bytes: Uint8Array, currentEpoch: number): ReceiptRefusal | null {
    const decoded = decodeReceipt(bytes);
    if (decoded.kind !== 'ok') return 'MALFORMED';
    const signed = decoded.value;
    const r = signed.receipt;
    if (!bytesEqual(r.relay, this.#own)) return 'NOT_OURS';
    if (r.epoch !== currentEpoch && r.epoch + 1 !== currentEpoch) return 'WRONG_EPOCH';
    let kept = this.#byEpoch.get(r.epoch);
    const key = `${Buffer.from(r.signer).toString('hex')}:${r.tag}`;
    const previous = kept?.get(key);
    if (previous !== undefined && newest(previous).receipt.cells >= r.cells) return 'STALE';
    if (previous === undefined) {
      if ((kept?.size ?? 0) >= this.#maxPerEpoch) return 'FULL';
      // Verified last: the cheap checks turn away most junk without an Ed25519 verification.
      if (!verifyReceiptSignature(signed)) return 'BAD_SIGNATURE';
      if (kept === undefined) {
        kept = new Map();
        this.#byEpoch.set(r.epoch, kept);
      }
      kept.set(key, { verified: signed, pending: undefined });
      return null;
    }
    previous.pending = signed;
    return null;
  }

  /** The kept receipts of `epoch`, every one verified (a newer one that does not verify is dropped). */
  receipts(epoch: number): SignedReceipt[] {
    const out: SignedReceipt[] = [];
    for (const k of this.#byEpoch.get(epoch)?.values() ?? []) {
      if (k.pending !== undefined) {
        if (verifyReceiptSignature(k.pending)) k.verified = k.pending;
        else this.stats.refused.BAD_SIGNATURE++;
        k.pending = undefined;
      }
      out.push(k.verified);
    }
    return out;
  }

  /** Cells confirmed so far in `epoch` (newest receipts, not all verified yet). */
  cells(epoch: number): bigint {
    let sum = 0n;
    for (const k of this.#byEpoch.get(epoch)?.values() ?? []) sum += newest(k).receipt.cells;
    return sum;
  }

  /** Forgets epochs before `epoch` (claimed, or too old to claim). */
  dropBefore(epoch: number): void {
    for (const e of this.#byEpoch.keys()) if (e < epoch) this.#byEpoch.delete(e);
  }
}
