// The test oracle for src/ledger/apply.ts: the state transition as it was written before blocks were
// applied through a LedgerDraft: one immutable state per transaction, copying every map it touches,
// and no signature memo. Kept verbatim in its rules, so the draft property test compares the fast path
// against an implementation that shares none of its state-building code.
import { verifySignature } from '../../../src/crypto/identity.ts';
import { MAX_POW_DIFFICULTY, verifyPow } from '../../../src/crypto/pow.ts';
import type { ApplyContext, RefusalCode } from '../../../src/ledger/apply.ts';
import { addCredits, type Credits, isCredits, subCredits } from '../../../src/ledger/credits.ts';
import {
  type Account,
  getAccount,
  type KeyHex,
  keyHex,
  type LedgerParams,
  type LedgerState,
  PARAM_ID,
  type Proposal,
} from '../../../src/ledger/state.ts';
import { type SignedTx, type Tx, txId, txSigningMessage } from '../../../src/wire/ledger-tx.ts';

type ApplyResult =
  | { readonly ok: true; readonly state: LedgerState }
  | { readonly ok: false; readonly code: RefusalCode; readonly reason: string };

/** A name: 1..63 of [a-z0-9-], not starting or ending with '-'. */
const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const PARAM_BY_ID: ReadonlyMap<number, keyof LedgerParams> = new Map(
  Object.entries(PARAM_ID).map(([k, v]) => [v, k as keyof LedgerParams]),
);

/** Allowed range of each parameter (inclusive). */
const PARAM_RANGES: { readonly [K in keyof LedgerParams]: readonly [bigint, bigint] } = {
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

function refuse(code: RefusalCode, reason: string): ApplyResult {
  return { ok: false, code, reason };
}

export function referenceApplyTx(state: LedgerState, signed: SignedTx, ctx: ApplyContext): ApplyResult {
  const tx = signed.tx;
  if (!verifySignature(tx.sender, txSigningMessage(signed.body), signed.signature)) {
    return refuse('BAD_SIGNATURE', 'signature does not verify against the sender key');
  }
  if (!isCredits(tx.fee) || tx.fee < state.params.minFee) {
    return refuse('FEE_TOO_LOW', `fee ${tx.fee} is below the minimum ${state.params.minFee}`);
  }
  const fee = tx.fee;
  const sender = keyHex(tx.sender);
  const account = getAccount(state, sender);
  if (tx.nonce !== account.nonce + 1n) {
    return refuse('BAD_NONCE', `nonce ${tx.nonce}, expected ${account.nonce + 1n}`);
  }
  return applyKind(state, signed, tx, sender, account, fee, ctx);
}

function applyKind(
  state: LedgerState,
  signed: SignedTx,
  tx: Tx,
  sender: KeyHex,
  account: Account,
  fee: Credits,
  ctx: ApplyContext,
): ApplyResult {
  switch (tx.kind) {
    case 'CLAIM_GENESIS': {
      if (account.genesisClaimed)
        return refuse('GENESIS_ALREADY_CLAIMED', 'starting credits already claimed');
      if (!verifyPow(tx.sender, tx.powNonce, state.params.powDifficulty)) {
        return refuse('INSUFFICIENT_POW', `proof-of-work below difficulty ${state.params.powDifficulty}`);
      }
      const starting = state.params.startingCredits;
      const available = addCredits(account.balance, starting);
      const minted = addCredits(state.minted, starting);
      if (available === undefined || minted === undefined) {
        return refuse('BALANCE_OVERFLOW', 'minting would pass 2^64-1');
      }
      const balance = subCredits(available, fee);
      if (balance === undefined) return refuse('INSUFFICIENT_FUNDS', `fee ${fee} exceeds ${available}`);
      const next = { ...account, balance, nonce: tx.nonce, genesisClaimed: true };
      return burn({ ...state, minted, accounts: withEntry(state.accounts, sender, next) }, fee);
    }
    case 'TRANSFER': {
      const to = keyHex(tx.to);
      if (to === sender) return refuse('SELF_TRANSFER', 'sender and recipient are the same account');
      if (tx.amount === 0n || !isCredits(tx.amount)) return refuse('BAD_AMOUNT', 'amount must be 1..2^64-1');
      const afterFee = subCredits(account.balance, fee);
      const balance = afterFee === undefined ? undefined : subCredits(afterFee, tx.amount);
      if (balance === undefined) {
        return refuse('INSUFFICIENT_FUNDS', `amount ${tx.amount} + fee ${fee} exceeds ${account.balance}`);
      }
      const recipient = getAccount(state, to);
      const received = addCredits(recipient.balance, tx.amount);
      if (received === undefined) return refuse('BALANCE_OVERFLOW', 'recipient balance would pass 2^64-1');
      const accounts = new Map(state.accounts);
      accounts.set(sender, { ...account, balance, nonce: tx.nonce });
      accounts.set(to, { ...recipient, balance: received });
      return burn({ ...state, accounts }, fee);
    }
    case 'REGISTER_RELAY': {
      // Reputation's age counts from the first registration; an update keeps it.
      const since = account.reputation.since ?? ctx.height;
      // The bond is topped up to relayBond from the balance (moved, not burned).
      const previous = state.relays.get(sender);
      const bond = previous?.bond ?? (0n as Credits);
      const topUp = bond < state.params.relayBond ? state.params.relayBond - bond : 0n;
      if (account.balance < fee + topUp) {
        return refuse('INSUFFICIENT_FUNDS', `fee ${fee} + bond ${topUp} exceeds ${account.balance}`);
      }
      const registered = {
        ...account,
        balance: (account.balance - topUp) as Credits,
        reputation: { ...account.reputation, since },
      };
      const paid = payFee(state, sender, registered, tx.nonce, fee);
      if (!paid.ok) return paid;
      const registration = {
        roles: tx.roles,
        bandwidth: tx.bandwidth,
        onionKeyHash: tx.onionKeyHash.slice(),
        exitPolicySummary: tx.exitPolicySummary.slice(),
        height: ctx.height,
        payout: keyHex(tx.payout),
        bond: (bond + topUp) as Credits,
        measured: previous?.measured ?? null,
        earned: previous?.earned ?? (0n as Credits),
      };
      return ok({ ...paid.state, relays: withEntry(state.relays, sender, registration) });
    }
    case 'VALIDATOR_CANDIDACY': {
      if (!state.relays.has(sender)) return refuse('NOT_A_RELAY', 'only a registered relay may stand');
      if (state.candidates.has(sender)) return refuse('ALREADY_CANDIDATE', 'candidacy already declared');
      if (account.reputation.penalties > 0n) return refuse('PENALIZED', 'this key has equivocated');
      const paid = payFee(state, sender, account, tx.nonce, fee);
      if (!paid.ok) return paid;
      return ok({ ...paid.state, candidates: new Set([...state.candidates, sender]) });
    }
    case 'REGISTER_NAME': {
      if (!NAME_PATTERN.test(tx.name)) {
        return refuse('BAD_NAME', 'a name is 1..63 of [a-z0-9-], not starting or ending with "-"');
      }
      if (state.names.has(tx.name)) return refuse('NAME_TAKEN', `"${tx.name}" is already registered`);
      const total = addCredits(fee, state.params.nameFee);
      const paid =
        total === undefined
          ? refuse('INSUFFICIENT_FUNDS', 'fee + name fee passes 2^64-1')
          : payFee(state, sender, account, tx.nonce, total);
      if (!paid.ok) return paid;
      const record = { owner: sender, target: tx.target.slice(), height: ctx.height };
      return ok({ ...paid.state, names: withEntry(state.names, tx.name, record) });
    }
    case 'PARAM_PROPOSAL': {
      const validators = validatorSet(ctx);
      if (!validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator may propose');
      const param = PARAM_BY_ID.get(tx.paramId);
      if (param === undefined) return refuse('UNKNOWN_PARAM', `no parameter with id ${tx.paramId}`);
      const [min, max] = PARAM_RANGES[param];
      if (tx.value < min || tx.value > max) {
        return refuse('BAD_PARAM_VALUE', `${param} must be in ${min}..${max}, got ${tx.value}`);
      }
      const paid = payFee(state, sender, account, tx.nonce, fee);
      if (!paid.ok) return paid;
      const proposal: Proposal = {
        paramId: tx.paramId,
        value: tx.value,
        proposer: sender,
        height: ctx.height,
        votes: new Map(),
      };
      const id = keyHex(txId(signed.bytes));
      return ok({ ...paid.state, proposals: withEntry(state.proposals, id, proposal) });
    }
    case 'PARAM_VOTE': {
      const validators = validatorSet(ctx);
      if (!validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator may vote');
      const id = keyHex(tx.proposalId);
      const proposal = state.proposals.get(id);
      if (proposal === undefined) return refuse('UNKNOWN_PROPOSAL', 'no open proposal with that id');
      if (proposal.votes.has(sender)) return refuse('ALREADY_VOTED', 'this validator already voted');
      const paid = payFee(state, sender, account, tx.nonce, fee);
      if (!paid.ok) return paid;
      const votes = withEntry(proposal.votes, sender, tx.yes);
      let yes = 0;
      for (const [voter, v] of votes) if (v && validators.has(voter)) yes++;
      if (3 * yes > 2 * validators.size) {
        const proposals = new Map(state.proposals);
        proposals.delete(id);
        const params = setParam(state.params, PARAM_BY_ID.get(proposal.paramId), proposal.value);
        return ok({ ...paid.state, proposals, params });
      }
      return ok({ ...paid.state, proposals: withEntry(state.proposals, id, { ...proposal, votes }) });
    }
    case 'RELAY_CLAIM':
    case 'AUDIT_FAIL':
    case 'MEASUREMENT':
      // The economy's kinds have their own tests (test/unit/ledger/economy.test.ts); the generators
      // that drive this reference never produce them.
      throw new Error(`the reference does not model ${tx.kind}`);
  }
}

function ok(state: LedgerState): ApplyResult {
  return { ok: true, state };
}

/** Debits `amount` (fee, plus any other charge that is burned), advances the nonce, burns the amount. */
function payFee(
  state: LedgerState,
  sender: KeyHex,
  account: Account,
  nonce: bigint,
  amount: Credits,
): ApplyResult {
  const balance = subCredits(account.balance, amount);
  if (balance === undefined) {
    return refuse('INSUFFICIENT_FUNDS', `needs ${amount}, balance ${account.balance}`);
  }
  const accounts = withEntry(state.accounts, sender, { ...account, balance, nonce });
  return burn({ ...state, accounts }, amount);
}

function burn(state: LedgerState, amount: Credits): ApplyResult {
  // burned <= minted <= 2^64-1 always holds, so this cannot overflow; checked anyway.
  const burned = addCredits(state.burned, amount);
  if (burned === undefined) return refuse('BALANCE_OVERFLOW', 'burned total would pass 2^64-1');
  return ok({ ...state, burned });
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

function withEntry<K, V>(m: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> {
  const next = new Map(m);
  next.set(key, value);
  return next;
}
