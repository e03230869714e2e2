// A short real chain for the economy's surface tests: four validators, three relays paying to one
// account, real blocks. Epoch 1: relays A and B claim epoch 0, two of four validators fail B's claim, three
// measure A; at its end (height 20) A is paid and B penalised. Epoch 2: A claims epoch 1, one validator
// fails it, C registers. `settled` is the state at height 20, `now` at height 23.
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import type { LedgerState } from '../../../src/ledger/state.ts';
import type { SignedTx, TxBody } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, keyring, testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';

export const vs = validatorIds.slice(0, 4);
export const relayA = identityFromSeed(new Uint8Array(32).fill(0x61));
export const relayB = identityFromSeed(new Uint8Array(32).fill(0x62));
export const relayC = identityFromSeed(new Uint8Array(32).fill(0x63));
export const payout = identityFromSeed(new Uint8Array(32).fill(0x71));
export const EPOCH = 10;

/** Applies real blocks (each carrying the validators' commit of the last) up to `height`, `txs` at their heights. */
function runTo(chain: ChainDriver, height: number, txs: ReadonlyMap<number, readonly SignedTx[]>): void {
  while (chain.state.height < height) {
    const at = chain.state.height + 1;
    const block = chain.build({ txs: (txs.get(at) ?? []).map((t) => t.bytes) });
    chain.apply(block); // throws with the refusal when any transaction does not apply
  }
}

const register = (roles: number): TxBody => ({
  kind: 'REGISTER_RELAY',
  roles,
  bandwidth: 2_000_000,
  onionKeyHash: new Uint8Array(32),
  payout: payout.publicKey,
  exitPolicySummary: roles & 2 ? new TextEncoder().encode('accept 80,443') : new Uint8Array(0),
});
const claim = (epoch: number, cells: bigint, leaves = 4): TxBody => ({
  kind: 'RELAY_CLAIM',
  epoch,
  cells,
  leaves,
  root: new Uint8Array(32).fill(9),
});
const fail = (relay: Uint8Array, epoch: number): TxBody => ({ kind: 'AUDIT_FAIL', relay, epoch, reason: 1 });

/**
 * Epoch 1: A and B claim epoch 0, two of four validators fail B's claim, three measure A; the epoch ends
 * (height 20): A is paid, B penalised. Epoch 2: A claims epoch 1 and one validator fails it; C registers.
 */
export function history(): { settled: LedgerState; now: LedgerState } {
  const genesis = testGenesisState(vs, {
    epochLength: EPOCH,
    blockIntervalMs: 1000,
    startingCredits: 1000n as never,
    relayBond: 100n as never,
    unmeasuredBandwidth: 10 * 1024 * 1024,
  });
  const chain = new ChainDriver(genesis, keyring(vs));
  const grant = (who: Identity) => tx(who, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n });
  const measure = (i: number, bw: number) =>
    tx(vs[i]!, i < 2 ? 3n : 2n, {
      kind: 'MEASUREMENT',
      epoch: 1,
      entries: [{ relay: relayA.publicKey, bandwidth: bw, latencyMs: 30 + i }],
    });
  runTo(
    chain,
    20,
    new Map([
      [1, [relayA, relayB, relayC, ...vs].map(grant)],
      [2, [tx(relayA, 2n, register(3)), tx(relayB, 2n, register(1))]],
      [12, [tx(relayA, 3n, claim(0, 40_000n)), tx(relayB, 3n, claim(0, 40_000n))]],
      [13, [tx(vs[0]!, 2n, fail(relayB.publicKey, 0)), tx(vs[1]!, 2n, fail(relayB.publicKey, 0))]],
      [14, [measure(0, 5_000_000), measure(1, 6_000_000), measure(2, 7_000_000)]],
    ]),
  );
  const settled = chain.state;
  runTo(
    chain,
    23,
    new Map([
      [22, [tx(relayA, 4n, claim(1, 1_000n, 2))]],
      [23, [tx(vs[3]!, 2n, fail(relayA.publicKey, 1)), tx(relayC, 2n, register(1))]],
    ]),
  );
  return { settled, now: chain.state };
}
