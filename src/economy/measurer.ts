// A validator's bandwidth measurements (docs/economy.md, "Measurement"): once per epoch it measures
// measureSample registered relays (itself excepted), chosen by a hash of the block hash that opened the
// epoch, its own key and each relay's key (so no relay knows ahead of the epoch who measures it), one
// at a time, and reports them in MEASUREMENT transactions of at most MAX_MEASUREMENTS entries. A relay
// that does not answer is reported at bandwidth 0; the ledger keeps the median of all reports.
import { createHash } from 'node:crypto';
import { epochAt, validatorsForHeight } from '../ledger/epochs.ts';
import { hexKey, type KeyHex, keyHex, type LedgerState } from '../ledger/state.ts';
import type { Logger } from '../log/logger.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { MAX_MEASUREMENTS, type Measurement } from '../wire/ledger-tx.ts';
import type { IdentityTxs } from './identity-txs.ts';

/** Measures one relay; undefined when it could not be measured. */
export type MeasureFn = (
  identityKey: Uint8Array,
  signal: AbortSignal,
) => Promise<{ readonly bandwidth: number; readonly latencyMs: number } | undefined>;

export interface MeasurerStats {
  measured: number;
  unreachable: number;
  reported: number;
}

const MEASURE_TIMEOUT_MS = 30_000;
const MAX_LATENCY_MS = 0xffff;

/** The relays `measurer` measures in the epoch opened by `blockHash`: the lowest hashes first. */
export function measurementSample(
  relays: readonly KeyHex[],
  blockHash: Uint8Array,
  measurer: Uint8Array,
  count: number,
): KeyHex[] {
  const rank = (relay: KeyHex) =>
    createHash('sha256').update(blockHash).update(measurer).update(hexKey(relay)).digest('hex');
  return relays
    .filter((r) => r !== keyHex(measurer))
    .map((r) => ({ r, h: rank(r) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .slice(0, count)
    .map((x) => x.r);
}

export class Measurer {
  readonly #own: Uint8Array;
  readonly #txs: IdentityTxs;
  readonly #log: Logger;
  #measure: MeasureFn | undefined;
  #epoch: number | undefined;
  readonly stats: MeasurerStats = { measured: 0, unreachable: 0, reported: 0 };

  constructor(own: Uint8Array, txs: IdentityTxs, log: Logger) {
    this.#own = own;
    this.#txs = txs;
    this.#log = log;
  }

  /** The circuit layer's measurement (set once the client side exists). */
  use(measure: MeasureFn): void {
    this.#measure = measure;
  }

  /** Called after every committed block. */
  onState(state: LedgerState, signal: AbortSignal): void {
    const next = state.height + 1;
    const now = epochAt(state, next);
    const measure = this.#measure;
    if (now === undefined || measure === undefined || this.#epoch === now.epoch) return;
    if (!(validatorsForHeight(state, next) ?? []).some((v) => bytesEqual(v, this.#own))) return;
    this.#epoch = now.epoch;
    const registered = [...state.relays].filter(([, r]) => r.bond > 0n).map(([k]) => k);
    const sample = measurementSample(registered, state.lastBlockHash, this.#own, state.params.measureSample);
    if (sample.length > 0) void this.#run(now.epoch, sample, measure, signal);
  }

  async #run(
    epoch: number,
    sample: readonly KeyHex[],
    measure: MeasureFn,
    signal: AbortSignal,
  ): Promise<void> {
    const results: Measurement[] = [];
    for (const relay of sample) {
      if (signal.aborted) return;
      let m: Awaited<ReturnType<MeasureFn>>;
      try {
        m = await measure(hexKey(relay), AbortSignal.any([signal, AbortSignal.timeout(MEASURE_TIMEOUT_MS)]));
      } catch (err) {
        this.#log.debug({ err: (err as Error).message }, 'measurement failed');
        m = undefined;
      }
      if (m === undefined) this.stats.unreachable++;
      else this.stats.measured++;
      results.push({
        relay: hexKey(relay),
        bandwidth: Math.min(0xffffffff, m?.bandwidth ?? 0),
        latencyMs: Math.min(MAX_LATENCY_MS, m?.latencyMs ?? MAX_LATENCY_MS),
      });
    }
    for (let i = 0; i < results.length; i += MAX_MEASUREMENTS) {
      const entries = results.slice(i, i + MAX_MEASUREMENTS);
      const r = await this.#txs.send({ kind: 'MEASUREMENT', epoch, entries }, signal).catch(() => undefined);
      if (r?.ok === true) this.stats.reported += entries.length;
      else
        this.#log.info({ epoch, outcome: r?.ok === false ? r.code : 'aborted' }, 'measurements not recorded');
    }
  }
}
