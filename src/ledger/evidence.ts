// Evidence of equivocation: two votes signed by one validator for the same (type, height, round) of
// this chain naming different blocks (nil counts as a block). Recorded on chain, it costs the
// validator its reputation (one penalty: see ./reputation.ts) and its candidacy. Each slot
// (validator, height, round, type) is punished once, however many conflicting vote pairs exist.
//
// Accepted only for heights whose epoch the state still knows (the current one and the one before)
// and where the validator was in that epoch's set, and never for a height above the block's own.
import { verifySignature } from '../crypto/identity.ts';
import type { Evidence, Vote } from '../wire/block.ts';
import { voteSigningBytes } from '../wire/block.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { epochAt } from './epochs.ts';
import { type EvidenceRecord, evidenceKey, getAccount, keyHex, type LedgerState } from './state.ts';
import { noteAccountsDerived } from './state-codec.ts';

export type EvidenceRefusalCode =
  /** The two votes are not a conflicting pair of one validator's slot, or a signature fails. */
  | 'BAD_EVIDENCE'
  /** The slot was already punished (earlier in this block or in an earlier block). */
  | 'DUPLICATE_EVIDENCE'
  /** The votes' height is in an epoch the state no longer (or not yet) knows. */
  | 'EVIDENCE_OUT_OF_RANGE'
  | 'NOT_A_VALIDATOR_THEN';

export type EvidenceResult =
  | { readonly ok: true; readonly state: LedgerState; readonly record: EvidenceRecord }
  | { readonly ok: false; readonly code: EvidenceRefusalCode; readonly reason: string };

const VOTE_TYPE_NUMBER = { PREVOTE: 1, PRECOMMIT: 2 } as const;

function refuse(code: EvidenceRefusalCode, reason: string): EvidenceResult {
  return { ok: false, code, reason };
}

/** Checks `ev` against `state` for inclusion in the block at `blockHeight`, and applies the penalty. */
export function applyEvidence(state: LedgerState, ev: Evidence, blockHeight: number): EvidenceResult {
  const { voteA: a, voteB: b } = ev;
  if (!bytesEqual(a.validator, b.validator)) return refuse('BAD_EVIDENCE', 'votes by different validators');
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round) {
    return refuse('BAD_EVIDENCE', 'votes for different steps');
  }
  if (a.chainId !== state.chainId || b.chainId !== state.chainId)
    return refuse('BAD_EVIDENCE', 'votes of another chain');
  if (sameBlock(a.blockHash, b.blockHash)) return refuse('BAD_EVIDENCE', 'both votes name the same block');
  if (a.height > blockHeight) return refuse('EVIDENCE_OUT_OF_RANGE', 'votes for a height above the block');
  const epoch = epochAt(state, a.height);
  if (epoch === undefined) return refuse('EVIDENCE_OUT_OF_RANGE', `height ${a.height} is in no known epoch`);
  const validator = keyHex(a.validator);
  if (!epoch.validators.includes(validator)) {
    return refuse('NOT_A_VALIDATOR_THEN', 'the key was not a validator at that height');
  }
  const record: EvidenceRecord = {
    validator,
    height: a.height,
    round: a.round,
    voteType: VOTE_TYPE_NUMBER[a.type],
  };
  const key = evidenceKey(record);
  if (state.evidenceSeen.has(key))
    return refuse('DUPLICATE_EVIDENCE', 'this equivocation is already recorded');
  if (!verifyVote(a) || !verifyVote(b)) return refuse('BAD_EVIDENCE', 'a vote signature does not verify');

  const account = getAccount(state, validator);
  const penalised = {
    ...account,
    reputation: { ...account.reputation, penalties: account.reputation.penalties + 1n },
  };
  const accounts = new Map(state.accounts);
  accounts.set(validator, penalised);
  noteAccountsDerived(accounts, state.accounts, new Map([[validator, penalised]]));
  const candidates = new Set(state.candidates);
  candidates.delete(validator);
  const evidenceSeen = new Map(state.evidenceSeen);
  evidenceSeen.set(key, record);
  return { ok: true, state: { ...state, accounts, candidates, evidenceSeen }, record };
}

function sameBlock(x: Uint8Array | null, y: Uint8Array | null): boolean {
  if (x === null || y === null) return x === y;
  return bytesEqual(x, y);
}

function verifyVote(v: Vote): boolean {
  try {
    const { signature, ...body } = v;
    return verifySignature(v.validator, voteSigningBytes(body), signature);
  } catch {
    return false; // a vote the codec cannot carry (bad lengths) never verifies
  }
}
