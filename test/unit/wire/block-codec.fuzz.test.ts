// Fuzz targets for the consensus decoders (block, vote, proposal, commit, evidence, the message
// envelope): random bytes, random bytes behind a valid magic, and mutations of valid encodings.
// Properties: never throw, never INTERNAL, answer quickly, and whatever decodes re-encodes to
// exactly the bytes it came from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BLOCK_MAGIC,
  COMMIT_MAGIC,
  decodeBlock,
  decodeCommit,
  decodeEvidence,
  decodeProposal,
  decodeVote,
  EVIDENCE_MAGIC,
  encodeBlock,
  encodeCommit,
  encodeEvidence,
  encodeProposal,
  encodeVote,
  PROPOSAL_MAGIC,
  VOTE_MAGIC,
} from '../../../src/wire/block.ts';
import { decodeConsensusMessage, encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';
import { CHAIN, det, keyFor, makeBlock, makeCommit, signProposal, signVote } from './block-fixtures.ts';
import { arbMutation, mutate } from './byte-mutations.ts';

const RUNS = 2000;
const MAX_CALL_MS = 250;

interface Target {
  readonly name: string;
  readonly magic: Uint8Array;
  decode(b: Uint8Array): DecodeResult<unknown>;
  encode(v: unknown): Uint8Array;
  readonly seeds: readonly Uint8Array[];
}

const [a, b, c, d] = [keyFor('a'), keyFor('b'), keyFor('c'), keyFor('d')];
const vote1 = signVote(a, { type: 'PREVOTE', chainId: CHAIN, height: 7, round: 1, blockHash: det('x') });
const vote2 = signVote(a, { type: 'PREVOTE', chainId: CHAIN, height: 7, round: 1, blockHash: null });
const block1 = makeBlock({ height: 1, proposer: a.publicKey, txs: [det('t1', 60), det('t2', 3)] });
const commit1 = makeCommit(block1, 0, [a, b, c]);
const block2 = makeBlock({
  height: 2,
  proposer: b.publicKey,
  txs: [det('t3', 200)],
  evidence: [{ voteA: vote2, voteB: vote1 }],
  lastCommit: commit1,
});
const proposal = signProposal(d, { chainId: CHAIN, height: 2, round: 3, polRound: 1, block: block2 });

const targets: readonly Target[] = [
  {
    name: 'vote',
    magic: VOTE_MAGIC,
    decode: decodeVote,
    encode: (v) => encodeVote(v as never),
    seeds: [encodeVote(vote1), encodeVote(vote2)],
  },
  {
    name: 'commit',
    magic: COMMIT_MAGIC,
    decode: decodeCommit,
    encode: (v) => encodeCommit(v as never),
    seeds: [encodeCommit(commit1)],
  },
  {
    name: 'evidence',
    magic: EVIDENCE_MAGIC,
    decode: decodeEvidence,
    encode: (v) => encodeEvidence(v as never),
    seeds: [encodeEvidence({ voteA: vote2, voteB: vote1 })],
  },
  {
    name: 'block',
    magic: BLOCK_MAGIC,
    decode: decodeBlock,
    encode: (v) => encodeBlock(v as never),
    seeds: [encodeBlock(block1), encodeBlock(block2)],
  },
  {
    name: 'proposal',
    magic: PROPOSAL_MAGIC,
    decode: decodeProposal,
    encode: (v) => encodeProposal(v as never),
    seeds: [encodeProposal(proposal)],
  },
  {
    name: 'consensus message',
    magic: new Uint8Array([4]),
    decode: decodeConsensusMessage,
    encode: (v) => encodeConsensusMessage(v as never),
    seeds: [
      encodeConsensusMessage({ kind: 'VOTE', vote: vote1 }),
      encodeConsensusMessage({ kind: 'PROPOSAL', proposal }),
      encodeConsensusMessage({ kind: 'COMMITTED', block: block1, commit: commit1 }),
      encodeConsensusMessage({ kind: 'SYNC_RESPONSE', blocks: [{ block: block1, commit: commit1 }] }),
      encodeConsensusMessage({ kind: 'SYNC_REQUEST', fromHeight: 3, maxBlocks: 10 }),
      encodeConsensusMessage({ kind: 'STATUS', height: 9 }),
      encodeConsensusMessage({ kind: 'TX', tx: det('tx', 100) }),
    ],
  },
];

function check(t: Target, bytes: Uint8Array): void {
  const start = performance.now();
  const r = t.decode(bytes);
  assert.ok(performance.now() - start < MAX_CALL_MS, 'decode took too long');
  assert.ok(r.kind === 'ok' || r.kind === 'needMore' || r.kind === 'error');
  if (r.kind === 'ok') {
    assert.equal(r.consumed, bytes.length);
    assert.deepStrictEqual(t.encode(r.value), bytes);
  } else if (r.kind === 'error') {
    assert.equal(typeof r.code, 'string');
    assert.notEqual(r.code, 'INTERNAL', r.message);
  }
}

/** Byte values this format finds interesting (lengths, tags, boundaries). */
const arbMut = arbMutation([0, 1, 2, 0x20, 0x7f, 0x80, 0xff]);

for (const t of targets) {
  describe(`${t.name} decoder fuzz`, () => {
    it('seeds decode and re-encode', () => {
      for (const s of t.seeds) check(t, s);
      for (const s of t.seeds) assert.equal(t.decode(s).kind, 'ok');
    });

    it('random bytes never throw', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => check(t, bytes)),
        { numRuns: RUNS },
      );
    });

    it('random bytes behind a valid magic and version never throw', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (tail) =>
          check(t, new Uint8Array([...t.magic, 1, ...tail])),
        ),
        { numRuns: RUNS },
      );
    });

    it('mutations of valid encodings never throw', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...t.seeds),
          fc.array(arbMut, { minLength: 1, maxLength: 4 }),
          (seed, ms) => check(t, ms.reduce(mutate, seed)),
        ),
        { numRuns: RUNS },
      );
    });
  });
}
