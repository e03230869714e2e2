// Signing and checking link receipts (wire/receipt.ts) with Ed25519 keys (./identity.ts). The codec
// stays free of keys, as the ledger transaction codec does; this is where a key meets the bytes.
import { bytesEqual } from '../wire/bytes.ts';
import { type Receipt, receiptSigningMessage, type SignedReceipt, signReceipt } from '../wire/receipt.ts';
import { CryptoError } from './errors.ts';
import { type Identity, verifySignature } from './identity.ts';

/** A receipt signed by `signer`. Throws CryptoError 'BAD_KEY' when `receipt.signer` is another key. */
export function signReceiptWith(signer: Identity, receipt: Receipt): SignedReceipt {
  if (!bytesEqual(receipt.signer, signer.publicKey)) {
    throw new CryptoError('BAD_KEY', 'the receipt names another signer');
  }
  return signReceipt(receipt, (m) => signer.sign(m));
}

/** True when the signature verifies against the receipt's own signer key. Never throws. */
export function verifyReceiptSignature(signed: SignedReceipt): boolean {
  return verifySignature(signed.receipt.signer, receiptSigningMessage(signed.body), signed.signature);
}
