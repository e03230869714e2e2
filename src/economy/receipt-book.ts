// The receipts a relay holds for its own work (docs/economy.md, "Link receipts"): the latest receipt per
// (epoch, signer, tag), so that when an epoch ends the relay can claim it. A receipt is kept only when
// its signature verifies, it confirms this relay's cells, its epoch is the current or the previous one,
// and it does not count fewer cells than the one it replaces. Bounded: at most `maxPerEpoch` circuits'
// receipts an epoch; past that new (signer, tag) pairs are refused and counted.
import { verifyReceiptSignature } from '../crypto/receipt-signature.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { decodeReceipt, type SignedReceipt } from '../wire/receipt.ts';

export type ReceiptRefusal = 'MALFORMED' | 'BAD_SIGNATURE' | 'NOT_OURS' | 'WRONG_EPOCH' | 'STALE' | 'FULL';

export interface ReceiptBookStats {
  accepted: number;
  refused: Record<ReceiptRefusal, number>;
}

export class ReceiptBook {
  readonly #own: Uint8Array;
  readonly #maxPerEpoch: number;
  /** epoch → (signer hex + tag) → latest receipt. */
  readonly #byEpoch = new Map<number, Map<string, SignedReceipt>>();
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
    if (previous !== undefined && previous.receipt.cells >= r.cells) return 'STALE';
    if (previous === undefined && (kept?.size ?? 0) >= this.#maxPerEpoch) return 'FULL';
    // Verified last: the cheap checks turn away most junk without an Ed25519 verification.
    if (!verifyReceiptSignature(signed)) return 'BAD_SIGNATURE';
    if (kept === undefined) {
      kept = new Map();
      this.#byEpoch.set(r.epoch, kept);
    }
    kept.set(key, signed);
    return null;
  }

  /** The kept receipts of `epoch`. */
  receipts(epoch: number): SignedReceipt[] {
    return [...(this.#byEpoch.get(epoch)?.values() ?? [])];
  }

  /** Cells confirmed so far in `epoch`. */
  cells(epoch: number): bigint {
    let sum = 0n;
    for (const s of this.#byEpoch.get(epoch)?.values() ?? []) sum += s.receipt.cells;
    return sum;
  }

  /** Forgets epochs before `epoch` (claimed, or too old to claim). */
  dropBefore(epoch: number): void {
    for (const e of this.#byEpoch.keys()) if (e < epoch) this.#byEpoch.delete(e);
  }
}
