// Shared fixtures for receipts, claims and audits: deterministic identities, signed receipts, and
// fast-check arbitraries for receipts and Merkle paths.
import fc from 'fast-check';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import type { MerkleSumStep } from '../../../src/crypto/merkle-sum.ts';
import { signReceiptWith } from '../../../src/crypto/receipt-signature.ts';
import type { AuditLeaf, AuditRequest, AuditResponse } from '../../../src/wire/audit-msg.ts';
import type { Receipt, SignedReceipt } from '../../../src/wire/receipt.ts';

export const relay: Identity = identityFromSeed(new Uint8Array(32).fill(0x11));
export const otherRelay: Identity = identityFromSeed(new Uint8Array(32).fill(0x12));
/** Receivers that sign receipts, in no particular key order. */
export const signers: readonly Identity[] = Array.from({ length: 8 }, (_, i) =>
  identityFromSeed(new Uint8Array(32).fill(0x40 + i)),
);

export function signed(
  signer: Identity,
  cells: bigint,
  tag: bigint,
  over: Partial<Receipt> = {},
): SignedReceipt {
  return signReceiptWith(signer, {
    epoch: 7,
    relay: relay.publicKey,
    signer: signer.publicKey,
    tag,
    cells,
    ...over,
  });
}

const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

export const arbReceipt: fc.Arbitrary<Receipt> = fc.record(
  { epoch: fc.nat(0xffffffff), relay: key, signer: key, tag: u64, cells: u64 },
  { noNullPrototype: true },
);

export const arbSignature: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 64, maxLength: 64 });

const orderKey = fc.uint8Array({ minLength: 40, maxLength: 40 });

export const arbStep: fc.Arbitrary<MerkleSumStep> = fc.record(
  {
    hash: key,
    sum: u64,
    min: orderKey,
    max: orderKey,
    side: fc.constantFrom('left' as const, 'right' as const),
  },
  { noNullPrototype: true },
);

export const arbRequest: fc.Arbitrary<AuditRequest> = fc.record(
  { epoch: fc.nat(0xffffffff), positions: fc.array(u64, { minLength: 1, maxLength: 60 }) },
  { noNullPrototype: true },
);
const arbLeaf: fc.Arbitrary<AuditLeaf> = fc.record(
  {
    receipt: fc.uint8Array({ minLength: 153, maxLength: 153 }),
    start: u64,
    steps: fc.array(arbStep, { maxLength: 8 }),
  },
  { noNullPrototype: true },
);
export const arbResponse: fc.Arbitrary<AuditResponse> = fc.record(
  {
    entries: fc.array(
      fc.record({ leaf: arbLeaf, neighbour: fc.option(arbLeaf, { nil: null }) }, { noNullPrototype: true }),
      { minLength: 1, maxLength: 6 },
    ),
  },
  { noNullPrototype: true },
);
