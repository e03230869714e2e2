// A deterministic chain for block-store tests (and the crash child): every block claims credits for
// a fresh identity and moves some to the previous one, so the state grows and changes every block.

import type { BlockStore } from '../../../src/consensus/store/block-store.ts';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import type { LedgerState } from '../../../src/ledger/state.ts';
import { encodeBlock, encodeCommit } from '../../../src/wire/block.ts';
import { ChainDriver, keyring, testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';

const vs = validatorIds.slice(0, 4);

export function storeGenesis(): LedgerState {
  return testGenesisState(vs, { epochLength: 5 });
}

export function storeDriver(): ChainDriver {
  return new ChainDriver(storeGenesis(), keyring(validatorIds));
}

function user(i: number) {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, i + 1000);
  return identityFromSeed(seed);
}

/** Applies the next block and appends it, with its commit, to the store. */
export function appendNext(d: ChainDriver, store: BlockStore): void {
  const h = d.state.height + 1;
  const txs = [tx(user(h), 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes];
  if (h > 1)
    txs.push(tx(user(h), 2n, { kind: 'TRANSFER', to: user(h - 1).publicKey, amount: BigInt(h) }).bytes);
  const block = d.build({ txs });
  d.apply(block);
  const commit = d.commitLast();
  store.append(block, encodeBlock(block), commit, encodeCommit(commit), d.state);
}
