// Transaction signature checks with a bounded memo of the ones that verified. A node sees the same
// transaction several times: on arrival in the mempool, when proposing, in the mempool's replay after
// each commit, when validating the proposed block and again when committing it; only the first check
// needs Ed25519. The memo key is the exact (sender key, signed body, signature): it can only ever say
// "these exact bytes verified before", so a verdict never depends on what the node saw earlier and
// the ledger stays deterministic. Failures are never remembered. Public key objects are memoized too
// (parsing a raw key is a large part of one verification). Pure: no I/O, no clock.
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/identity.ts';
import { type SignedTx, txSigningMessage } from '../wire/ledger-tx.ts';

/** Covers a full mempool (5000) plus a few blocks in flight. */
const MAX_VERIFIED = 16_384;
const MAX_KEYS = 4096;

const verified = new Set<string>();
const keys = new Map<string, KeyObject>();

/** True when the transaction's signature verifies against its sender key. Never throws. */
export function verifyTxSignature(signed: SignedTx): boolean {
  const sender = signed.tx.sender;
  if (sender.length !== ED25519_PUBLIC_KEY_BYTES || signed.signature.length !== ED25519_SIGNATURE_BYTES) {
    return false;
  }
  const senderHex = hex(sender);
  // latin1 maps each byte to one char: an exact, collision-free key of the three inputs.
  const memo = `${senderHex}${latin1(signed.signature)}${latin1(signed.body)}`;
  if (verified.has(memo)) return true;
  let ok: boolean;
  try {
    ok = verify(null, txSigningMessage(signed.body), keyObject(senderHex, sender), signed.signature);
  } catch {
    return false;
  }
  if (ok) {
    if (verified.size >= MAX_VERIFIED) verified.delete(verified.values().next().value as string);
    verified.add(memo);
  }
  return ok;
}

function keyObject(senderHex: string, raw: Uint8Array): KeyObject {
  let k = keys.get(senderHex);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.from(raw), format: 'raw-public', asymmetricKeyType: 'ed25519' });
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value as string);
    keys.set(senderHex, k);
  } else {
    // Most recently used last, so busy senders stay.
    keys.delete(senderHex);
    keys.set(senderHex, k);
  }
  return k;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Forgets every memo (benchmarks measure cold verification with it). */
export function clearVerifiedTxSignatures(): void {
  verified.clear();
  keys.clear();
}
