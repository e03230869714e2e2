// The payout pool at an epoch's end, as the ledger's settlement pays it (src/ledger/settlement.ts,
// payFromPool): mint toward what is owed, at most poolCapPerEpoch, then pay every due, pro rata when
// the pool falls short. What each claim is due comes from the ledger's own formula (src/ledger/payout.ts).
export interface PoolSettlement {
  readonly minted: bigint;
  readonly paid: readonly bigint[];
  readonly pool: bigint;
}

export function settlePool(dues: readonly bigint[], pool: bigint, poolCapPerEpoch: bigint): PoolSettlement {
  const total = dues.reduce((s, d) => s + d, 0n);
  const want = total > pool ? total - pool : 0n;
  const minted = want < poolCapPerEpoch ? want : poolCapPerEpoch;
  const available = pool + minted;
  const paid = total <= available ? [...dues] : dues.map((d) => (d * available) / total);
  return { minted, paid, pool: available - paid.reduce((s, d) => s + d, 0n) };
}
