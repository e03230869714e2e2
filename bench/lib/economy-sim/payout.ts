// The payout formula of docs/economy.md ("Payout"), in integers, as the simulation settles claims.
// Until src/ledger/payout.ts exists on main this is the doc's formula written out; the simulation
// switches to the ledger's own code when it lands.
import { CELL_BYTES } from '../../../src/wire/cell.ts';

export interface PayoutInput {
  /** Cells claimed (root.sum). */
  readonly cells: bigint;
  /** Cells the relay's capacity allows this epoch (params.ts capacityCells). */
  readonly capacityCells: bigint;
  readonly penalised: boolean;
  /** Measured bandwidth, bytes/s; undefined when the relay was never measured. */
  readonly measured: number | undefined;
  /** Median measured bandwidth of all measured relays, bytes/s. */
  readonly medianMeasured: number;
  /** Measured round-trip latency, ms; undefined when never measured. */
  readonly latencyMs: number | undefined;
  readonly liveEpochs: number;
  /** The ledger's reputation score (src/ledger/reputation.ts). */
  readonly reputation: bigint;
}

const GIB = 1n << 30n;

/** q in per-mille, 500..1500. */
export function qualityPerMille(i: PayoutInput): bigint {
  const measured = i.measured !== undefined;
  const bw =
    measured && i.medianMeasured > 0
      ? min(1000n, (BigInt(Math.floor(i.measured ?? 0)) * 1000n) / BigInt(2 * Math.floor(i.medianMeasured)))
      : 0n;
  const lat = measured && i.latencyMs !== undefined ? max(0n, 1000n - BigInt(Math.round(i.latencyMs))) : 0n;
  const up = min(1000n, (BigInt(i.liveEpochs) * 1000n) / 24n);
  const rep = min(1000n, (i.reputation * 1000n) / 728n);
  return 500n + (250n * bw + 250n * lat + 250n * up + 250n * rep) / 1000n;
}

/** Credits due for one claim. */
export function dueFor(i: PayoutInput, creditsPerGiB: bigint): bigint {
  if (i.penalised) return 0n;
  const bytes = min(i.cells, i.capacityCells) * BigInt(CELL_BYTES);
  return (bytes * creditsPerGiB * qualityPerMille(i)) / (GIB * 1000n);
}

export interface Settlement {
  readonly minted: bigint;
  readonly paid: readonly bigint[];
  readonly pool: bigint;
}

/** Mints into the pool up to the cap, then pays every due (pro rata when the pool falls short). */
export function settle(dues: readonly bigint[], pool: bigint, poolCapPerEpoch: bigint): Settlement {
  const total = dues.reduce((s, d) => s + d, 0n);
  const minted = min(poolCapPerEpoch, max(0n, total - pool));
  const available = pool + minted;
  const paid = available >= total ? [...dues] : dues.map((d) => (d * available) / total);
  const out = paid.reduce((s, d) => s + d, 0n);
  return { minted, paid, pool: available - out };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
