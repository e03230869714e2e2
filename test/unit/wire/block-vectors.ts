// Builds test/vectors/block.json: consensus codec test vectors (blocks, votes, proposals, commits,
// evidence, message envelopes) for AnonNet and any other implementation. Deterministic (fixed Ed25519
// seeds; Ed25519 signatures are deterministic), so running it again gives the same file.
//
//   node test/unit/wire/block-vectors.ts        (rewrites test/vectors/block.json)
import { writeFileSync } from 'node:fs';
import {
  type Block,
  blockHash,
  commitHash,
  dataHash,
  encodeBlock,
  encodeCommit,
  encodeEvidence,
  encodeProposal,
  encodeVote,
  proposalSigningBytes,
  voteSigningBytes,
} from '../../../src/wire/block.ts';
import { encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { CHAIN, det, keyFor, makeBlock, makeCommit, signProposal, signVote } from './block-fixtures.ts';

export const VECTOR_FILE = new URL('../../vectors/block.json', import.meta.url);

export type ObjectKind = 'block' | 'vote' | 'proposal' | 'commit' | 'evidence' | 'message';

export interface ValidVector {
  readonly name: string;
  readonly kind: ObjectKind;
  /** The decoded value: byte strings as lowercase hex, numbers and strings as they are. */
  readonly value: unknown;
  readonly bytes: string;
  /** blockHash (block, proposal's block), commitHash (commit), dataHash (block). */
  readonly hashes: Record<string, string>;
  /** For votes and proposals: the exact bytes the signature covers (it verifies over them). */
  readonly signingBytes?: string;
  readonly seedLabels?: string;
}

export interface InvalidVector {
  readonly name: string;
  readonly kind: ObjectKind;
  readonly bytes: string;
  readonly code: string;
}

export interface VectorFile {
  readonly description: string;
  readonly valid: readonly ValidVector[];
  readonly invalid: readonly InvalidVector[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** JSON form of a decoded value: Uint8Array → hex, recursively. */
export function toJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

function blockHashes(b: Block): Record<string, string> {
  return { blockHash: hex(blockHash(b)), dataHash: hex(dataHash(b.txs, b.evidence)) };
}

export function buildVectors(): VectorFile {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(keyFor) as [
    ReturnType<typeof keyFor>,
    ReturnType<typeof keyFor>,
    ReturnType<typeof keyFor>,
    ReturnType<typeof keyFor>,
  ];
  const seeds = 'Ed25519 seeds are SHA-256("seed:<label>/0") for labels a, b, c, d';
  const block1 = makeBlock({
    height: 1,
    proposer: a.publicKey,
    txs: [det('tx1', 40), det('tx2', 11)],
    timeMs: 1_767_225_600_000,
  });
  const commit1 = makeCommit(block1, 0, [a, b, c]);
  const prevote = signVote(b, {
    type: 'PREVOTE',
    chainId: CHAIN,
    height: 2,
    round: 1,
    blockHash: det('some block'),
  });
  const nilPrecommit = signVote(b, {
    type: 'PRECOMMIT',
    chainId: CHAIN,
    height: 2,
    round: 1,
    blockHash: null,
  });
  const nilPrevote = signVote(b, { type: 'PREVOTE', chainId: CHAIN, height: 2, round: 1, blockHash: null });
  const evidence = { voteA: nilPrevote, voteB: prevote };
  const block2 = makeBlock({
    height: 2,
    proposer: b.publicKey,
    txs: [det('tx3', 100)],
    evidence: [evidence],
    lastCommit: commit1,
    prevHash: blockHash(block1),
    timeMs: 1_767_225_605_000,
  });
  const proposal1 = signProposal(a, { chainId: CHAIN, height: 1, round: 0, polRound: -1, block: block1 });
  const proposal2 = signProposal(d, { chainId: CHAIN, height: 2, round: 3, polRound: 1, block: block2 });
  const unsigned = <T extends { signature: Uint8Array }>(x: T): Omit<T, 'signature'> => {
    const { signature: _s, ...rest } = x;
    return rest;
  };

  const valid: ValidVector[] = [
    {
      name: 'prevote-for-block',
      kind: 'vote',
      value: toJson(prevote),
      bytes: hex(encodeVote(prevote)),
      hashes: {},
      signingBytes: hex(voteSigningBytes(unsigned(prevote))),
      seedLabels: seeds,
    },
    {
      name: 'precommit-nil',
      kind: 'vote',
      value: toJson(nilPrecommit),
      bytes: hex(encodeVote(nilPrecommit)),
      hashes: {},
      signingBytes: hex(voteSigningBytes(unsigned(nilPrecommit))),
      seedLabels: seeds,
    },
    {
      name: 'commit-3-of-4',
      kind: 'commit',
      value: toJson(commit1),
      bytes: hex(encodeCommit(commit1)),
      hashes: { commitHash: hex(commitHash(commit1)) },
    },
    {
      name: 'evidence-nil-vs-block',
      kind: 'evidence',
      value: toJson(evidence),
      bytes: hex(encodeEvidence(evidence)),
      hashes: {},
    },
    {
      name: 'block-height-1',
      kind: 'block',
      value: toJson(block1),
      bytes: hex(encodeBlock(block1)),
      hashes: blockHashes(block1),
    },
    {
      name: 'block-height-2-with-commit-and-evidence',
      kind: 'block',
      value: toJson(block2),
      bytes: hex(encodeBlock(block2)),
      hashes: blockHashes(block2),
    },
    {
      name: 'proposal-fresh',
      kind: 'proposal',
      value: toJson(proposal1),
      bytes: hex(encodeProposal(proposal1)),
      hashes: { blockHash: hex(blockHash(block1)) },
      signingBytes: hex(proposalSigningBytes(unsigned(proposal1))),
      seedLabels: seeds,
    },
    {
      name: 'proposal-with-pol-round',
      kind: 'proposal',
      value: toJson(proposal2),
      bytes: hex(encodeProposal(proposal2)),
      hashes: { blockHash: hex(blockHash(block2)) },
      signingBytes: hex(proposalSigningBytes(unsigned(proposal2))),
      seedLabels: seeds,
    },
    ...(
      [
        { kind: 'STATUS', height: 41 },
        { kind: 'SYNC_REQUEST', fromHeight: 7, maxBlocks: 16 },
        { kind: 'TX', tx: det('a transaction', 30) },
        { kind: 'VOTE', vote: prevote },
        { kind: 'COMMITTED', block: block1, commit: commit1 },
      ] as const
    ).map((m) => ({
      name: `message-${m.kind.toLowerCase()}`,
      kind: 'message' as const,
      value: toJson(m),
      bytes: hex(encodeConsensusMessage(m)),
      hashes: {},
    })),
  ];

  const voteBytes = encodeVote(prevote);
  const mutate = (src: Uint8Array, at: number, value: number): string => {
    const out = src.slice();
    out[at] = value;
    return hex(out);
  };
  const commitBytes = encodeCommit(commit1);
  const sigAt = 4 + 1 + 8 + 4 + 32 + 2;
  const swapped = commitBytes.slice();
  swapped.set(commitBytes.subarray(sigAt + 96, sigAt + 192), sigAt);
  swapped.set(commitBytes.subarray(sigAt, sigAt + 96), sigAt + 96);
  const block1Bytes = encodeBlock(block1);
  const cidEnd = 7 + CHAIN.length;
  const invalid: InvalidVector[] = [
    { name: 'vote-bad-magic', kind: 'vote', bytes: mutate(voteBytes, 0, 0x00), code: 'BAD_MAGIC' },
    { name: 'vote-bad-version', kind: 'vote', bytes: mutate(voteBytes, 4, 2), code: 'BAD_VERSION' },
    { name: 'vote-unknown-type', kind: 'vote', bytes: mutate(voteBytes, 5, 3), code: 'BAD_FIELD' },
    { name: 'vote-empty-chain-id', kind: 'vote', bytes: mutate(voteBytes, 6, 0), code: 'BAD_LENGTH' },
    { name: 'vote-chain-id-space', kind: 'vote', bytes: mutate(voteBytes, 7, 0x20), code: 'BAD_FIELD' },
    {
      name: 'vote-height-zero',
      kind: 'vote',
      bytes: hex(
        new Uint8Array([
          ...voteBytes.subarray(0, cidEnd),
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          ...voteBytes.subarray(cidEnd + 8),
        ]),
      ),
      code: 'BAD_FIELD',
    },
    {
      name: 'vote-has-block-flag-2',
      kind: 'vote',
      bytes: mutate(voteBytes, cidEnd + 12, 2),
      code: 'BAD_FIELD',
    },
    {
      name: 'vote-trailing-byte',
      kind: 'vote',
      bytes: hex(new Uint8Array([...voteBytes, 0])),
      code: 'TRAILING_BYTES',
    },
    { name: 'commit-validators-not-ascending', kind: 'commit', bytes: hex(swapped), code: 'BAD_ORDER' },
    {
      name: 'commit-no-signatures',
      kind: 'commit',
      bytes: mutate(setByte(commitBytes, sigAt - 2, 0), sigAt - 1, 0),
      code: 'TOO_MANY',
    },
    {
      name: 'block-bad-last-commit-flag',
      kind: 'block',
      bytes: mutate(block1Bytes, block1Bytes.length - 1, 2),
      code: 'BAD_FIELD',
    },
    {
      name: 'block-zero-length-tx',
      kind: 'block',
      bytes: zeroFirstTxLength(block1Bytes),
      code: 'BAD_LENGTH',
    },
    { name: 'message-unknown-type', kind: 'message', bytes: '09', code: 'UNKNOWN_TYPE' },
    {
      name: 'message-sync-request-zero-blocks',
      kind: 'message',
      bytes: '0500000000000000070000',
      code: 'BAD_FIELD',
    },
    { name: 'message-status-truncated', kind: 'message', bytes: '07000000', code: 'needMore' },
  ];
  return {
    description:
      'AnonNet consensus codec v1 test vectors (docs/protocol.md, "Consensus"). Hex is lowercase. Valid vectors: `bytes` decodes to `value` (byte strings as hex) and re-encodes to `bytes` exactly; `hashes` are blockHash, dataHash or commitHash of the value; where `signingBytes` is given, the value\'s Ed25519 signature verifies over it. Invalid vectors: decoding `bytes` as `kind` fails with `code`. Generated by test/unit/wire/block-vectors.ts.',
    valid,
    invalid,
  };
}

/** Sets one byte, returning bytes (for chaining). */
function setByte(src: Uint8Array, at: number, value: number): Uint8Array {
  const out = src.slice();
  out[at] = value;
  return out;
}

/** block-height-1 with its first transaction's length set to 0. */
function zeroFirstTxLength(block: Uint8Array): string {
  // header: magic 4 + version 1 + chainId (1 + len) + height 8 + time 8 + 5 * 32; then txCount u32.
  const firstTxLength = 5 + 1 + CHAIN.length + 16 + 160 + 4;
  const out = block.slice();
  out[firstTxLength] = 0;
  out[firstTxLength + 1] = 0;
  return hex(out);
}

export function renderVectorFile(f: VectorFile): string {
  return `${JSON.stringify(f, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(VECTOR_FILE, renderVectorFile(buildVectors()));
  console.log(`wrote ${VECTOR_FILE.pathname}`);
}
