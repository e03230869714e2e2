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
    payout: new Uint8Array(32).fill(0xcd),
    exitPolicySummary: new Uint8Array([1, 2, 3]),
  },
  { kind: 'VALIDATOR_CANDIDACY' },
  { kind: 'REGISTER_NAME', name: 'shop', target: carol.publicKey },
  { kind: 'PARAM_PROPOSAL', paramId: 5, value: 2n },
  { kind: 'PARAM_VOTE', proposalId: new Uint8Array(32).fill(7), yes: true },
  { kind: 'RELAY_CLAIM', epoch: 3, cells: 1_000_000n, leaves: 17, root: new Uint8Array(32).fill(9) },
  { kind: 'AUDIT_FAIL', relay: bob.publicKey, epoch: 3, reason: 2 },
  {
    kind: 'MEASUREMENT',
    epoch: 4,
    entries: [
      { relay: bob.publicKey, bandwidth: 5_000_000, latencyMs: 12 },
      { relay: carol.publicKey, bandwidth: 0, latencyMs: 65_535 },
    ],
  },
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
    payout: key,
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
  fc.record({
    kind: fc.constant('RELAY_CLAIM' as const),
    epoch: fc.nat(0xffffffff),
    cells: u64,
    leaves: fc.nat(0xffffffff),
    root: key,
  }),
  fc.record({
    kind: fc.constant('AUDIT_FAIL' as const),
    relay: key,
    epoch: fc.nat(0xffffffff),
    reason: fc.nat(255),
  }),
  fc.record({
    kind: fc.constant('MEASUREMENT' as const),
    epoch: fc.nat(0xffffffff),
    entries: fc.array(
      fc
        .record({ relay: key, bandwidth: fc.nat(0xffffffff), latencyMs: fc.nat(0xffff) })
        .map((m) => ({ ...m })),
      { minLength: 1, maxLength: 10 },
    ),
  }),
);

export const arbTx: fc.Arbitrary<Tx> = fc
  .tuple(key, u64, u64, arbBody)
  .map(([sender, nonce, fee, body]) => ({ sender, nonce, fee, ...body }) as Tx);
