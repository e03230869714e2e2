// The ledger's block rules: applyBlock(state, block) gives the next state or a refusal with a stable
// code. Pure and deterministic (no clock: header.timeMs is never read). A block is valid only as a
// whole: one refused transaction or one bad piece of evidence makes the block invalid, and the engine
// must not vote for it (validateBlockForState).
//
// Order of checks and effects for a block at height h:
//   1. header: chainId, height = state.height + 1, prevHash = state.lastBlockHash,
//      appHash = stateHash(state), dataHash and lastCommitHash match the contents, the proposer is in
//      the set for h;
//   2. lastCommit: null at h = 1; else precommits for (h-1, state.lastBlockHash) whose signatures all
//      verify, from distinct validators of h-1's set, more than 2/3 of it;
//   3. transactions in order (applyTx with the set for h);
//   4. evidence (./evidence.ts): each punishes one (validator, height, round, type) slot once;
//   5. uptime: every signer of lastCommit is credited one signed commit in the epoch;
//   6. height and lastBlockHash advance; at the last block of an epoch: uptime epochs are credited,
//      the economy settles (./settlement.ts: measurements, claims, payouts, penalties), the set for
//      epoch e+2 is elected, old epochs and evidence records are pruned.
//
// Cost: the block's transactions go through one LedgerDraft (./draft.ts), so each touched map is copied
// once per block, not once per transaction; signatures the mempool already verified are not verified
// again (./tx-signatures.ts); applying the same block to the same state twice (validate, then commit)
// is answered from a memo; the next appHash splices the changed accounts into the previous encoding
// (./state-codec.ts). What stays O(accounts) per block: one copy of the accounts map and SHA-256 over
// the whole encoding.
import { verifySignature } from '../crypto/identity.ts';
import type { Block, Commit } from '../wire/block.ts';
import { blockHash, checkBlockHashes, voteSigningBytes } from '../wire/block.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { decodeTx, txId } from '../wire/ledger-tx.ts';
import { type ApplyContext, applyTxTo, type RefusalCode } from './apply.ts';
import { LedgerDraft } from './draft.ts';
import { electValidators, epochAt, isEpochEnd, validatorsForHeight } from './epochs.ts';
import { applyEvidence, type EvidenceRefusalCode } from './evidence.ts';
import { settleEpoch } from './settlement.ts';
import {
  type Account,
  type EpochInfo,
  type EvidenceRecord,
  getAccount,
  type KeyHex,
  keyHex,
  type LedgerState,
  stateHash,
} from './state.ts';
import { noteAccountsDerived } from './state-codec.ts';

export type BlockRefusalCode =
  | 'WRONG_CHAIN'
  | 'BAD_HEIGHT'
  | 'BAD_PREV_HASH'
  | 'BAD_APP_HASH'
  /** dataHash or lastCommitHash does not match the block's contents. */
  | 'BAD_BLOCK_HASHES'
  /** No validator set is known for the block's height. */
  | 'UNKNOWN_EPOCH'
  | 'BAD_PROPOSER'
  | 'BAD_LAST_COMMIT'
  /** A transaction that does not decode. */
  | 'BAD_TX_ENCODING'
  /** A transaction the state machine refuses (the reason names its RefusalCode). */
  | 'TX_REFUSED'
  | EvidenceRefusalCode;

export type BlockRefusal = {
  readonly ok: false;
  readonly code: BlockRefusalCode;
  readonly reason: string;
  /** For TX_REFUSED: the transaction's index and its own refusal code. */
  readonly txIndex?: number;
  readonly txCode?: RefusalCode;
};

export interface BlockReceipts {
  /** txId of every transaction, in block order. */
  readonly txIds: readonly Uint8Array[];
  /** The equivocation slots this block punished. */
  readonly evidence: readonly EvidenceRecord[];
  /** The epoch elected at the end of this block (its last block of an epoch), else null. */
  readonly elected: EpochInfo | null;
}

export type ApplyBlockResult =
  | { readonly ok: true; readonly state: LedgerState; readonly receipts: BlockReceipts }
  | BlockRefusal;

function refuse(code: BlockRefusalCode, reason: string): BlockRefusal {
  return { ok: false, code, reason };
}

export function applyBlock(state: LedgerState, block: Block): ApplyBlockResult {
  const h = block.header;
  const height = state.height + 1;
  if (h.chainId !== state.chainId) return refuse('WRONG_CHAIN', 'block belongs to another chain');
  if (h.height !== height) return refuse('BAD_HEIGHT', `block height ${h.height}, expected ${height}`);
  if (!bytesEqual(h.prevHash, state.lastBlockHash))
    return refuse('BAD_PREV_HASH', 'prevHash is not the last block');
  if (!bytesEqual(h.appHash, stateHash(state)))
    return refuse('BAD_APP_HASH', 'appHash is not the state hash');
  const hash = hashBlock(block);
  if (typeof hash === 'string') return refuse('BAD_BLOCK_HASHES', hash);
  // The hash covers the header and, through dataHash and lastCommitHash, every byte of the contents.
  const memo = lastApplied.get(state);
  if (memo !== undefined && bytesEqual(memo.hash, hash)) return memo.result;
  const result = applyChecked(state, block, hash, height);
  lastApplied.set(state, { hash, result });
  return result;
}

/**
 * The last block applied to each state and its result. A validator applies the same block to the
 * same state twice (validateBlockForState before voting, applyBlock at commit); the second is
 * answered from here. Same inputs, same result: determinism is untouched. Weak: it goes with the state.
 */
const lastApplied = new WeakMap<
  LedgerState,
  { readonly hash: Uint8Array; readonly result: ApplyBlockResult }
>();

function applyChecked(state: LedgerState, block: Block, hash: Uint8Array, height: number): ApplyBlockResult {
  const h = block.header;
  const validators = validatorsForHeight(state, height);
  if (validators === undefined) return refuse('UNKNOWN_EPOCH', `no validator set known for height ${height}`);
  if (!validators.some((v) => bytesEqual(v, h.proposer))) {
    return refuse('BAD_PROPOSER', 'the proposer is not a validator at this height');
  }
  const signers = checkLastCommitSafely(state, block.lastCommit, height);
  if (typeof signers === 'string') return refuse('BAD_LAST_COMMIT', signers);

  const txs = checkBlockTxs(state, block.txs, { height, validators });
  if (!txs.ok) return txs;
  let next = txs.state;

  const evidence: EvidenceRecord[] = [];
  for (const [i, ev] of block.evidence.entries()) {
    const r = applyEvidence(next, ev, height);
    if (!r.ok) return refuse(r.code, `evidence ${i}: ${r.reason}`);
    next = r.state;
    evidence.push(r.record);
  }

  next = creditCommitSigners(next, signers);
  next = { ...next, height, lastBlockHash: hash };
  let elected: EpochInfo | null = null;
  if (isEpochEnd(next, height)) {
    const ended = endEpoch(next, height);
    next = ended.state;
    elected = ended.elected;
  }
  return { ok: true, state: next, receipts: { txIds: txs.txIds, evidence, elected } };
}

/** What the engine calls before voting for a proposed block: exactly applyBlock's verdict. */
export function validateBlockForState(
  state: LedgerState,
  block: Block,
): { readonly ok: true } | BlockRefusal {
  const r = applyBlock(state, block);
  return r.ok ? { ok: true } : r;
}

/** Applies encoded transactions in order; the first that fails to decode or apply refuses them all. */
export function checkBlockTxs(
  state: LedgerState,
  txs: readonly Uint8Array[],
  ctx: ApplyContext,
): { readonly ok: true; readonly state: LedgerState; readonly txIds: Uint8Array[] } | BlockRefusal {
  // One draft for the whole block: each touched map is copied once, at freeze().
  const draft = new LedgerDraft(state);
  const txIds: Uint8Array[] = [];
  for (const [i, bytes] of txs.entries()) {
    const decoded = decodeTx(bytes);
    if (decoded.kind !== 'ok') {
      const why = decoded.kind === 'error' ? decoded.message : 'truncated';
      return refuse('BAD_TX_ENCODING', `transaction ${i}: ${why}`);
    }
    const r = applyTxTo(draft, decoded.value, ctx);
    if (r !== null) {
      return {
        ok: false,
        code: 'TX_REFUSED',
        reason: `transaction ${i}: ${r.code}: ${r.reason}`,
        txIndex: i,
        txCode: r.code,
      };
    }
    txIds.push(txId(bytes));
  }
  return { ok: true, state: draft.freeze(), txIds };
}

export interface ProposeLimits {
  readonly maxTxs: number;
  readonly maxBytes: number;
}

export const defaultProposeLimits: ProposeLimits = { maxTxs: 2000, maxBytes: 1024 * 1024 };

/**
 * The transactions a proposer puts in the block at state.height + 1: candidates in the given order,
 * keeping each one that applies on top of those already kept and skipping the rest (with the reason).
 * Skipped BAD_NONCE transactions get further passes, so a sender's later nonce listed first still fits.
 */
export function proposeBlockTxs(
  state: LedgerState,
  candidates: readonly Uint8Array[],
  limits: ProposeLimits = defaultProposeLimits,
): { readonly txs: Uint8Array[]; readonly skipped: { readonly bytes: Uint8Array; readonly code: string }[] } {
  const height = state.height + 1;
  const ctx: ApplyContext = { height, validators: validatorsForHeight(state, height) ?? [] };
  const txs: Uint8Array[] = [];
  let bytesUsed = 0;
  // A refused transaction leaves the draft untouched, so one draft serves every pass.
  const draft = new LedgerDraft(state);
  let pending = [...candidates];
  const skipped: { bytes: Uint8Array; code: string }[] = [];
  for (let pass = 0; pass < 4 && pending.length > 0; pass++) {
    const retry: { bytes: Uint8Array; code: string }[] = [];
    let progress = false;
    for (const bytes of pending) {
      if (txs.length >= limits.maxTxs || bytesUsed + bytes.length > limits.maxBytes) {
        skipped.push({ bytes, code: 'BLOCK_FULL' });
        continue;
      }
      const decoded = decodeTx(bytes);
      if (decoded.kind !== 'ok') {
        skipped.push({ bytes, code: 'BAD_TX_ENCODING' });
        continue;
      }
      const r = applyTxTo(draft, decoded.value, ctx);
      if (r !== null) {
        (r.code === 'BAD_NONCE' ? retry : skipped).push({ bytes, code: r.code });
        continue;
      }
      txs.push(bytes);
      bytesUsed += bytes.length;
      progress = true;
    }
    // A nonce gap may close once an earlier transaction of the same sender got in during this pass.
    if (!progress || pass === 3) {
      skipped.push(...retry);
      break;
    }
    pending = retry.map((s) => s.bytes);
  }
  return { txs, skipped };
}

/** The block's hash once its dataHash and lastCommitHash check out, else the reason. Never throws. */
function hashBlock(block: Block): Uint8Array | string {
  try {
    return checkBlockHashes(block) ?? blockHash(block);
  } catch (err) {
    // Built in memory with a value the codec cannot carry (decoded blocks never are).
    return `block cannot be encoded: ${(err as Error).message}`;
  }
}

function checkLastCommitSafely(state: LedgerState, commit: Commit | null, height: number): KeyHex[] | string {
  try {
    return checkLastCommit(state, commit, height);
  } catch (err) {
    return `commit cannot be encoded: ${(err as Error).message}`;
  }
}

/** The keys that signed a valid lastCommit (empty at height 1), or the reason it is invalid. */
function checkLastCommit(state: LedgerState, commit: Commit | null, height: number): KeyHex[] | string {
  if (height === 1) return commit === null ? [] : 'the first block carries no last commit';
  if (commit === null) return 'missing the commit for the previous block';
  if (commit.height !== state.height)
    return `commit is for height ${commit.height}, expected ${state.height}`;
  if (!bytesEqual(commit.blockHash, state.lastBlockHash)) return 'commit is not for the previous block';
  const set = epochAt(state, state.height)?.validators;
  if (set === undefined) return `no validator set known for height ${state.height}`;
  const members = new Set(set);
  const signers = new Set<KeyHex>();
  for (const s of commit.signatures) {
    const key = keyHex(s.validator);
    if (!members.has(key)) return 'a commit signer is not a validator of the previous height';
    if (signers.has(key)) return 'a validator signs the commit twice';
    const msg = voteSigningBytes({
      type: 'PRECOMMIT',
      chainId: state.chainId,
      height: commit.height,
      round: commit.round,
      blockHash: commit.blockHash,
      validator: s.validator,
    });
    if (!verifySignature(s.validator, msg, s.signature)) return 'a commit signature does not verify';
    signers.add(key);
  }
  if (3 * signers.size <= 2 * members.size) {
    return `commit has ${signers.size} of ${members.size} validators, needs more than 2/3`;
  }
  return [...signers];
}

function creditCommitSigners(state: LedgerState, signers: readonly KeyHex[]): LedgerState {
  if (signers.length === 0) return state;
  const epochSigned = new Map(state.epochSigned);
  for (const key of signers) epochSigned.set(key, (epochSigned.get(key) ?? 0) + 1);
  return { ...state, epochSigned, epochCommits: state.epochCommits + 1 };
}

/** The end of the epoch containing `height` (its last block, already applied to `state`). */
function endEpoch(state: LedgerState, height: number): { state: LedgerState; elected: EpochInfo } {
  const current = epochAt(state, height);
  const following =
    current === undefined ? undefined : state.epochs.find((e) => e.epoch === current.epoch + 1);
  if (current === undefined || following === undefined) {
    // Unreachable: genesis fixes two epochs and every epoch end adds the one after the next.
    throw new Error(`ledger invariant broken: epochs around height ${height} are unknown`);
  }
  // Uptime: at least 2/3 of the commits this epoch's blocks carried.
  const credits = new Map<KeyHex, Account>();
  if (state.epochCommits > 0) {
    for (const [key, n] of state.epochSigned) {
      if (3 * n < 2 * state.epochCommits) continue;
      const a = getAccount(state, key);
      credits.set(key, {
        ...a,
        reputation: { ...a.reputation, uptimeEpochs: a.reputation.uptimeEpochs + 1n },
      });
    }
  }
  const accounts = new Map(state.accounts);
  for (const [key, a] of credits) accounts.set(key, a);
  noteAccountsDerived(accounts, state.accounts, credits);
  const uptimeCredited: LedgerState = { ...state, accounts, epochSigned: new Map(), epochCommits: 0 };
  // The economy settles before the election: proven work and penalties count for reputation.
  const credited = settleEpoch(uptimeCredited, current, new Set(credits.keys()));
  const elected: EpochInfo = {
    epoch: current.epoch + 2,
    startHeight: following.startHeight + following.length,
    length: state.params.epochLength,
    validators: electValidators(credited, following.validators),
  };
  // Keep the epoch just ended (late evidence about it is still accepted during the next one).
  const epochs = [...state.epochs.filter((e) => e.epoch >= current.epoch), elected];
  const oldest = current.startHeight;
  const evidenceSeen = new Map([...state.evidenceSeen].filter(([, r]) => r.height >= oldest));
  return { state: { ...credited, epochs, evidenceSeen }, elected };
}
