// Shared fixtures for ledger and ledger-tx tests: deterministic identities, one sample transaction of
// every kind, a signer, and fast-check arbitraries for Tx.
import fc from 'fast-check';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import { type SignedTx, signTx, type Tx, type TxBody } from '../../../src/wire/ledger-tx.ts';

export const ids: readonly Identity[] = Array.from({ length: 6 }, (_, i) =>
  identityFromSeed(new Uint8Array(32).fill(i + 1)),
);
export const alice = ids[0]!;
export const bob = ids[1]!;
export const carol = ids[2]!;

/** Signs `body` as `who` with the given header fields. */
export function tx(who: Identity, nonce: bigint, body: TxBody, fee = 1n): SignedTx {
  return signTx({ sender: who.publicKey, nonce, fee, ...body } as Tx, (m) => who.sign(m));
}

export const sampleBodies: readonly TxBody[] = [
  { kind: 'CLAIM_GENESIS', powNonce: 42n },
  { kind: 'TRANSFER', to: bob.publicKey, amount: 250n },
  {
    kind: 'REGISTER_RELAY',
    roles: 3,
    bandwidth: 1_000_000,
    onionKeyHash: new Uint8Array(32).fill(0xab),
    exitPolicySummary: new Uint8Array([1, 2, 3]),
  },
  { kind: 'VALIDATOR_CANDIDACY' },
  { kind: 'REGISTER_NAME', name: 'shop', target: carol.publicKey },
  { kind: 'PARAM_PROPOSAL', paramId: 5, value: 2n },
  { kind: 'PARAM_VOTE', proposalId: new Uint8Array(32).fill(7), yes: true },
];

const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });

export const arbBody: fc.Arbitrary<TxBody> = fc.oneof(
  fc.record({ kind: fc.constant('CLAIM_GENESIS' as const), powNonce: u64 }),
  fc.record({ kind: fc.constant('TRANSFER' as const), to: key, amount: u64 }),
  fc.record({
    kind: fc.constant('REGISTER_RELAY' as const),
    roles: fc.nat(255),
    bandwidth: fc.nat(0xffffffff),
    onionKeyHash: key,
    exitPolicySummary: fc.uint8Array({ maxLength: 256 }),
  }),
  fc.record({ kind: fc.constant('VALIDATOR_CANDIDACY' as const) }),
  fc.record({
    kind: fc.constant('REGISTER_NAME' as const),
    name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 15 }),
    target: key,
  }),
  fc.record({ kind: fc.constant('PARAM_PROPOSAL' as const), paramId: fc.nat(255), value: u64 }),
  fc.record({ kind: fc.constant('PARAM_VOTE' as const), proposalId: key, yes: fc.boolean() }),
);

export const arbTx: fc.Arbitrary<Tx> = fc
  .tuple(key, u64, u64, arbBody)
  .map(([sender, nonce, fee, body]) => ({ sender, nonce, fee, ...body }) as Tx);
