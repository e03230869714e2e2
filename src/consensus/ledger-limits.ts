// The bounds a ledger node holds its peers to (hardening issue, classes 2-4), with their defaults in
// one place: the mempool's admission policy, the claimed heights, sync answers and relaying. The
// per-peer frame budget of the link itself is LedgerPeerLimits (net/ledger-net.ts). The daemon's
// config (ledger.mempool, ledger.peerLimits) overrides the operator-relevant ones.
import { defaultHeightClaimOptions, type HeightClaimOptions } from './height-claims.ts';
import { defaultMempoolOptions, type MempoolOptions } from './mempool.ts';

/** SYNC_REQUEST answers: per peer and in all, each a token bucket over requests and bytes. */
export interface SyncAnswerLimits {
  readonly answersPerSecond: number;
  readonly totalAnswersPerSecond: number;
  readonly bytesPerSecond: number;
  readonly totalBytesPerSecond: number;
  /** Buckets hold this many seconds of their rate. */
  readonly burstSeconds: number;
  /** One answer stops before the block that would take it past this (the first block always goes). */
  readonly maxAnswerBytes: number;
}

/** What a node relays of the proposals and votes it verified. */
export interface RelayLimits {
  /** Relayed only up to this many rounds above the node's own round (the engine still sees the rest). */
  readonly maxRoundsAhead: number;
  /** (height, round, signer) slots remembered until the next commit; past it nothing more is relayed. */
  readonly maxSlots: number;
}

export interface LedgerLimits {
  readonly mempool: MempoolOptions;
  readonly heights: HeightClaimOptions;
  readonly sync: SyncAnswerLimits;
  readonly relay: RelayLimits;
}

export type LedgerLimitsInput = { readonly [K in keyof LedgerLimits]?: Partial<LedgerLimits[K]> };

/**
 * Sync: 64 blocks per answer, 2 answers a second per peer (a burst of 8), so a node catches up a day of
 * 30 s blocks (2880) in about half a minute from one peer, while a peer that asks for everything over and
 * over gets at most 8 MiB/s of our disk and bandwidth, and all peers together 32 MiB/s.
 */
export const defaultSyncAnswerLimits: SyncAnswerLimits = {
  answersPerSecond: 2,
  totalAnswersPerSecond: 16,
  bytesPerSecond: 8 * 1024 * 1024,
  totalBytesPerSecond: 32 * 1024 * 1024,
  burstSeconds: 4,
  maxAnswerBytes: 6 * 1024 * 1024,
};

export const defaultRelayLimits: RelayLimits = { maxRoundsAhead: 8, maxSlots: 20_000 };

export const defaultLedgerLimits: LedgerLimits = {
  mempool: defaultMempoolOptions,
  heights: defaultHeightClaimOptions,
  sync: defaultSyncAnswerLimits,
  relay: defaultRelayLimits,
};

/** The defaults with `input`'s values over them (undefined values keep the default). */
export function ledgerLimits(input: LedgerLimitsInput = {}): LedgerLimits {
  return {
    mempool: { ...defaultMempoolOptions, ...defined(input.mempool) },
    heights: { ...defaultHeightClaimOptions, ...defined(input.heights) },
    sync: { ...defaultSyncAnswerLimits, ...defined(input.sync) },
    relay: { ...defaultRelayLimits, ...defined(input.relay) },
  };
}

/** `o` without its undefined values (a config section's unset fields must not erase defaults). */
export function defined<T extends object>(o: T | undefined): Defined<T> {
  if (o === undefined) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

export type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };
