// What a restarted validator takes back from its log of its own messages: which messages are its own,
// their heights, and the lock they imply (its highest-round precommit of a block at that height).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOwnMessage, ownMessageHeight, restoredLock } from '../../../src/consensus/own-messages.ts';
import type { Vote } from '../../../src/wire/block.ts';
import type { ConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { CHAIN, det, keyFor, makeBlock, signProposal, signVote } from '../wire/block-fixtures.ts';

const me = keyFor('me');
const other = keyFor('other');
const vote = (v: Omit<Vote, 'signature' | 'validator' | 'chainId'>, who = me): ConsensusMessage => ({
  kind: 'VOTE',
  vote: signVote(who, { ...v, chainId: CHAIN }),
});

describe('own messages', () => {
  it('tells our proposals and votes from others, and their heights', () => {
    const block = makeBlock({ height: 7, proposer: me.publicKey });
    const mine = signProposal(me, { chainId: CHAIN, height: 7, round: 2, polRound: -1, block });
    const prop: ConsensusMessage = { kind: 'PROPOSAL', proposal: mine };
    assert.ok(isOwnMessage(prop, me.publicKey));
    assert.ok(!isOwnMessage(prop, other.publicKey));
    const v = vote({ type: 'PREVOTE', height: 7, round: 0, blockHash: null });
    assert.ok(isOwnMessage(v, me.publicKey));
    assert.ok(!isOwnMessage(v, other.publicKey));
    assert.ok(!isOwnMessage({ kind: 'STATUS', height: 7 }, me.publicKey));
    const tx: ConsensusMessage = { kind: 'TX', tx: det('t', 5) };
    assert.deepEqual([prop, v, tx].map(ownMessageHeight), [7, 7, 0]);
  });

  it('restores the lock of our highest-round block precommit at that height, and nothing else', () => {
    const A = det('A');
    const B = det('B');
    const log = [
      vote({ type: 'PREVOTE', height: 5, round: 0, blockHash: A }),
      vote({ type: 'PRECOMMIT', height: 5, round: 0, blockHash: A }),
      vote({ type: 'PRECOMMIT', height: 5, round: 1, blockHash: null }),
      vote({ type: 'PRECOMMIT', height: 5, round: 2, blockHash: B }),
      vote({ type: 'PREVOTE', height: 5, round: 3, blockHash: A }),
      vote({ type: 'PRECOMMIT', height: 5, round: 9, blockHash: A }, other),
      vote({ type: 'PRECOMMIT', height: 6, round: 4, blockHash: A }),
    ];
    assert.deepEqual(restoredLock(log, 5, me.publicKey), { round: 2, blockHash: B });
    assert.deepEqual(restoredLock(log.slice(0, 3), 5, me.publicKey), { round: 0, blockHash: A });
    assert.equal(restoredLock(log.slice(2, 3), 5, me.publicKey), undefined, 'a nil precommit locks nothing');
    assert.equal(restoredLock(log, 4, me.publicKey), undefined);
    assert.deepEqual(restoredLock(log, 6, me.publicKey), { round: 4, blockHash: A });
  });
});
