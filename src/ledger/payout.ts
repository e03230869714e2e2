// The payout formula of docs/economy.md ("Payout"): what a settled claim is owed. Pure integer
// arithmetic (per mille, bigint), so every node computes the same amount; the economy simulation
// (bench/economy-sim.ts) uses these same functions.
//
//   q   = 500 + 250·bw + 250·lat + 250·up + 250·rep          per mille, 500..1500
//   due = bytes × creditsPerGiB × q / (2^30 × 1000)           one integer division, at the end
import { CELL_BYTES } from '../wire/cell.ts';
import type { Credits } from './credits.ts';
import { MAX_CREDITS } from './credits.ts';
import { minBig, REPUTATION_MAX } from './reputation.ts';

/** Epochs of measured liveness for a full uptime score. */
export const UPTIME_FULL_EPOCHS = 24n;
/** Latency at which the latency score reaches 0. */
export const LATENCY_ZERO_MS = 1000n;

export interface QualityInputs {
  /** Measured bytes/s, or null when unmeasured. */
  readonly measured: { readonly bandwidth: number; readonly latencyMs: number } | null;
  /** The median measured bandwidth of all measured relays (0 when none is). */
  readonly medianBandwidth: number;
  readonly uptimeEpochs: bigint;
  readonly reputation: bigint;
}

/** Each score per mille, 0..1000. */
export function qualityScores(i: QualityInputs): { bw: bigint; lat: bigint; up: bigint; rep: bigint } {
  let bw = 0n;
  let lat = 0n;
  if (i.measured !== null) {
    const median = BigInt(i.medianBandwidth);
    bw = median === 0n ? 1000n : minBig(1000n, (BigInt(i.measured.bandwidth) * 1000n) / (2n * median));
    const l = BigInt(i.measured.latencyMs);
    lat = l >= LATENCY_ZERO_MS ? 0n : 1000n - (l * 1000n) / LATENCY_ZERO_MS;
  }
  const up = minBig(1000n, (i.uptimeEpochs * 1000n) / UPTIME_FULL_EPOCHS);
  const rep = minBig(1000n, (i.reputation * 1000n) / REPUTATION_MAX);
  return { bw, lat, up, rep };
}

/** q per mille: 500 (a new, unmeasured relay) .. 1500. */
export function qualityPermille(i: QualityInputs): number {
  const s = qualityScores(i);
  return Number(500n + (250n * (s.bw + s.lat + s.up + s.rep)) / 1000n);
}

/** Credits owed for `cells` proven cells at quality `q` (per mille); capped at 2^64-1. */
export function payoutDue(cells: bigint, creditsPerGiB: Credits, q: number): Credits {
  const due = (cells * BigInt(CELL_BYTES) * creditsPerGiB * BigInt(q)) / (1n << 30n) / 1000n;
  return (due > MAX_CREDITS ? MAX_CREDITS : due) as Credits;
}

/**
 * Cells a relay may be paid for in one epoch: its bandwidth bound (measured, else the unmeasured
 * bandwidth) times the epoch's nominal duration.
 */
export function capacityCells(bandwidth: number, epochLength: number, blockIntervalMs: number): bigint {
  return (BigInt(bandwidth) * BigInt(epochLength) * BigInt(blockIntervalMs)) / 1000n / BigInt(CELL_BYTES);
}

/** The median of a list of numbers (the lower middle for an even count); 0 for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1] ?? 0;
}
