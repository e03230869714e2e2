// The economy's parameters for the simulation: the ledger's own defaults (src/ledger/state.ts, the
// governed parameters of docs/economy.md), and a relay's capacity as the ledger computes it.
import { capacityCells } from '../../../src/ledger/payout.ts';
import { defaultLedgerParams } from '../../../src/ledger/state.ts';
import type { LedgerParams } from '../../../src/ledger/state-types.ts';

export type EconomyParams = LedgerParams;

export const defaultEconomyParams: EconomyParams = defaultLedgerParams;

/** Seconds in an epoch at the nominal block interval. */
export function epochSeconds(p: EconomyParams): number {
  return (p.epochLength * p.blockIntervalMs) / 1000;
}

/**
 * The bandwidth a relay's claim is bounded by, as settlement computes it (src/ledger/settlement.ts):
 * the measured bandwidth, at least unmeasuredBandwidth.
 */
function bandwidthBound(p: EconomyParams, measured: number | undefined): number {
  return Math.max(measured ?? 0, p.unmeasuredBandwidth);
}

/** Cells a relay may be paid for in an epoch (a claim above capacityCap times this is penalised). */
export function relayCapacity(p: EconomyParams, measured: number | undefined): bigint {
  return capacityCells(bandwidthBound(p, measured), p.epochLength, p.blockIntervalMs);
}
