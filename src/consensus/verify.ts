// Signature and structure checks of consensus objects against a height's validator set. Pure; every
// function answers null (valid) or the reason it is not, and never throws.
import { verifySignature } from '../crypto/identity.ts';
import type { Commit, Evidence, Proposal, Vote } from '../wire/block.ts';
import {
  checkBlockHashes,
  compareBytes,
  MAX_ROUND,
  proposalSigningBytes,
  voteSigningBytes,
} from '../wire/block.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { proposerFor, quorum } from './quorum.ts';
import type { VerifiedSignatures } from './sig-cache.ts';
import { keyHex } from './vote-set.ts';

/** Checks an Ed25519 signature, through `cache` when one is given. */
function check(
  cache: VerifiedSignatures | undefined,
  key: Uint8Array,
  msg: Uint8Array,
  sig: Uint8Array,
): boolean {
  return cache === undefined ? verifySignature(key, msg, sig) : cache.verify(key, msg, sig);
}

export function verifyVoteSignature(v: Vote, cache?: VerifiedSignatures): boolean {
  try {
    const { signature, ...unsigned } = v;
    return check(cache, v.validator, voteSigningBytes(unsigned), signature);
  } catch {
    return false;
  }
}

export function verifyProposalSignature(p: Proposal, cache?: VerifiedSignatures): boolean {
  try {
    const { signature, ...unsigned } = p;
    return check(cache, p.proposer, proposalSigningBytes(unsigned), signature);
  } catch {
    return false;
  }
}

/** A height's validator set as a relay check needs it: sorted (for the proposer) and as a key set. */
export interface HeightSet {
  readonly sorted: readonly Uint8Array[];
  readonly members: ReadonlySet<string>;
}

/**
 * What a node checks before it relays a proposal (hardening issue, class 4): its chain, a valid round
 * and POL round, that it comes from the proposer of its (height, round), that the block's body matches
 * the hashes in its header (the signature covers only the header: anyone could pad a real proposal),
 * and the signature. The engine checks the same again before using it.
 */
export function checkProposal(
  p: Proposal,
  chainId: string,
  set: HeightSet,
  cache?: VerifiedSignatures,
): string | null {
  try {
    if (p.chainId !== chainId) return 'proposal from another chain';
    if (!isRound(p.round) || !(p.polRound === -1 || (isRound(p.polRound) && p.polRound < p.round)))
      return 'proposal: bad round';
    if (set.sorted.length === 0) return 'no validators at that height';
    if (!bytesEqual(p.proposer, proposerFor(set.sorted, p.height, p.round)))
      return 'proposal: not from the proposer of its round';
    if (p.block.header.height !== p.height || p.block.header.chainId !== chainId)
      return 'proposal: block for another height or chain';
    const hashes = checkBlockHashes(p.block);
    if (hashes !== null) return `proposal: ${hashes}`;
    return verifyProposalSignature(p, cache) ? null : 'proposal: bad signature';
  } catch (err) {
    return `proposal: ${(err as Error).message}`;
  }
}

/** The same for a vote: its chain, type and round, a validator of its height, the signature. */
export function checkVote(
  v: Vote,
  chainId: string,
  set: HeightSet,
  cache?: VerifiedSignatures,
): string | null {
  if (v.chainId !== chainId) return 'vote from another chain';
  if ((v.type !== 'PREVOTE' && v.type !== 'PRECOMMIT') || !isRound(v.round)) return 'vote: bad type or round';
  if (!set.members.has(keyHex(v.validator))) return 'vote: not from a validator of its height';
  return verifyVoteSignature(v, cache) ? null : 'vote: bad signature';
}

function isRound(r: number): boolean {
  return Number.isInteger(r) && r >= 0 && r <= MAX_ROUND;
}

/**
 * A commit for `expectedHash` at its height: precommits from more than 2/3 of `validators` (distinct,
 * each a member), every signature valid over the PRECOMMIT signing bytes.
 */
export function verifyCommit(
  commit: Commit,
  chainId: string,
  validators: readonly Uint8Array[],
  expectedHash?: Uint8Array,
  cache?: VerifiedSignatures,
): string | null {
  if (expectedHash !== undefined && !bytesEqual(commit.blockHash, expectedHash)) {
    return 'commit is for another block';
  }
  const members = new Set(validators.map(keyHex));
  const seen = new Set<string>();
  let prev: Uint8Array | null = null;
  for (const s of commit.signatures) {
    const k = keyHex(s.validator);
    if (!members.has(k)) return 'commit signed by a non-validator';
    if (seen.has(k) || (prev !== null && compareBytes(prev, s.validator) >= 0)) {
      return 'commit validators not strictly ascending';
    }
    seen.add(k);
    prev = s.validator;
  }
  if (seen.size < quorum(members.size))
    return `commit has ${seen.size} of ${quorum(members.size)} signatures`;
  for (const s of commit.signatures) {
    const vote: Vote = {
      type: 'PRECOMMIT',
      chainId,
      height: commit.height,
      round: commit.round,
      blockHash: commit.blockHash,
      validator: s.validator,
      signature: s.signature,
    };
    if (!verifyVoteSignature(vote, cache)) return 'bad commit signature';
  }
  return null;
}

/** A committed block and its commit, as sync hands them over. */
export function verifyCommitted(
  block: { readonly header: { readonly height: number; readonly chainId: string } },
  hash: Uint8Array,
  commit: Commit,
  chainId: string,
  validators: readonly Uint8Array[],
  cache?: VerifiedSignatures,
): string | null {
  if (block.header.chainId !== chainId) return 'block from another chain';
  if (commit.height !== block.header.height) return 'commit height differs from block height';
  return verifyCommit(commit, chainId, validators, hash, cache);
}

/** Canonical order of the two votes of evidence: nil first, then block hashes ascending. */
export function evidenceOrder(a: Vote, b: Vote): [Vote, Vote] {
  if (a.blockHash === null) return [a, b];
  if (b.blockHash === null) return [b, a];
  return compareBytes(a.blockHash, b.blockHash) < 0 ? [a, b] : [b, a];
}

/** Two validly signed votes by one validator for different blocks in one (type, height, round). */
export function verifyEvidence(
  e: Evidence,
  chainId: string,
  validators: readonly Uint8Array[],
): string | null {
  const { voteA: a, voteB: b } = e;
  if (a.chainId !== chainId || b.chainId !== chainId) return 'evidence from another chain';
  if (!bytesEqual(a.validator, b.validator)) return 'evidence votes from two validators';
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round)
    return 'evidence votes differ in slot';
  if (!validators.some((v) => bytesEqual(v, a.validator))) return 'evidence against a non-validator';
  if (a.blockHash === null && b.blockHash === null) return 'evidence votes are the same';
  if (a.blockHash !== null && (b.blockHash === null || compareBytes(a.blockHash, b.blockHash) >= 0)) {
    return 'evidence votes not in canonical order';
  }
  if (!verifyVoteSignature(a) || !verifyVoteSignature(b)) return 'bad evidence signature';
  return null;
}
