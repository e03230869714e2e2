// What the circuit layer needs from the economy (docs/economy.md, "Link receipts"): a signer for the
// receipts this node gives its neighbours, a place for the receipts they give it, and, on a client, a
// throwaway signer per circuit (so a client's receipts link nothing to it).
import { generateIdentity, type Identity } from '../crypto/identity.ts';
import { signReceiptWith } from '../crypto/receipt-signature.ts';
import type { ReceiptSigner } from './receipt-counter.ts';

export interface CircuitEconomy {
  /** Signs with the node's identity key (a relay's receipts for its neighbours). */
  readonly signer: ReceiptSigner;
  /** A receipt a neighbour sent on a circuit link (the body of a RECEIPT cell). */
  accept(receipt: Uint8Array): void;
  /** A signer with a fresh key, for one client circuit. */
  throwawaySigner(): ReceiptSigner;
}

/** A ReceiptSigner for `identity`, reading the epoch from `epoch`. */
export function receiptSigner(identity: Identity, epoch: () => number | undefined): ReceiptSigner {
  return {
    epoch,
    sign: (e, relay, tag, cells) =>
      signReceiptWith(identity, { epoch: e, relay, signer: identity.publicKey, tag, cells }),
  };
}

/** A ReceiptSigner with a key made for it alone. */
export function throwawaySigner(epoch: () => number | undefined): ReceiptSigner {
  return receiptSigner(generateIdentity(), epoch);
}
