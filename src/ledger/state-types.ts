// The shapes of the ledger's state (./state.ts describes them and re-exports them): plain immutable
// data, shared by the state's functions and its canonical codec (./state-codec.ts).
import type { Credits } from './credits.ts';

/** Lowercase hex of a 32-byte key: map keys, and sorting them sorts the keys' bytes. */
export type KeyHex = string;

/** What reputation is computed from (./reputation.ts); only committed blocks change these. */
export interface ReputationInputs {
  /** Relay work proven on chain: bytes paid by settled claims (./settlement.ts). */
  readonly relayedBytes: bigint;
  /**
   * Epochs in which this key signed at least 2/3 of the commits carried by the epoch's blocks, or (a
   * relay) was measured live by the validators; at most one per epoch.
   */
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
  /** The account its earnings are paid to. */
  readonly payout: KeyHex;
  /** Credits locked by the registration; a penalised claim burns them (0: out of the relay list). */
  readonly bond: Credits;
  /** The validators' median measurement, committed at an epoch end; null until first measured. */
  readonly measured: MeasuredBandwidth | null;
  /** Credits paid to `payout` for this relay's claims, over its life. */
  readonly earned: Credits;
}

export interface MeasuredBandwidth {
  /** Bytes per second. */
  readonly bandwidth: number;
  readonly latencyMs: number;
  /** The epoch whose measurements it is the median of. */
  readonly epoch: number;
}

/** A relay's claim of proven work for one epoch (docs/economy.md, "Claims"). */
export interface RelayClaim {
  readonly epoch: number;
  /** Cells its receipts confirm: the Merkle sum tree's total. */
  readonly cells: bigint;
  readonly leaves: number;
  readonly root: Uint8Array;
  /** The claim transaction's id: audit sample positions derive from it. */
  readonly txId: Uint8Array;
}

/** How one relay's claim was settled (the latest one per relay is kept, for the surface). */
export interface Settlement {
  readonly epoch: number;
  readonly claimedCells: bigint;
  /** Cells paid for: the claim capped by capacity, 0 when penalised. */
  readonly paidCells: bigint;
  /** The quality factor q, per mille (500..1500). */
  readonly quality: number;
  readonly due: Credits;
  readonly paid: Credits;
  readonly penalised: boolean;
  /** Validators that submitted AUDIT_FAIL for this claim. */
  readonly failVotes: number;
}

/** The economy's part of the state (docs/economy.md). */
export interface EconomyState {
  /** Credits minted for relay payouts and not paid out yet. */
  readonly pool: Credits;
  /** Claims for the previous epoch, by relay: settled when the current epoch ends. */
  readonly claims: ReadonlyMap<KeyHex, RelayClaim>;
  /** AUDIT_FAIL verdicts on those claims: relay → validators. */
  readonly auditFails: ReadonlyMap<KeyHex, ReadonlySet<KeyHex>>;
  /** This epoch's MEASUREMENT reports: relay → validator → measurement. */
  readonly measurements: ReadonlyMap<KeyHex, ReadonlyMap<KeyHex, MeasuredBandwidth>>;
  /** The latest settlement of each relay. */
  readonly settlements: ReadonlyMap<KeyHex, Settlement>;
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
  /** Credits a relay registration locks (docs/economy.md, "Governed parameters"). */
  readonly relayBond: Credits;
  /** Payout per GiB of proven relayed traffic at quality 1000 per mille. */
  readonly creditsPerGiB: Credits;
  /** Most credits minted into the payout pool per epoch. */
  readonly poolCapPerEpoch: Credits;
  /** Bytes/s an unmeasured relay weighs in path selection and may be paid for. */
  readonly unmeasuredBandwidth: number;
  /** Audit samples per claim. */
  readonly auditSamples: number;
  /** A claim above capacityCap × capacity × epoch time is penalised. */
  readonly capacityCap: number;
  /** Relays each validator measures per epoch. */
  readonly measureSample: number;
}

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
  readonly economy: EconomyState;
}
