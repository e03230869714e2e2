// The reputation formula, term by term (docs/protocol.md, "Reputation").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reputationScore } from '../../../src/ledger/reputation.ts';
import { emptyReputation } from '../../../src/ledger/state.ts';

const r = (over: Partial<typeof emptyReputation>) => ({ ...emptyReputation, ...over });

describe('reputationScore', () => {
  it('adds whole epochs of age (capped at 100), 5 per uptime epoch (capped), 2 per bit of relayed bytes', () => {
    assert.equal(reputationScore(r({}), 1000, 10), 0n, 'no age without registration or genesis');
    assert.equal(reputationScore(r({ since: 0 }), 39, 10), 3n);
    assert.equal(reputationScore(r({ since: 20 }), 39, 10), 1n);
    assert.equal(reputationScore(r({ since: 50 }), 39, 10), 0n, 'a since in the future counts 0');
    assert.equal(reputationScore(r({ since: 0 }), 1_000_000, 10), 100n);
    assert.equal(reputationScore(r({ uptimeEpochs: 3n }), 0, 10), 15n);
    assert.equal(reputationScore(r({ uptimeEpochs: 10_000n }), 0, 10), 500n);
    assert.equal(reputationScore(r({ relayedBytes: 1n }), 0, 10), 2n);
    assert.equal(reputationScore(r({ relayedBytes: 1024n }), 0, 10), 22n);
    assert.equal(reputationScore(r({ relayedBytes: 0xffffffffffffffffn }), 0, 10), 128n);
    const best = r({ since: 0, uptimeEpochs: 100n, relayedBytes: 0xffffffffffffffffn });
    assert.equal(reputationScore(best, 10_000, 10), 728n);
  });

  it('lets one penalty outweigh everything', () => {
    const best = r({ since: 0, uptimeEpochs: 100n, relayedBytes: 0xffffffffffffffffn, penalties: 1n });
    assert.equal(reputationScore(best, 10_000, 10), 0n);
  });
});
