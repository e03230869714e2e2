// Round trips (decode(encode(x)) == x, re-encoding gives the same bytes), needMore on every proper
// prefix, and the refusals of the consensus codecs (src/wire/block-codec.ts, consensus-msg.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { verifySignature } from '../../../src/crypto/identity.ts';
import {
  blockHash,
  checkBlockHashes,
  commitHash,
  decodeBlock,
  decodeCommit,
  decodeEvidence,
  decodeProposal,
  decodeVote,
  encodeBlock,
  encodeCommit,
  encodeEvidence,
  encodeProposal,
  encodeVote,
  MAX_BLOCK_TXS,
  MAX_VALIDATORS,
  proposalSigningBytes,
  voteSigningBytes,
} from '../../../src/wire/block.ts';
import {
  consensusMessageKind,
  decodeConsensusMessage,
  encodeConsensusMessage,
  encodeSyncResponse,
  maxConsensusMessageBytes,
} from '../../../src/wire/consensus-msg.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';
import {
  arbBlock,
  arbCommit,
  arbEvidence,
  arbMessage,
  arbProposal,
  arbVote,
  CHAIN,
  det,
  keyFor,
  makeBlock,
  makeCommit,
  signProposal,
  signVote,
} from './block-fixtures.ts';

function roundTrip<T>(
  arb: fc.Arbitrary<T>,
  enc: (x: T) => Uint8Array,
  dec: (b: Uint8Array) => DecodeResult<T>,
  runs = 300,
) {
  fc.assert(
    fc.property(arb, (x) => {
      const bytes = enc(x);
      const d = dec(bytes);
      assert.equal(d.kind, 'ok', d.kind === 'error' ? d.message : d.kind);
      if (d.kind !== 'ok') return;
      assert.equal(d.consumed, bytes.length);
      assert.deepStrictEqual(d.value, x);
      assert.deepStrictEqual(enc(d.value), bytes);
      // Every proper prefix is "not enough bytes yet".
      for (const cut of [0, 1, 4, 5, bytes.length >> 1, bytes.length - 1]) {
        if (cut < bytes.length) assert.equal(dec(bytes.subarray(0, cut)).kind, 'needMore', `prefix ${cut}`);
      }
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      const t = dec(longer);
      assert.equal(t.kind === 'error' && t.code, 'TRAILING_BYTES');
    }),
    { numRuns: runs },
  );
}

describe('consensus codecs: round trips', () => {
  it('vote', () => roundTrip(arbVote, encodeVote, decodeVote, 500));
  it('commit', () => roundTrip(arbCommit, encodeCommit, decodeCommit));
  it('evidence', () => roundTrip(arbEvidence, encodeEvidence, decodeEvidence));
  it('block', () => roundTrip(arbBlock, encodeBlock, decodeBlock));
  it('proposal', () => roundTrip(arbProposal, encodeProposal, decodeProposal));
  it('consensus message envelope', () =>
    roundTrip(arbMessage, encodeConsensusMessage, decodeConsensusMessage));
});

describe('consensus codecs: signing and hashes', () => {
  const alice = keyFor('alice');
  const bob = keyFor('bob');

  it('vote signing bytes start with the context and bind every field', () => {
    const v = signVote(alice, { type: 'PREVOTE', chainId: CHAIN, height: 5, round: 2, blockHash: det('b') });
    const { signature, ...unsigned } = v;
    const msg = voteSigningBytes(unsigned);
    assert.equal(Buffer.from(msg.subarray(0, 16)).toString('latin1'), 'anonnet-vote-v1\0');
    assert.ok(verifySignature(alice.publicKey, msg, signature));
    for (const changed of [
      { ...unsigned, type: 'PRECOMMIT' as const },
      { ...unsigned, chainId: 'other' },
      { ...unsigned, height: 6 },
      { ...unsigned, round: 3 },
      { ...unsigned, blockHash: null },
      { ...unsigned, blockHash: det('c') },
      { ...unsigned, validator: bob.publicKey },
    ]) {
      assert.ok(!verifySignature(alice.publicKey, voteSigningBytes(changed), signature));
    }
  });

  it('a proposal signs the block hash, so any header change breaks it', () => {
    const block = makeBlock({ height: 1, proposer: alice.publicKey, txs: [det('tx', 40)] });
    const p = signProposal(alice, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block });
    const { signature, ...unsigned } = p;
    assert.ok(verifySignature(alice.publicKey, proposalSigningBytes(unsigned), signature));
    const other = { ...unsigned, block: { ...block, header: { ...block.header, timeMs: 1 } } };
    assert.ok(!verifySignature(alice.publicKey, proposalSigningBytes(other), signature));
    assert.ok(
      !verifySignature(
        alice.publicKey,
        proposalSigningBytes({ ...unsigned, polRound: 0, round: 1 }),
        signature,
      ),
    );
  });

  it('dataHash binds transactions and evidence; checkBlockHashes sees a swap', () => {
    const block = makeBlock({ height: 1, proposer: alice.publicKey, txs: [det('a', 10), det('b', 10)] });
    assert.equal(checkBlockHashes(block), null);
    const swapped = { ...block, txs: [det('b', 10), det('a', 10)] };
    assert.match(checkBlockHashes(swapped) ?? '', /dataHash/);
    assert.deepStrictEqual(blockHash(swapped), blockHash(block), 'blockHash covers the header only');
    const c = makeCommit(block, 0, [alice, bob]);
    const withCommit = { ...block, lastCommit: c };
    assert.match(checkBlockHashes(withCommit) ?? '', /lastCommitHash/);
    const good = makeBlock({ height: 2, proposer: bob.publicKey, lastCommit: c });
    assert.equal(checkBlockHashes(good), null);
    assert.deepStrictEqual(good.header.lastCommitHash, commitHash(c));
  });

  it('blockHash is 32 bytes and differs between blocks', () => {
    const a = makeBlock({ height: 1, proposer: alice.publicKey });
    const b = makeBlock({ height: 2, proposer: alice.publicKey });
    assert.equal(blockHash(a).length, 32);
    assert.notDeepStrictEqual(blockHash(a), blockHash(b));
  });
});

describe('consensus codecs: refusals', () => {
  const alice = keyFor('alice');
  const vote = signVote(alice, { type: 'PRECOMMIT', chainId: CHAIN, height: 1, round: 0, blockHash: null });
  const voteBytes = encodeVote(vote);

  function code(r: DecodeResult<unknown>): string {
    return r.kind === 'error' ? r.code : r.kind;
  }

  it('bad magic, version, type, flags and heights', () => {
    const m = voteBytes.slice();
    m[0] = 0x42;
    assert.equal(code(decodeVote(m)), 'BAD_MAGIC');
    const v = voteBytes.slice();
    v[4] = 2;
    assert.equal(code(decodeVote(v)), 'BAD_VERSION');
    const t = voteBytes.slice();
    t[5] = 3;
    assert.equal(code(decodeVote(t)), 'BAD_FIELD');
    // height 0: bytes 6 (chainId length) .. then height u64 after the chain id
    const h = voteBytes.slice();
    h.fill(0, 7 + CHAIN.length, 15 + CHAIN.length);
    assert.equal(code(decodeVote(h)), 'BAD_FIELD');
    const flag = voteBytes.slice();
    flag[19 + CHAIN.length] = 2;
    assert.equal(code(decodeVote(flag)), 'BAD_FIELD');
    const cid = voteBytes.slice();
    cid[7] = 0x20; // a space in the chain id
    assert.equal(code(decodeVote(cid)), 'BAD_FIELD');
    const cidLen = voteBytes.slice();
    cidLen[6] = 0;
    assert.equal(code(decodeVote(cidLen)), 'BAD_LENGTH');
  });

  it('commit signatures must be strictly ascending and 1..MAX_VALIDATORS', () => {
    const block = makeBlock({ height: 3, proposer: alice.publicKey });
    const c = makeCommit(block, 0, [keyFor('a'), keyFor('b'), keyFor('c')]);
    const swapped = { ...c, signatures: [...c.signatures].reverse() };
    assert.throws(() => encodeCommit(swapped), { code: 'BAD_ORDER' });
    assert.throws(() => encodeCommit({ ...c, signatures: [] }), { code: 'TOO_MANY' });
    const bytes = encodeCommit(c);
    // Swap the first two (validator, signature) entries in the bytes: BAD_ORDER on decode.
    const at = 4 + 1 + 8 + 4 + 32 + 2;
    const b = bytes.slice();
    b.set(bytes.subarray(at + 96, at + 192), at);
    b.set(bytes.subarray(at, at + 96), at + 96);
    assert.equal(code(decodeCommit(b)), 'BAD_ORDER');
    const z = bytes.slice();
    z[at - 1] = 0;
    z[at - 2] = 0;
    assert.equal(code(decodeCommit(z)), 'TOO_MANY');
    const many = bytes.slice();
    new DataView(many.buffer).setUint16(at - 2, MAX_VALIDATORS + 1);
    assert.equal(code(decodeCommit(many)), 'TOO_MANY');
  });

  it('encoders refuse values the format cannot carry', () => {
    const block = makeBlock({ height: 1, proposer: alice.publicKey });
    assert.throws(() => encodeVote({ ...vote, height: 0 }), { code: 'BAD_FIELD' });
    assert.throws(() => encodeVote({ ...vote, round: -1 }), { code: 'BAD_FIELD' });
    assert.throws(() => encodeVote({ ...vote, chainId: '' }), { code: 'BAD_FIELD' });
    assert.throws(() => encodeVote({ ...vote, chainId: 'x'.repeat(33) }), { code: 'BAD_FIELD' });
    assert.throws(() => encodeVote({ ...vote, chainId: 'né' }), { code: 'BAD_FIELD' });
    assert.throws(() => encodeVote({ ...vote, signature: new Uint8Array(63) }), { code: 'BAD_LENGTH' });
    assert.throws(() => encodeVote({ ...vote, blockHash: new Uint8Array(31) }), { code: 'BAD_LENGTH' });
    assert.throws(() => encodeBlock({ ...block, txs: [new Uint8Array(0)] }), { code: 'BAD_LENGTH' });
    assert.throws(() => encodeBlock({ ...block, txs: [new Uint8Array(513)] }), { code: 'BAD_LENGTH' });
    const tooMany = Array.from({ length: MAX_BLOCK_TXS + 1 }, () => new Uint8Array(1));
    assert.throws(() => encodeBlock({ ...block, txs: tooMany }), { code: 'TOO_MANY' });
    const bigTxs = Array.from({ length: MAX_BLOCK_TXS }, () => new Uint8Array(512));
    assert.throws(() => encodeBlock({ ...block, txs: bigTxs }), { code: 'TOO_LARGE' });
    const p = {
      chainId: CHAIN,
      height: 1,
      round: 2,
      polRound: 2,
      block,
      proposer: alice.publicKey,
      signature: new Uint8Array(64),
    };
    assert.throws(() => encodeProposal(p), { code: 'BAD_FIELD' });
    assert.throws(() => encodeConsensusMessage({ kind: 'SYNC_REQUEST', fromHeight: 1, maxBlocks: 65 }), {
      code: 'BAD_FIELD',
    });
    assert.throws(() => encodeConsensusMessage({ kind: 'TX', tx: new Uint8Array(0) }), {
      code: 'BAD_LENGTH',
    });
  });

  it('a block over MAX_BLOCK_BYTES is TOO_LARGE, not needMore', () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1000);
    const head = encodeBlock(makeBlock({ height: 1, proposer: alice.publicKey, txs: [new Uint8Array(10)] }));
    big.set(head);
    // txCount = 10000 and every tx 512 bytes long: the reader runs past the limit.
    const txCountAt = head.length - 1 - 2 - 10 - 2 - 4;
    const view = new DataView(big.buffer);
    view.setUint32(txCountAt, MAX_BLOCK_TXS);
    for (let at = txCountAt + 4; at + 514 <= big.length; at += 514) view.setUint16(at, 512);
    assert.equal(code(decodeBlock(big)), 'TOO_LARGE');
  });

  it('unknown message types and bad envelope fields', () => {
    assert.equal(code(decodeConsensusMessage(new Uint8Array([0]))), 'UNKNOWN_TYPE');
    assert.equal(code(decodeConsensusMessage(new Uint8Array([8]))), 'UNKNOWN_TYPE');
    assert.equal(code(decodeConsensusMessage(new Uint8Array([]))), 'needMore');
    const status = encodeConsensusMessage({ kind: 'STATUS', height: 0 });
    assert.equal(code(decodeConsensusMessage(status)), 'ok');
    const req = encodeConsensusMessage({ kind: 'SYNC_REQUEST', fromHeight: 1, maxBlocks: 1 });
    const zero = req.slice();
    zero[10] = 0;
    assert.equal(code(decodeConsensusMessage(zero)), 'BAD_FIELD');
    const resp = new Uint8Array([6, 0, 65]);
    assert.equal(code(decodeConsensusMessage(resp)), 'TOO_MANY');
  });
});

describe('consensus message envelope: sizes by type and sync answers from stored bytes', () => {
  it('every message fits the largest encoding of its type, named by its first byte', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const bytes = encodeConsensusMessage(m);
        assert.equal(consensusMessageKind(bytes), m.kind);
        assert.ok(bytes.length <= maxConsensusMessageBytes(m.kind), `${m.kind}: ${bytes.length}`);
      }),
      { numRuns: 300 },
    );
    assert.equal(consensusMessageKind(new Uint8Array(0)), undefined);
    assert.equal(consensusMessageKind(new Uint8Array([99])), undefined);
    assert.equal(maxConsensusMessageBytes('STATUS'), 9);
    assert.equal(maxConsensusMessageBytes('SYNC_REQUEST'), 11);
  });

  it('a SYNC_RESPONSE built from encoded blocks and commits is byte for byte the encoded message', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbBlock, arbCommit), { maxLength: 3 }), (pairs) => {
        const blocks = pairs.map(([block, commit]) => ({ block, commit }));
        const parts = blocks.map((b) => ({ block: encodeBlock(b.block), commit: encodeCommit(b.commit) }));
        assert.deepEqual(
          Buffer.from(encodeSyncResponse(parts)).toString('hex'),
          Buffer.from(encodeConsensusMessage({ kind: 'SYNC_RESPONSE', blocks })).toString('hex'),
        );
      }),
      { numRuns: 100 },
    );
  });
});
