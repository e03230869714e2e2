// The economy's parameters for the simulation: the governed defaults of docs/economy.md ("Governed
// parameters") and the ledger's own (epoch length, block interval, start grant) from src/ledger.
import { defaultLedgerParams } from '../../../src/ledger/state.ts';
import { CELL_BYTES } from '../../../src/wire/cell.ts';

export interface EconomyParams {
  readonly relayBond: bigint;
  readonly creditsPerGiB: bigint;
  readonly poolCapPerEpoch: bigint;
  /** bytes/s an unmeasured relay weighs and may claim. */
  readonly unmeasuredBandwidth: number;
  readonly auditSamples: number;
  readonly capacityCap: number;
  readonly measureSample: number;
  readonly validators: number;
  readonly startingCredits: bigint;
  readonly epochLength: number;
  readonly epochSeconds: number;
}

export const defaultEconomyParams: EconomyParams = {
  relayBond: 100n,
  creditsPerGiB: 1000n,
  poolCapPerEpoch: 10_000_000n,
  unmeasuredBandwidth: 1_048_576,
  auditSamples: 48,
  capacityCap: 2,
  measureSample: 16,
  validators: defaultLedgerParams.validatorCount,
  startingCredits: defaultLedgerParams.startingCredits,
  epochLength: defaultLedgerParams.epochLength,
  epochSeconds: (defaultLedgerParams.epochLength * defaultLedgerParams.blockIntervalMs) / 1000,
};

/** The most cells a claim is paid for: capacityCap × bandwidthBound × epoch seconds, in cells. */
export function capacityCells(p: EconomyParams, bandwidthBound: number): bigint {
  return (
    (BigInt(p.capacityCap) * BigInt(Math.floor(bandwidthBound)) * BigInt(p.epochSeconds)) / BigInt(CELL_BYTES)
  );
}
