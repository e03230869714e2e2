// What a validator must remember of its own proposals and votes across a restart (Tendermint keeps
// them in its consensus WAL). The driver writes each one to disk before it leaves the node, for the
// heights not yet committed; after a restart it gives them back to the engine, so they still count
// and are gossiped (the double-sign guard refuses to sign the same slot again, so they could not be
// re-made), and it restores the lock they imply. Pure: the driver owns the storage.

import { bytesEqual } from '../wire/bytes.ts';
import type { ConsensusMessage } from '../wire/consensus-msg.ts';
import type { RestoredLock } from './engine.ts';

/** A message the engine broadcast is one of ours to log: a proposal or vote signed with our key. */
export function isOwnMessage(m: ConsensusMessage, me: Uint8Array): boolean {
  if (m.kind === 'VOTE') return bytesEqual(m.vote.validator, me);
  if (m.kind === 'PROPOSAL') return bytesEqual(m.proposal.proposer, me);
  return false;
}

/** The height a logged message belongs to (0 for kinds that are never logged). */
export function ownMessageHeight(m: ConsensusMessage): number {
  if (m.kind === 'VOTE') return m.vote.height;
  if (m.kind === 'PROPOSAL') return m.proposal.height;
  return 0;
}

/**
 * The lock our own messages imply at `height`: precommitting a block (line 36 of the paper) locks on
 * it, and a later round's precommit replaces the lock. Undefined when we precommitted no block there.
 */
export function restoredLock(
  messages: readonly ConsensusMessage[],
  height: number,
  me: Uint8Array,
): RestoredLock | undefined {
  let lock: RestoredLock | undefined;
  for (const m of messages) {
    if (m.kind !== 'VOTE') continue;
    const v = m.vote;
    if (v.type !== 'PRECOMMIT' || v.height !== height || v.blockHash === null) continue;
    if (!bytesEqual(v.validator, me)) continue;
    if (lock === undefined || v.round > lock.round) lock = { round: v.round, blockHash: v.blockHash };
  }
  return lock;
}
