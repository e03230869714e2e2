// The mempool's admission policy as pure functions: what a transaction will cost its sender, which
// queued transactions are "gapped" (they wait for an earlier nonce nobody has queued, so no block can
// include them yet), and which queued transaction a newcomer may push out when the pool is full.
//
// Eviction order, worst first: gapped before ready, then the lowest fee, then the oldest. Only a
// sender's highest queued nonce is ever a candidate (evicting a lower one would leave its later ones
// gapped), and a newcomer displaces a victim only when it ranks strictly better by (ready before
// gapped, then fee): at an equal fee the pool keeps what it has and the newcomer is refused, so a flood
// at the minimum fee cannot churn honest transactions out.
import type { LedgerParams } from '../ledger/state.ts';
import type { Tx } from '../wire/ledger-tx.ts';

/** Credits a transaction takes from its sender when it applies: the fee, a transfer's amount, a name's fee. */
export function txCost(tx: Tx, params: Pick<LedgerParams, 'nameFee'>): bigint {
  switch (tx.kind) {
    case 'TRANSFER':
      return tx.fee + tx.amount;
    case 'REGISTER_NAME':
      return tx.fee + params.nameFee;
    default:
      return tx.fee;
  }
}

/**
 * The highest nonce n such that every nonce from accountNonce + 1 to n is queued: the sender's
 * transactions up to n can go into the next block in order; those above n are gapped.
 */
export function readyEnd(queued: ReadonlyMap<bigint, unknown>, accountNonce: bigint): bigint {
  let n = accountNonce;
  while (queued.has(n + 1n)) n++;
  return n;
}

/** How many of a sender's queued transactions are gapped. */
export function gappedCount(queued: ReadonlyMap<bigint, unknown>, accountNonce: bigint): number {
  return queued.size - Number(readyEnd(queued, accountNonce) - accountNonce);
}

export interface Rank {
  readonly gapped: boolean;
  readonly fee: bigint;
  /** Arrival order: lower is older. */
  readonly seq: number;
}

/** True when `a` is evicted before `b`: gapped first, then the lower fee, then the older. */
export function evictsBefore(a: Rank, b: Rank): boolean {
  if (a.gapped !== b.gapped) return a.gapped;
  if (a.fee !== b.fee) return a.fee < b.fee;
  return a.seq < b.seq;
}

/** True when a newcomer may take the victim's place: strictly better by (ready before gapped, then fee). */
export function displaces(newcomer: Omit<Rank, 'seq'>, victim: Rank): boolean {
  if (newcomer.gapped !== victim.gapped) return victim.gapped;
  return newcomer.fee > victim.fee;
}
