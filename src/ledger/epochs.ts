// Epochs and validator election. An epoch is a fixed range of block heights with one validator set.
// When the last block of epoch e is applied, the set for epoch e+2 is elected and its range fixed
// (start = the block after epoch e+1, length = the epochLength parameter at that moment), so every
// set is known two epochs ahead and never changes afterwards. The genesis document fixes epochs 0
// (heights 1..L) and 1 (L+1..2L).
//
// Election: the top validatorCount candidates by reputation (./reputation.ts), ties broken by key
// bytes ascending; keys with penalties never stand. When fewer than min(validatorCount, 4) candidates
// are eligible the previous epoch's set is kept, so the set is never empty and a nearly empty
// candidate list cannot shrink the network to a single validator.
import { reputation } from './reputation.ts';
import { type EpochInfo, getAccount, hexKey, type KeyHex, type LedgerState } from './state.ts';

/** Below this many eligible candidates (or validatorCount, if smaller) the previous set stays. */
export const MIN_ELECTED_VALIDATORS = 4;

/** The known epoch containing `height`, or undefined (too old, or not elected yet). */
export function epochAt(state: LedgerState, height: number): EpochInfo | undefined {
  return state.epochs.find((e) => height >= e.startHeight && height < e.startHeight + e.length);
}

/** The validator keys (sorted bytewise) for a block at `height`: known for the current and next two epochs. */
export function validatorsForHeight(state: LedgerState, height: number): Uint8Array[] | undefined {
  return epochAt(state, height)?.validators.map(hexKey);
}

/** True when `height` is the last block of its epoch. */
export function isEpochEnd(state: LedgerState, height: number): boolean {
  const e = epochAt(state, height);
  return e !== undefined && height === e.startHeight + e.length - 1;
}

/** The ranked election result for the state as it is now (sorted bytewise, as EpochInfo keeps it). */
export function electValidators(state: LedgerState, previous: readonly KeyHex[]): KeyHex[] {
  const n = state.params.validatorCount;
  const eligible = [...state.candidates].filter((k) => getAccount(state, k).reputation.penalties === 0n);
  if (eligible.length < Math.min(n, MIN_ELECTED_VALIDATORS)) return [...previous];
  const ranked = eligible
    .map((key) => ({ key, rep: reputation(state, key) }))
    .sort((a, b) =>
      a.rep !== b.rep ? (a.rep > b.rep ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    );
  return ranked
    .slice(0, n)
    .map((r) => r.key)
    .sort();
}
