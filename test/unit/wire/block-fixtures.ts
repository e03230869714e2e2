// Deterministic keys, signed votes, proposals, commits and blocks for the consensus codec and engine
// tests, plus fast-check arbitraries of every consensus object (structurally valid, not signed).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import {
  type Block,
  type BlockHeader,
  blockHash,
  type Commit,
  compareBytes,
  dataHash,
  type Evidence,
  lastCommitHashOf,
  type Proposal,
  proposalSigningBytes,
  type Vote,
  type VoteType,
  voteSigningBytes,
  ZERO_HASH,
} from '../../../src/wire/block.ts';
import type { ConsensusMessage } from '../../../src/wire/consensus-msg.ts';

export const CHAIN = 'anonnet-test';
/** Plain objects, as the decoders build (deepStrictEqual compares prototypes). */
const NP = { noNullPrototype: true } as const;

/** Deterministic bytes: SHA-256 chained from a label. */
export function det(label: string, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 32 < length; i++) {
    const h = createHash('sha256').update(`${label}/${i}`).digest();
    out.set(h.subarray(0, Math.min(32, length - i * 32)), i * 32);
  }
  return out;
}

export function keyFor(label: string): Identity {
  return identityFromSeed(det(`seed:${label}`));
}

export function signVote(id: Identity, v: Omit<Vote, 'signature' | 'validator'>): Vote {
  const unsigned = { ...v, validator: id.publicKey };
  return { ...unsigned, signature: id.sign(voteSigningBytes(unsigned)) };
}

export function signProposal(id: Identity, p: Omit<Proposal, 'signature' | 'proposer'>): Proposal {
  const unsigned = { ...p, proposer: id.publicKey };
  return { ...unsigned, signature: id.sign(proposalSigningBytes(unsigned)) };
}

/** A block whose dataHash and lastCommitHash match its contents. */
export function makeBlock(opts: {
  chainId?: string;
  height: number;
  proposer: Uint8Array;
  txs?: readonly Uint8Array[];
  evidence?: readonly Evidence[];
  lastCommit?: Commit | null;
  prevHash?: Uint8Array;
  appHash?: Uint8Array;
  timeMs?: number;
}): Block {
  const txs = opts.txs ?? [];
  const evidence = opts.evidence ?? [];
  const lastCommit = opts.lastCommit ?? null;
  const header: BlockHeader = {
    chainId: opts.chainId ?? CHAIN,
    height: opts.height,
    timeMs: opts.timeMs ?? 1_767_225_600_000,
    prevHash: opts.prevHash ?? ZERO_HASH.slice(),
    appHash: opts.appHash ?? det('app'),
    dataHash: dataHash(txs, evidence),
    lastCommitHash: lastCommitHashOf(lastCommit),
    proposer: opts.proposer,
  };
  return { header, txs, evidence, lastCommit };
}

/** A commit for `block` signed by `signers` in `round` (signatures sorted by validator). */
export function makeCommit(block: Block, round: number, signers: readonly Identity[]): Commit {
  const hash = blockHash(block);
  const sigs = signers.map((id) => {
    const v = signVote(id, {
      type: 'PRECOMMIT',
      chainId: block.header.chainId,
      height: block.header.height,
      round,
      blockHash: hash,
    });
    return { validator: v.validator, signature: v.signature };
  });
  sigs.sort((a, b) => compareBytes(a.validator, b.validator));
  return { height: block.header.height, round, blockHash: hash, signatures: sigs };
}

// ------------------------------------------------------------------------------ arbitraries

const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
export const arbChainId: fc.Arbitrary<string> = fc.string({ unit: printable, minLength: 1, maxLength: 32 });
export const arbHeight: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
export const arbRound: fc.Arbitrary<number> = fc.oneof(fc.nat(20), fc.integer({ min: 0, max: 0xfffffffe }));
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
export const arbHash = bytes(32);
const arbKey = bytes(32);
const arbSig = bytes(64);

export const arbVote: fc.Arbitrary<Vote> = fc.record(
  {
    type: fc.constantFrom<VoteType>('PREVOTE', 'PRECOMMIT'),
    chainId: arbChainId,
    height: arbHeight,
    round: arbRound,
    blockHash: fc.option(arbHash, { nil: null }),
    validator: arbKey,
    signature: arbSig,
  },
  NP,
);

export const arbEvidence: fc.Arbitrary<Evidence> = fc.record({ voteA: arbVote, voteB: arbVote }, NP);

export const arbCommit: fc.Arbitrary<Commit> = fc.record(
  {
    height: arbHeight,
    round: arbRound,
    blockHash: arbHash,
    signatures: fc
      .uniqueArray(arbKey, {
        minLength: 1,
        maxLength: 8,
        selector: (k) => Buffer.from(k).toString('hex'),
      })
      .chain((keys) => {
        const sorted = [...keys].sort(compareBytes);
        return fc.tuple(...sorted.map((k) => arbSig.map((s) => ({ validator: k, signature: s }))));
      }),
  },
  NP,
);

export const arbHeader: fc.Arbitrary<BlockHeader> = fc.record(
  {
    chainId: arbChainId,
    height: arbHeight,
    timeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    prevHash: arbHash,
    appHash: arbHash,
    dataHash: arbHash,
    lastCommitHash: arbHash,
    proposer: arbKey,
  },
  NP,
);

export const arbBlock: fc.Arbitrary<Block> = fc.record(
  {
    header: arbHeader,
    txs: fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 6 }),
    evidence: fc.array(arbEvidence, { maxLength: 2 }),
    lastCommit: fc.option(arbCommit, { nil: null }),
  },
  NP,
);

export const arbProposal: fc.Arbitrary<Proposal> = fc
  .record({
    chainId: arbChainId,
    height: arbHeight,
    round: arbRound,
    polPick: fc.option(fc.nat(), { nil: null }),
    block: arbBlock,
    proposer: arbKey,
    signature: arbSig,
  })
  .map(({ polPick, ...p }) => ({
    ...p,
    polRound: polPick === null || p.round === 0 ? -1 : polPick % p.round,
  }));

export const arbMessage: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  arbProposal.map((proposal) => ({ kind: 'PROPOSAL' as const, proposal })),
  arbVote.map((vote) => ({ kind: 'VOTE' as const, vote })),
  fc.uint8Array({ minLength: 1, maxLength: 512 }).map((tx) => ({ kind: 'TX' as const, tx })),
  fc.record({ block: arbBlock, commit: arbCommit }, NP).map((b) => ({ kind: 'COMMITTED' as const, ...b })),
  fc
    .record({ fromHeight: arbHeight, maxBlocks: fc.integer({ min: 1, max: 64 }) })
    .map((r) => ({ kind: 'SYNC_REQUEST' as const, ...r })),
  fc
    .array(fc.record({ block: arbBlock, commit: arbCommit }, NP), { maxLength: 3 })
    .map((blocks) => ({ kind: 'SYNC_RESPONSE' as const, blocks })),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((height) => ({ kind: 'STATUS' as const, height })),
);
