// The ledger's state: accounts, relay registrations, names, parameters and their proposals, the chain
// position (height, last block hash), the validator sets of the known epochs and the uptime and
// evidence bookkeeping. Plain immutable data (ReadonlyMap keyed by lowercase hex of 32-byte keys);
// apply.ts and chain.ts build a new state per transaction or block (through a LedgerDraft, ./draft.ts),
// copying only the maps they change.
// stateHash is SHA-256 over one canonical encoding (./state-codec.ts) with every map in sorted key
// order, so every node that replays the same blocks gets the same hash.
//
// Supply accounting: credits are minted only by CLAIM_GENESIS and the genesis document's prefunded
// accounts; every fee (and a name's fee) is burned. Invariant: sum of balances + burned == minted.
import { createHash } from 'node:crypto';
import { DEFAULT_POW_DIFFICULTY } from '../crypto/pow.ts';
import { type Credits, credits, ZERO_CREDITS } from './credits.ts';
import { encodeState, encodeStateParts } from './state-codec.ts';

/** Lowercase hex of a 32-byte key: map keys, and sorting them sorts the keys' bytes. */
export type KeyHex = string;

/** What reputation is computed from (./reputation.ts); only committed blocks change these. */
export interface ReputationInputs {
  /** Relay work credited on chain (proof-of-relay arrives in a later slice; 0 until then). */
  readonly relayedBytes: bigint;
  /** Epochs in which this key signed at least 2/3 of the commits carried by the epoch's blocks. */
  readonly uptimeEpochs: bigint;
  /** Proven equivocations. */
  readonly penalties: bigint;
  /** Height age counts from: the first relay registration, or 0 for genesis members; null: none. */
  readonly since: number | null;
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
  /** Blocks per epoch; a change applies to epochs elected after it (two epochs ahead). */
  readonly epochLength: number;
}

export const defaultLedgerParams: LedgerParams = {
  startingCredits: credits(1000),
  blockIntervalMs: 30_000,
  validatorCount: 21,
  nameFee: credits(10),
  minFee: credits(1),
  // The same work as a node identity (crypto/pow.ts): a node claims with its identity's nonce.
  powDifficulty: DEFAULT_POW_DIFFICULTY,
  epochLength: 120,
};

/** Parameter ids on the wire (PARAM_PROPOSAL.paramId). */
export const PARAM_ID = {
  startingCredits: 1,
  blockIntervalMs: 2,
  validatorCount: 3,
  nameFee: 4,
  minFee: 5,
  powDifficulty: 6,
  epochLength: 7,
} as const satisfies Record<keyof LedgerParams, number>;

export interface Proposal {
  readonly paramId: number;
  readonly value: bigint;
  readonly proposer: KeyHex;
  readonly height: number;
  /** Validator key hex → yes. */
  readonly votes: ReadonlyMap<KeyHex, boolean>;
}

/** One epoch's fixed height range and validator set (keys sorted bytewise). */
export interface EpochInfo {
  readonly epoch: number;
  readonly startHeight: number;
  readonly length: number;
  readonly validators: readonly KeyHex[];
}

/** One equivocation slot already punished: (validator, height, round, vote type). */
export interface EvidenceRecord {
  readonly validator: KeyHex;
  readonly height: number;
  readonly round: number;
  /** 1 PREVOTE, 2 PRECOMMIT (the wire numbers). */
  readonly voteType: number;
}

export interface LedgerState {
  /** The genesis document's chain id: blocks and votes of another chain never apply. */
  readonly chainId: string;
  /** Height of the last applied block (0: the genesis state). */
  readonly height: number;
  /** Hash of the last applied block (32 zero bytes at genesis). */
  readonly lastBlockHash: Uint8Array;
  readonly accounts: ReadonlyMap<KeyHex, Account>;
  readonly relays: ReadonlyMap<KeyHex, RelayRegistration>;
  /** Keys standing for election (genesis validators, and relays that declared candidacy). */
  readonly candidates: ReadonlySet<KeyHex>;
  readonly names: ReadonlyMap<string, NameRecord>;
  readonly params: LedgerParams;
  /** Open proposals by proposal id (hex of the PARAM_PROPOSAL's txId). */
  readonly proposals: ReadonlyMap<KeyHex, Proposal>;
  /** Known epochs in ascending order: the one just finished (for late evidence), current, next (two). */
  readonly epochs: readonly EpochInfo[];
  /** Uptime in the current epoch: key → commits carried by this epoch's blocks that it signed. */
  readonly epochSigned: ReadonlyMap<KeyHex, number>;
  /** Commits carried by this epoch's blocks so far. */
  readonly epochCommits: number;
  /** Punished equivocation slots, by evidenceKey(); pruned with the epochs they belong to. */
  readonly evidenceSeen: ReadonlyMap<string, EvidenceRecord>;
  readonly minted: Credits;
  readonly burned: Credits;
}

export const emptyReputation: ReputationInputs = {
  relayedBytes: 0n,
  uptimeEpochs: 0n,
  penalties: 0n,
  since: null,
};

export const emptyAccount: Account = {
  balance: ZERO_CREDITS,
  nonce: 0n,
  genesisClaimed: false,
  reputation: emptyReputation,
};

export const ZERO_BLOCK_HASH: Uint8Array = new Uint8Array(32);

/** A state with no accounts and no epochs (tests of single transactions; chains use genesisState). */
export function initialLedgerState(
  params: Partial<LedgerParams> = {},
  chainId = 'anonnet-local',
): LedgerState {
  return {
    chainId,
    height: 0,
    lastBlockHash: ZERO_BLOCK_HASH,
    accounts: new Map(),
    relays: new Map(),
    candidates: new Set(),
    names: new Map(),
    params: { ...defaultLedgerParams, ...params },
    proposals: new Map(),
    epochs: [],
    epochSigned: new Map(),
    epochCommits: 0,
    evidenceSeen: new Map(),
    minted: ZERO_CREDITS,
    burned: ZERO_CREDITS,
  };
}

export function keyHex(key: Uint8Array): KeyHex {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

export function hexKey(hex: KeyHex): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function getAccount(state: LedgerState, key: KeyHex): Account {
  return state.accounts.get(key) ?? emptyAccount;
}

export function evidenceKey(r: EvidenceRecord): string {
  return `${r.validator}:${r.height}:${r.round}:${r.voteType}`;
}

/** The canonical encoding stateHash covers (exposed for debugging divergent nodes). */
export function encodeStateCanonical(state: LedgerState): Uint8Array {
  return encodeState(state);
}

// States are immutable, so a state's hash is computed once (validation and commit both ask for it).
const hashCache = new WeakMap<LedgerState, Uint8Array>();

/** SHA-256 of the canonical encoding: equal states give equal hashes on every node. */
export function stateHash(state: LedgerState): Uint8Array {
  let hash = hashCache.get(state);
  if (hash === undefined) {
    const h = createHash('sha256');
    for (const part of encodeStateParts(state)) h.update(part);
    hash = new Uint8Array(h.digest());
    hashCache.set(state, hash);
  }
  return hash.slice();
}
