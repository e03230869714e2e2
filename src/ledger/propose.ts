// What a proposer needs from the ledger to build a block that applyBlock accepts: the header fields
// derived from the state (appHash, prevHash, hashes of the contents) and the evidence that still
// counts. Transactions are chosen by proposeBlockTxs (./chain.ts).
import type { Block, Commit, Evidence } from '../wire/block.ts';
import { dataHash, lastCommitHashOf } from '../wire/block.ts';
import { applyEvidence } from './evidence.ts';
import { type LedgerState, stateHash } from './state.ts';

export interface BlockContents {
  readonly txs: readonly Uint8Array[];
  readonly evidence: readonly Evidence[];
  /** The commit of block state.height (null at height 1). */
  readonly lastCommit: Commit | null;
  readonly proposer: Uint8Array;
  /** Informational only; the ledger never reads it. */
  readonly timeMs: number;
}

/** The block at state.height + 1 with these contents, its header filled in from `state`. */
export function assembleBlock(state: LedgerState, c: BlockContents): Block {
  return {
    header: {
      chainId: state.chainId,
      height: state.height + 1,
      timeMs: c.timeMs,
      prevHash: state.lastBlockHash,
      appHash: stateHash(state),
      dataHash: dataHash(c.txs, c.evidence),
      lastCommitHash: lastCommitHashOf(c.lastCommit),
      proposer: c.proposer,
    },
    txs: c.txs,
    evidence: c.evidence,
    lastCommit: c.lastCommit,
  };
}

/**
 * The evidence, in the given order, that applies on top of `state` (after the block's transactions,
 * which never change what evidence counts): each valid, unpunished slot once; the rest dropped.
 */
export function selectEvidence(state: LedgerState, candidates: readonly Evidence[], max = 64): Evidence[] {
  const height = state.height + 1;
  const out: Evidence[] = [];
  let next = state;
  for (const ev of candidates) {
    if (out.length >= max) break;
    const r = applyEvidence(next, ev, height);
    if (!r.ok) continue;
    next = r.state;
    out.push(ev);
  }
  return out;
}
