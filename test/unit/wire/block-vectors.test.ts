// Checks test/vectors/block.json against this implementation: every valid vector decodes to its value,
// re-encodes byte for byte, has the stated hashes and (votes, proposals) a signature that verifies
// over the stated signing bytes; every invalid one is refused with its code. The file must also be
// exactly what the generator produces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { verifySignature } from '../../../src/crypto/identity.ts';
import {
  type Block,
  blockHash,
  type Commit,
  commitHash,
  dataHash,
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
  type Proposal,
  proposalSigningBytes,
  type Vote,
  voteSigningBytes,
} from '../../../src/wire/block.ts';
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
} from '../../../src/wire/consensus-msg.ts';
import type { DecodeResult } from '../../../src/wire/decode-result.ts';
import {
  buildVectors,
  type ObjectKind,
  renderVectorFile,
  toJson,
  VECTOR_FILE,
  type VectorFile,
} from './block-vectors.ts';

const text = readFileSync(VECTOR_FILE, 'utf8');
const file = JSON.parse(text) as VectorFile;
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const codecs: Record<
  ObjectKind,
  { decode: (b: Uint8Array) => DecodeResult<unknown>; encode: (v: never) => Uint8Array }
> = {
  block: { decode: decodeBlock, encode: encodeBlock },
  vote: { decode: decodeVote, encode: encodeVote },
  proposal: { decode: decodeProposal, encode: encodeProposal },
  commit: { decode: decodeCommit, encode: encodeCommit },
  evidence: { decode: decodeEvidence, encode: encodeEvidence },
  message: { decode: decodeConsensusMessage, encode: encodeConsensusMessage },
};

describe('consensus test vectors (test/vectors/block.json)', () => {
  it('has valid vectors of every kind and invalid ones', () => {
    const kinds = new Set(file.valid.map((v) => v.kind));
    assert.equal(kinds.size, 6);
    assert.ok(file.invalid.length >= 10);
  });

  it('is exactly what the generator writes', () => {
    assert.equal(text, renderVectorFile(buildVectors()));
  });

  for (const v of file.valid) {
    it(`valid: ${v.name}`, () => {
      const bytes = unhex(v.bytes);
      const codec = codecs[v.kind];
      const d = codec.decode(bytes);
      assert.equal(d.kind, 'ok', d.kind === 'error' ? d.message : d.kind);
      if (d.kind !== 'ok') return;
      assert.deepStrictEqual(toJson(d.value), v.value);
      assert.equal(hex(codec.encode(d.value as never)), v.bytes);
      if (v.kind === 'block') {
        const b = d.value as Block;
        assert.equal(hex(blockHash(b)), v.hashes.blockHash);
        assert.equal(hex(dataHash(b.txs, b.evidence)), v.hashes.dataHash);
        assert.equal(v.hashes.dataHash, hex(b.header.dataHash));
      }
      if (v.kind === 'commit') assert.equal(hex(commitHash(d.value as Commit)), v.hashes.commitHash);
      if (v.kind === 'vote') {
        const { signature, ...rest } = d.value as Vote;
        assert.equal(hex(voteSigningBytes(rest)), v.signingBytes);
        assert.ok(verifySignature(rest.validator, voteSigningBytes(rest), signature));
      }
      if (v.kind === 'proposal') {
        const { signature, ...rest } = d.value as Proposal;
        assert.equal(hex(blockHash(rest.block)), v.hashes.blockHash);
        assert.equal(hex(proposalSigningBytes(rest)), v.signingBytes);
        assert.ok(verifySignature(rest.proposer, proposalSigningBytes(rest), signature));
      }
      if (v.kind === 'message')
        assert.equal((d.value as ConsensusMessage).kind, (v.value as { kind: string }).kind);
    });
  }

  for (const v of file.invalid) {
    it(`invalid: ${v.name} → ${v.code}`, () => {
      const d = codecs[v.kind].decode(unhex(v.bytes));
      assert.equal(d.kind === 'error' ? d.code : d.kind, v.code);
    });
  }
});
