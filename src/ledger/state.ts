// The ledger's state: accounts, relay registrations, names, parameters and their proposals. Plain
// immutable data (ReadonlyMap keyed by lowercase hex of 32-byte keys); apply.ts builds a new state per
// transaction, copying only the maps it changes. stateHash is SHA-256 over one canonical encoding with
// every map in sorted key order, so every node that replays the same transactions gets the same hash.
//
// Supply accounting: credits are minted only by CLAIM_GENESIS; every fee (and a name's fee) is burned.
// Invariant: sum of balances + burned == minted.
import { createHash } from 'node:crypto';
import { Writer } from '../wire/bytes.ts';
import { type Credits, credits, ZERO_CREDITS } from './credits.ts';

/** Lowercase hex of a 32-byte key: map keys, and sorting them sorts the keys' bytes. */
export type KeyHex = string;

/** What reputation is computed from; later slices (proof-of-relay, audits) feed these. */
export interface ReputationInputs {
  readonly relayedBytes: bigint;
  readonly uptimeEpochs: bigint;
  readonly penalties: bigint;
}

export interface Account {
  readonly balance: Credits;
  /** The nonce of the last transaction applied from this account (0: none yet). */
  readonly nonce: bigint;
  readonly genesisClaimed: boolean;
  readonly reputation: ReputationInputs;
}

export interface RelayRegistration {
  readonly roles: number;
  readonly bandwidth: number;
  readonly onionKeyHash: Uint8Array;
  readonly exitPolicySummary: Uint8Array;
  /** Height of the latest registration (a relay re-registers to update). */
  readonly height: number;
}

export interface NameRecord {
  readonly owner: KeyHex;
  readonly target: Uint8Array;
  readonly height: number;
}

export interface LedgerParams {
  readonly startingCredits: Credits;
  readonly blockIntervalMs: number;
  readonly validatorCount: number;
  readonly nameFee: Credits;
  readonly minFee: Credits;
  readonly powDifficulty: number;
}

export const defaultLedgerParams: LedgerParams = {
  startingCredits: credits(1000),
  blockIntervalMs: 30_000,
  validatorCount: 21,
  nameFee: credits(10),
  minFee: credits(1),
  powDifficulty: 16,
};

/** Parameter ids on the wire (PARAM_PROPOSAL.paramId). */
export const PARAM_ID = {
  startingCredits: 1,
  blockIntervalMs: 2,
  validatorCount: 3,
  nameFee: 4,
  minFee: 5,
  powDifficulty: 6,
} as const satisfies Record<keyof LedgerParams, number>;

export interface Proposal {
  readonly paramId: number;
  readonly value: bigint;
  readonly proposer: KeyHex;
  readonly height: number;
  /** Validator key hex → yes. */
  readonly votes: ReadonlyMap<KeyHex, boolean>;
}

export interface LedgerState {
  readonly accounts: ReadonlyMap<KeyHex, Account>;
  readonly relays: ReadonlyMap<KeyHex, RelayRegistration>;
  /** Accounts that declared validator candidacy; the election (by reputation, per epoch) comes later. */
  readonly candidates: ReadonlySet<KeyHex>;
  readonly names: ReadonlyMap<string, NameRecord>;
  readonly params: LedgerParams;
  /** Open proposals by proposal id (hex of the PARAM_PROPOSAL's txId). */
  readonly proposals: ReadonlyMap<KeyHex, Proposal>;
  /** Placeholder: the elected validator set; consensus passes the current one in ApplyContext today. */
  readonly validators: readonly KeyHex[];
  readonly minted: Credits;
  readonly burned: Credits;
}

export const emptyReputation: ReputationInputs = { relayedBytes: 0n, uptimeEpochs: 0n, penalties: 0n };

export const emptyAccount: Account = {
  balance: ZERO_CREDITS,
  nonce: 0n,
  genesisClaimed: false,
  reputation: emptyReputation,
};

export function initialLedgerState(params: Partial<LedgerParams> = {}): LedgerState {
  return {
    accounts: new Map(),
    relays: new Map(),
    candidates: new Set(),
    names: new Map(),
    params: { ...defaultLedgerParams, ...params },
    proposals: new Map(),
    validators: [],
    minted: ZERO_CREDITS,
    burned: ZERO_CREDITS,
  };
}

export function keyHex(key: Uint8Array): KeyHex {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

export function getAccount(state: LedgerState, key: KeyHex): Account {
  return state.accounts.get(key) ?? emptyAccount;
}

const STATE_HASH_CONTEXT = new TextEncoder().encode('anonnet-ledger-state-v1\0');
const utf8 = new TextEncoder();

/** The canonical encoding stateHash covers (exposed for debugging divergent nodes). */
export function encodeStateCanonical(state: LedgerState): Uint8Array {
  const w = new Writer();
  w.bytes(STATE_HASH_CONTEXT);
  const p = state.params;
  w.u64(p.startingCredits).u64(BigInt(p.blockIntervalMs)).u32(p.validatorCount);
  w.u64(p.nameFee).u64(p.minFee).u8(p.powDifficulty);
  w.u64(state.minted).u64(state.burned);

  const accounts = sortedEntries(state.accounts);
  w.u32(accounts.length);
  for (const [key, a] of accounts) {
    w.bytes(hexBytes(key))
      .u64(a.balance)
      .u64(a.nonce)
      .u8(a.genesisClaimed ? 1 : 0);
    w.u64(a.reputation.relayedBytes).u64(a.reputation.uptimeEpochs).u64(a.reputation.penalties);
  }

  const relays = sortedEntries(state.relays);
  w.u32(relays.length);
  for (const [key, r] of relays) {
    w.bytes(hexBytes(key)).u8(r.roles).u32(r.bandwidth).bytes(r.onionKeyHash);
    w.u16(r.exitPolicySummary.length).bytes(r.exitPolicySummary).u64(BigInt(r.height));
  }

  const candidates = [...state.candidates].sort();
  w.u32(candidates.length);
  for (const key of candidates) w.bytes(hexBytes(key));

  const names = sortedEntries(state.names);
  w.u32(names.length);
  for (const [name, n] of names) {
    const bytes = utf8.encode(name);
    w.u8(bytes.length).bytes(bytes).bytes(hexBytes(n.owner)).bytes(n.target).u64(BigInt(n.height));
  }

  const proposals = sortedEntries(state.proposals);
  w.u32(proposals.length);
  for (const [id, pr] of proposals) {
    w.bytes(hexBytes(id)).u8(pr.paramId).u64(pr.value).bytes(hexBytes(pr.proposer)).u64(BigInt(pr.height));
    const votes = sortedEntries(pr.votes);
    w.u32(votes.length);
    for (const [voter, yes] of votes) w.bytes(hexBytes(voter)).u8(yes ? 1 : 0);
  }

  const validators = [...state.validators].sort();
  w.u32(validators.length);
  for (const key of validators) w.bytes(hexBytes(key));
  return w.finish();
}

/** SHA-256 of the canonical encoding: equal states give equal hashes on every node. */
export function stateHash(state: LedgerState): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodeStateCanonical(state)).digest());
}

function sortedEntries<V>(m: ReadonlyMap<string, V>): [string, V][] {
  // Keys are ASCII (hex, or names of [a-z0-9-]), so code-unit order is byte order.
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function hexBytes(hex: KeyHex): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
