// The ledger's state transition: applyTx(state, signedTx, ctx) gives a new state or a refusal with a
// stable code. Pure and deterministic: no clock, no I/O, no randomness; the input state is never changed.
// The rules are written once, against a LedgerDraft (./draft.ts): applyTx drafts one transaction and
// freezes it; a block (chain.ts) drafts all of its transactions and freezes once, so a block copies
// each touched map once instead of once per transaction.
//
// Checks, in this order, for every kind: signature (BAD_SIGNATURE), fee >= minFee (FEE_TOO_LOW), nonce
// exactly the account's nonce + 1 (BAD_NONCE: a transaction can never apply twice), then the kind's own
// rules, then funds (INSUFFICIENT_FUNDS: fee plus amount or name fee). On success the sender's nonce
// advances and the fee is burned (state.burned): no fee pool, so no one gains from fees and
// sum(balances) + burned == minted always holds. CLAIM_GENESIS is the only minting.
//
// Parameters change by vote: a validator (one of ctx.validators; chain.ts passes the elected set for
// the block's height, validatorsForHeight) proposes a value; the proposal's id is
// the txId of the PARAM_PROPOSAL transaction. Each validator votes once; when the yes votes of current
// validators exceed 2/3 of ctx.validators (3 * yes > 2 * n) the value takes effect and the proposal
// closes. No votes are recorded and never pass anything on their own.
import { MAX_POW_DIFFICULTY, verifyPow } from '../crypto/pow.ts';
import { type SignedTx, type Tx, type TxBody, type TxHeader, type TxKind, txId } from '../wire/ledger-tx.ts';
import { addCredits, type Credits, isCredits, subCredits, ZERO_CREDITS } from './credits.ts';
import { LedgerDraft } from './draft.ts';
import {
  applyAuditFail,
  applyMeasurement,
  applyRelayClaim,
  type EconomyChecked,
  type EconomyRefusal,
  type EconomyRefusalCode,
} from './economy-tx.ts';
import { type Account, type KeyHex, keyHex, type LedgerParams, type LedgerState, PARAM_ID } from './state.ts';
import { verifyTxSignature } from './tx-signatures.ts';

export type RefusalCode =
  | 'BAD_SIGNATURE'
  | 'FEE_TOO_LOW'
  /** The nonce is not exactly the account's nonce + 1 (a replay, a gap or a reorder). */
  | 'BAD_NONCE'
  | 'INSUFFICIENT_FUNDS'
  /** A transfer of 0 credits. */
  | 'BAD_AMOUNT'
  | 'SELF_TRANSFER'
  /** A balance or the minted total would pass 2^64-1. */
  | 'BALANCE_OVERFLOW'
  | 'GENESIS_ALREADY_CLAIMED'
  | 'INSUFFICIENT_POW'
  /** Validator candidacy from an account with no relay registration. */
  | 'ALREADY_CANDIDATE'
  /** Candidacy from a key with proven equivocation (evidence on chain): it may never stand again. */
  | 'PENALIZED'
  | 'BAD_NAME'
  | 'NAME_TAKEN'
  | 'UNKNOWN_PARAM'
  | 'BAD_PARAM_VALUE'
  | 'UNKNOWN_PROPOSAL'
  | 'ALREADY_VOTED'
  | EconomyRefusalCode;

export interface ApplyContext {
  /** Height of the block the transaction is in. */
  readonly height: number;
  /** The current validator set (32-byte Ed25519 keys). */
  readonly validators: readonly Uint8Array[];
}

export type TxRefusal = { readonly ok: false; readonly code: RefusalCode; readonly reason: string };

export type ApplyResult = { readonly ok: true; readonly state: LedgerState } | TxRefusal;

/** A name: 1..63 of [a-z0-9-], not starting or ending with '-'. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const PARAM_BY_ID: ReadonlyMap<number, keyof LedgerParams> = new Map(
  Object.entries(PARAM_ID).map(([k, v]) => [v, k as keyof LedgerParams]),
);

/** Allowed range of each parameter (inclusive). */
export const PARAM_RANGES: { readonly [K in keyof LedgerParams]: readonly [bigint, bigint] } = {
  startingCredits: [0n, 0xffffffffffffffffn],
  blockIntervalMs: [1n, 86_400_000n],
  validatorCount: [1n, 1024n],
  nameFee: [0n, 0xffffffffffffffffn],
  minFee: [0n, 0xffffffffffffffffn],
  powDifficulty: [0n, BigInt(MAX_POW_DIFFICULTY)],
  epochLength: [1n, 1_000_000n],
  relayBond: [0n, 0xffffffffffffffffn],
  creditsPerGiB: [0n, 1_000_000_000n],
  poolCapPerEpoch: [0n, 0xffffffffffffffffn],
  unmeasuredBandwidth: [0n, 0xffffffffn],
  auditSamples: [1n, 255n],
  capacityCap: [1n, 1000n],
  measureSample: [0n, 10_000n],
};

function refuse(code: RefusalCode, reason: string): TxRefusal {
  return { ok: false, code, reason };
}

export function applyTx(state: LedgerState, signed: SignedTx, ctx: ApplyContext): ApplyResult {
  const draft = new LedgerDraft(state);
  const refused = applyTxTo(draft, signed, ctx);
  return refused ?? { ok: true, state: draft.freeze() };
}

/** applyTx's verdict without building the next state (the mempool's admission check). */
export function checkTx(state: LedgerState, signed: SignedTx, ctx: ApplyContext): TxRefusal | null {
  return applyTxTo(new LedgerDraft(state), signed, ctx);
}

/**
 * Applies one transaction to a draft (./draft.ts): null on success, else the refusal, in which case
 * the draft is left exactly as it was (every check comes before the first write).
 */
export function applyTxTo(draft: LedgerDraft, signed: SignedTx, ctx: ApplyContext): TxRefusal | null {
  const tx = signed.tx;
  if (!verifyTxSignature(signed)) {
    return refuse('BAD_SIGNATURE', 'signature does not verify against the sender key');
  }
  const minFee = draft.params.minFee;
  if (!isCredits(tx.fee) || tx.fee < minFee) {
    return refuse('FEE_TOO_LOW', `fee ${tx.fee} is below the minimum ${minFee}`);
  }
  const sender = keyHex(tx.sender);
  const account = draft.account(sender);
  if (tx.nonce !== account.nonce + 1n) {
    return refuse('BAD_NONCE', `nonce ${tx.nonce}, expected ${account.nonce + 1n}`);
  }
  return applyKind(draft, signed, tx, sender, account, tx.fee, ctx);
}

/** A transaction of one kind, header included. */
type TxOf<K extends TxKind> = TxHeader & Extract<TxBody, { readonly kind: K }>;

/** What every kind's rules read once the common checks (signature, fee, nonce) have passed. */
interface Checked {
  readonly d: LedgerDraft;
  readonly sender: KeyHex;
  readonly account: Account;
  readonly fee: Credits;
  readonly ctx: ApplyContext;
}

function applyKind(
  d: LedgerDraft,
  signed: SignedTx,
  tx: Tx,
  sender: KeyHex,
  account: Account,
  fee: Credits,
  ctx: ApplyContext,
): TxRefusal | null {
  const c: Checked = { d, sender, account, fee, ctx };
  switch (tx.kind) {
    case 'CLAIM_GENESIS':
      return applyClaimGenesis(c, tx);
    case 'TRANSFER':
      return applyTransfer(c, tx);
    case 'REGISTER_RELAY':
      return applyRegisterRelay(c, tx);
    case 'VALIDATOR_CANDIDACY':
      return applyValidatorCandidacy(c, tx);
    case 'REGISTER_NAME':
      return applyRegisterName(c, tx);
    case 'PARAM_PROPOSAL':
      return applyParamProposal(c, tx, signed);
    case 'PARAM_VOTE':
      return applyParamVote(c, tx);
    case 'RELAY_CLAIM':
      return applyRelayClaim(economyChecked(c), tx, signed);
    case 'AUDIT_FAIL':
      return applyAuditFail(economyChecked(c), tx);
    case 'MEASUREMENT':
      return applyMeasurement(economyChecked(c), tx);
  }
}

function economyChecked(c: Checked): EconomyChecked {
  return {
    ...c,
    height: c.ctx.height,
    validators: validatorSet(c.ctx),
    // payFee refuses only with INSUFFICIENT_FUNDS or BALANCE_OVERFLOW, both economy codes too.
    payFee: () => payFee(c.d, c.sender, c.account, c.account.nonce + 1n, c.fee) as EconomyRefusal | null,
  };
}

function applyClaimGenesis(
  { d, sender, account, fee }: Checked,
  tx: TxOf<'CLAIM_GENESIS'>,
): TxRefusal | null {
  if (account.genesisClaimed) return refuse('GENESIS_ALREADY_CLAIMED', 'starting credits already claimed');
  if (!verifyPow(tx.sender, tx.powNonce, d.params.powDifficulty)) {
    return refuse('INSUFFICIENT_POW', `proof-of-work below difficulty ${d.params.powDifficulty}`);
  }
  const starting = d.params.startingCredits;
  const available = addCredits(account.balance, starting);
  const minted = addCredits(d.minted, starting);
  if (available === undefined || minted === undefined) {
    return refuse('BALANCE_OVERFLOW', 'minting would pass 2^64-1');
  }
  const balance = subCredits(available, fee);
  if (balance === undefined) return refuse('INSUFFICIENT_FUNDS', `fee ${fee} exceeds ${available}`);
  const burned = burnedAfter(d, fee);
  if (burned === undefined) return burnOverflow();
  d.setAccount(sender, { ...account, balance, nonce: tx.nonce, genesisClaimed: true });
  d.minted = minted;
  d.burned = burned;
  return null;
}

function applyTransfer({ d, sender, account, fee }: Checked, tx: TxOf<'TRANSFER'>): TxRefusal | null {
  const to = keyHex(tx.to);
  if (to === sender) return refuse('SELF_TRANSFER', 'sender and recipient are the same account');
  if (tx.amount === 0n || !isCredits(tx.amount)) return refuse('BAD_AMOUNT', 'amount must be 1..2^64-1');
  const afterFee = subCredits(account.balance, fee);
  const balance = afterFee === undefined ? undefined : subCredits(afterFee, tx.amount);
  if (balance === undefined) {
    return refuse('INSUFFICIENT_FUNDS', `amount ${tx.amount} + fee ${fee} exceeds ${account.balance}`);
  }
  const recipient = d.account(to);
  const received = addCredits(recipient.balance, tx.amount);
  if (received === undefined) return refuse('BALANCE_OVERFLOW', 'recipient balance would pass 2^64-1');
  const burned = burnedAfter(d, fee);
  if (burned === undefined) return burnOverflow();
  d.setAccount(sender, { ...account, balance, nonce: tx.nonce });
  d.setAccount(to, { ...recipient, balance: received });
  d.burned = burned;
  return null;
}

function applyRegisterRelay(
  { d, sender, account, fee, ctx }: Checked,
  tx: TxOf<'REGISTER_RELAY'>,
): TxRefusal | null {
  // Reputation's age counts from the first registration; an update keeps it.
  const since = account.reputation.since ?? ctx.height;
  const registered = { ...account, reputation: { ...account.reputation, since } };
  // The bond is topped up to the current relayBond (a first registration, a raised bond, or a bond a
  // penalty took); it moves from the balance into the registration, it is not burned.
  const previous = d.relay(sender);
  const bond = previous?.bond ?? ZERO_CREDITS;
  const topUp = bond < d.params.relayBond ? ((d.params.relayBond - bond) as Credits) : ZERO_CREDITS;
  const afterFee = subCredits(account.balance, fee);
  if (afterFee === undefined || subCredits(afterFee, topUp) === undefined) {
    return refuse('INSUFFICIENT_FUNDS', `fee ${fee} + bond ${topUp} exceeds ${account.balance}`);
  }
  const refused = payFee(d, sender, registered, tx.nonce, fee);
  if (refused !== null) return refused;
  const paid = d.account(sender);
  d.setAccount(sender, { ...paid, balance: (paid.balance - topUp) as Credits });
  d.setRelay(sender, {
    roles: tx.roles,
    bandwidth: tx.bandwidth,
    onionKeyHash: tx.onionKeyHash.slice(),
    exitPolicySummary: tx.exitPolicySummary.slice(),
    height: ctx.height,
    payout: keyHex(tx.payout),
    bond: (bond + topUp) as Credits,
    measured: previous?.measured ?? null,
    earned: previous?.earned ?? ZERO_CREDITS,
  });
  return null;
}

function applyValidatorCandidacy(
  { d, sender, account, fee }: Checked,
  tx: TxOf<'VALIDATOR_CANDIDACY'>,
): TxRefusal | null {
  if (!d.hasRelay(sender)) return refuse('NOT_A_RELAY', 'only a registered relay may stand');
  if (d.isCandidate(sender)) return refuse('ALREADY_CANDIDATE', 'candidacy already declared');
  if (account.reputation.penalties > 0n) return refuse('PENALIZED', 'this key has equivocated');
  const refused = payFee(d, sender, account, tx.nonce, fee);
  if (refused !== null) return refused;
  d.addCandidate(sender);
  return null;
}

function applyRegisterName(
  { d, sender, account, fee, ctx }: Checked,
  tx: TxOf<'REGISTER_NAME'>,
): TxRefusal | null {
  if (!NAME_PATTERN.test(tx.name)) {
    return refuse('BAD_NAME', 'a name is 1..63 of [a-z0-9-], not starting or ending with "-"');
  }
  if (d.hasName(tx.name)) return refuse('NAME_TAKEN', `"${tx.name}" is already registered`);
  const total = addCredits(fee, d.params.nameFee);
  if (total === undefined) return refuse('INSUFFICIENT_FUNDS', 'fee + name fee passes 2^64-1');
  const refused = payFee(d, sender, account, tx.nonce, total);
  if (refused !== null) return refused;
  d.setName(tx.name, { owner: sender, target: tx.target.slice(), height: ctx.height });
  return null;
}

/** The proposal's id is the txId of the proposing transaction, hence `signed`. */
function applyParamProposal(
  { d, sender, account, fee, ctx }: Checked,
  tx: TxOf<'PARAM_PROPOSAL'>,
  signed: SignedTx,
): TxRefusal | null {
  const validators = validatorSet(ctx);
  if (!validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator may propose');
  const param = PARAM_BY_ID.get(tx.paramId);
  if (param === undefined) return refuse('UNKNOWN_PARAM', `no parameter with id ${tx.paramId}`);
  const [min, max] = PARAM_RANGES[param];
  if (tx.value < min || tx.value > max) {
    return refuse('BAD_PARAM_VALUE', `${param} must be in ${min}..${max}, got ${tx.value}`);
  }
  const refused = payFee(d, sender, account, tx.nonce, fee);
  if (refused !== null) return refused;
  d.setProposal(keyHex(txId(signed.bytes)), {
    paramId: tx.paramId,
    value: tx.value,
    proposer: sender,
    height: ctx.height,
    votes: new Map(),
  });
  return null;
}

function applyParamVote({ d, sender, account, fee, ctx }: Checked, tx: TxOf<'PARAM_VOTE'>): TxRefusal | null {
  const validators = validatorSet(ctx);
  if (!validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator may vote');
  const id = keyHex(tx.proposalId);
  const proposal = d.proposal(id);
  if (proposal === undefined) return refuse('UNKNOWN_PROPOSAL', 'no open proposal with that id');
  if (proposal.votes.has(sender)) return refuse('ALREADY_VOTED', 'this validator already voted');
  const refused = payFee(d, sender, account, tx.nonce, fee);
  if (refused !== null) return refused;
  const votes = new Map(proposal.votes);
  votes.set(sender, tx.yes);
  let yes = 0;
  for (const [voter, v] of votes) if (v && validators.has(voter)) yes++;
  if (3 * yes > 2 * validators.size) {
    d.deleteProposal(id);
    d.params = setParam(d.params, PARAM_BY_ID.get(proposal.paramId), proposal.value);
  } else {
    d.setProposal(id, { ...proposal, votes });
  }
  return null;
}

/**
 * Debits `amount` (fee, plus any other charge that is burned), advances the nonce, burns the amount.
 * Writes nothing when it refuses.
 */
function payFee(
  d: LedgerDraft,
  sender: KeyHex,
  account: Account,
  nonce: bigint,
  amount: Credits,
): TxRefusal | null {
  const balance = subCredits(account.balance, amount);
  if (balance === undefined) {
    return refuse('INSUFFICIENT_FUNDS', `needs ${amount}, balance ${account.balance}`);
  }
  const burned = burnedAfter(d, amount);
  if (burned === undefined) return burnOverflow();
  d.setAccount(sender, { ...account, balance, nonce });
  d.burned = burned;
  return null;
}

/** burned <= minted <= 2^64-1 always holds, so this cannot overflow; checked anyway. */
function burnedAfter(d: LedgerDraft, amount: Credits): Credits | undefined {
  return addCredits(d.burned, amount);
}

function burnOverflow(): TxRefusal {
  return refuse('BALANCE_OVERFLOW', 'burned total would pass 2^64-1');
}

function setParam(params: LedgerParams, name: keyof LedgerParams | undefined, value: bigint): LedgerParams {
  switch (name) {
    case 'startingCredits':
    case 'nameFee':
    case 'minFee':
    case 'relayBond':
    case 'creditsPerGiB':
    case 'poolCapPerEpoch':
      return { ...params, [name]: value as Credits };
    case 'blockIntervalMs':
    case 'validatorCount':
    case 'powDifficulty':
    case 'epochLength':
    case 'unmeasuredBandwidth':
    case 'auditSamples':
    case 'capacityCap':
    case 'measureSample':
      return { ...params, [name]: Number(value) };
    case undefined:
      return params;
  }
}

function validatorSet(ctx: ApplyContext): ReadonlySet<KeyHex> {
  return new Set(ctx.validators.map(keyHex));
}
