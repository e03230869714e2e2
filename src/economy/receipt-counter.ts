// The receiving side of one circuit link direction (docs/economy.md, "Link receipts"): counts the cells
// received from the neighbour and, every RECEIPT_EVERY_CELLS and at close, signs a cumulative receipt for
// it. The count restarts, under a new random tag, when the ledger epoch changes (after a last receipt
// for the old epoch). No I/O: the caller sends what `count` and `flush` return.
import { randomBytes } from 'node:crypto';
import type { SignedReceipt } from '../wire/receipt.ts';

/** Cells between two receipts: 512 cells of 2048 bytes, 1 MiB. */
export const RECEIPT_EVERY_CELLS = 512n;

/** What a counter needs from its node: the epoch now, and a signer. */
export interface ReceiptSigner {
  /** The ledger epoch now, or undefined when the node follows no ledger (then no receipts). */
  epoch(): number | undefined;
  /** Signs a receipt confirming `cells` cells from `relay` (the signer's key is the node's, or a throwaway). */
  sign(epoch: number, relay: Uint8Array, tag: bigint, cells: bigint): SignedReceipt;
}

export class ReceiptCounter {
  readonly #signer: ReceiptSigner;
  readonly #relay: Uint8Array;
  #epoch: number | undefined;
  #tag = 0n;
  #cells = 0n;
  #sent = 0n;

  /** `relay`: the identity key of the neighbour whose cells this counts. */
  constructor(signer: ReceiptSigner, relay: Uint8Array) {
    this.#signer = signer;
    this.#relay = relay;
  }

  /** One more cell received; the receipts to send now (none most of the time). */
  count(): SignedReceipt[] | undefined {
    const epoch = this.#signer.epoch();
    if (epoch === undefined) return undefined;
    let out: SignedReceipt[] | undefined;
    if (epoch !== this.#epoch) {
      const last = this.flush();
      if (last !== undefined) out = [last];
      this.#epoch = epoch;
      this.#tag = randomBytes(8).readBigUInt64BE(0);
      this.#cells = 0n;
      this.#sent = 0n;
    }
    this.#cells++;
    if (this.#cells - this.#sent >= RECEIPT_EVERY_CELLS) {
      const r = this.flush();
      if (r !== undefined) {
        out ??= [];
        out.push(r);
      }
    }
    return out;
  }

  /** A receipt for what was counted since the last one, or undefined when nothing was. */
  flush(): SignedReceipt | undefined {
    if (this.#epoch === undefined || this.#cells === this.#sent) return undefined;
    this.#sent = this.#cells;
    return this.#signer.sign(this.#epoch, this.#relay, this.#tag, this.#cells);
  }
}
