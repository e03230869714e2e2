// Reputation: a pure function of committed state, never of local gossip or clocks. Computed when an
// epoch ends, to rank validator candidates (./epochs.ts).
//
//   age      = blocks since `since` (first relay registration, or genesis), 0 when none
//   ageScore = min(age / epochLength, 100)                       whole epochs of age, capped
//   uptime   = 5 * min(uptimeEpochs, 100)                        epochs with >= 2/3 commits signed,
//                                                                or measured live as a relay
//   relay    = 2 * bitLength(relayedBytes)                       log2 of proven relay work (0..128)
//   base     = ageScore + uptime + relay                         at most 100 + 500 + 128 = 728
//   reputation = max(0, base - 1000 * penalties)
//
// One penalty (a proven equivocation, or a relay claim its audit refuted) outweighs any possible base,
// so a penalised key always ranks at 0 and never stands for validator. All integer arithmetic (bigint): no rounding drift.
import type { LedgerState, ReputationInputs } from './state.ts';
import { getAccount, type KeyHex } from './state.ts';

export const REPUTATION_WEIGHTS = {
  ageCapEpochs: 100n,
  uptimeWeight: 5n,
  uptimeCapEpochs: 100n,
  relayWeight: 2n,
  penaltyWeight: 1000n,
} as const;

/** The highest reputation a key can have (the payout formula scales by it). */
export const REPUTATION_MAX = 728n;

export function reputationScore(inputs: ReputationInputs, height: number, epochLength: number): bigint {
  const w = REPUTATION_WEIGHTS;
  const age = inputs.since === null ? 0n : BigInt(Math.max(0, height - inputs.since));
  const ageEpochs = age / BigInt(Math.max(1, epochLength));
  const ageScore = minBig(ageEpochs, w.ageCapEpochs);
  const uptimeEpochs = minBig(inputs.uptimeEpochs, w.uptimeCapEpochs);
  const relay = w.relayWeight * BigInt(bitLength(inputs.relayedBytes));
  const base = ageScore + w.uptimeWeight * uptimeEpochs + relay;
  const score = base - w.penaltyWeight * inputs.penalties;
  return score > 0n ? score : 0n;
}

/** The reputation of `key` in `state` (at state.height, with the current epochLength parameter). */
export function reputation(state: LedgerState, key: KeyHex): bigint {
  return reputationScore(getAccount(state, key).reputation, state.height, state.params.epochLength);
}

function bitLength(v: bigint): number {
  return v <= 0n ? 0 : v.toString(2).length;
}

/** Math.min for bigint (Math.min takes numbers only). */
export function minBig(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}
