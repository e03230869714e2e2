// The ledger's state: accounts, relay registrations, names, parameters and their proposals, the chain
// position (height, last block hash), the validator sets of the known epochs and the uptime and
// evidence bookkeeping. Plain immutable data (ReadonlyMap keyed by lowercase hex of 32-byte keys);
// apply.ts and chain.ts build a new state per transaction or block (through a LedgerDraft, ./draft.ts),
// copying only the maps they change.
// stateHash is SHA-256 over one canonical encoding (./state-codec.ts) with every map in sorted key
// order, so every node that replays the same blocks gets the same hash.
//
// Supply accounting: credits are minted by CLAIM_GENESIS, the genesis document's prefunded accounts and
// the relay payout pool (./settlement.ts, up to poolCapPerEpoch an epoch); every fee (and a name's fee,
// and a penalised relay's bond) is burned. Invariant:
//   sum of balances + sum of relay bonds + economy.pool + burned == minted.
import { createHash } from 'node:crypto';
import { DEFAULT_POW_DIFFICULTY } from '../crypto/pow.ts';
import { credits, ZERO_CREDITS } from './credits.ts';
import { encodeState, encodeStateParts } from './state-codec.ts';
import type {
  Account,
  EconomyState,
  EvidenceRecord,
  KeyHex,
  LedgerParams,
  LedgerState,
  ReputationInputs,
} from './state-types.ts';

// The shapes live in ./state-types.ts (the codec needs them too, and the codec is needed here).
export type {
  Account,
  EconomyState,
  EpochInfo,
  EvidenceRecord,
  KeyHex,
  LedgerParams,
  LedgerState,
  MeasuredBandwidth,
  NameRecord,
  Proposal,
  RelayClaim,
  RelayRegistration,
  ReputationInputs,
  Settlement,
} from './state-types.ts';

export const defaultLedgerParams: LedgerParams = {
  startingCredits: credits(1000),
  blockIntervalMs: 30_000,
  validatorCount: 21,
  nameFee: credits(10),
  minFee: credits(1),
  // The same work as a node identity (crypto/pow.ts): a node claims with its identity's nonce.
  powDifficulty: DEFAULT_POW_DIFFICULTY,
  epochLength: 120,
  relayBond: credits(100),
  creditsPerGiB: credits(1000),
  poolCapPerEpoch: credits(10_000_000),
  unmeasuredBandwidth: 1024 * 1024,
  auditSamples: 64,
  capacityCap: 2,
  measureSample: 16,
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
  relayBond: 8,
  creditsPerGiB: 9,
  poolCapPerEpoch: 10,
  unmeasuredBandwidth: 11,
  auditSamples: 12,
  capacityCap: 13,
  measureSample: 14,
} as const satisfies Record<keyof LedgerParams, number>;

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

export const emptyEconomy: EconomyState = {
  pool: ZERO_CREDITS,
  claims: new Map(),
  auditFails: new Map(),
  measurements: new Map(),
  settlements: new Map(),
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
    economy: emptyEconomy,
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
