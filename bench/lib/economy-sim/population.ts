// Who the simulated relays are: their behaviour and the resources they bring. Honest relays carry what
// clients send them and claim exactly that; lazy ones are honest but offline a third of the epochs and
// on slow links; liars inflate their claims by a fixed share with one method; colluders come in adjacent
// pairs that sign each other fake receipts up to the capacity cap.
import type { Prng } from '../../../test/sim/prng.ts';

export const LIE_METHODS = ['fake-leaf', 'fake-sum', 'duplicate'] as const;
export type LieMethod = (typeof LIE_METHODS)[number];
export const INFLATIONS: readonly number[] = [0.05, 0.1, 0.25, 0.5];

export type Behaviour =
  | { readonly kind: 'honest' }
  | { readonly kind: 'lazy' }
  | { readonly kind: 'liar'; readonly method: LieMethod; readonly inflation: number }
  | { readonly kind: 'colluder'; readonly partner: number };

export const RELAY_CLASSES = [
  'honest',
  'lazy',
  'liar:fake-leaf',
  'liar:fake-sum',
  'liar:duplicate',
  'colluder',
] as const;
export type RelayClass = (typeof RELAY_CLASSES)[number];

export interface RelayProfile {
  readonly id: number;
  readonly behaviour: Behaviour;
  /** True bandwidth, bytes/s (also what its descriptor claims). */
  readonly bandwidth: number;
  readonly latencyMs: number;
  /** Chance to be online in an epoch. */
  readonly online: number;
  /** Range of the share of its path weight that clients use in an epoch. */
  readonly utilization: readonly [number, number];
}

/** Share of relays that are lazy in every scenario. */
export const LAZY_SHARE = 0.2;
/** Share of the dishonest relays that collude (in pairs); the rest lie, spread over method × inflation. */
export const COLLUDER_SHARE = 0.28;

const MIB = 1_048_576;

export function classOf(b: Behaviour): RelayClass {
  return b.kind === 'liar' ? `liar:${b.method}` : b.kind;
}

/** `n` relays, `dishonestShare` of them liars or colluders, LAZY_SHARE lazy, the rest honest. */
export function population(n: number, dishonestShare: number, prng: Prng): RelayProfile[] {
  const order = prng.shuffle(Array.from({ length: n }, (_, i) => i));
  const lazy = Math.round(LAZY_SHARE * n);
  const dishonest = Math.round(dishonestShare * n);
  const colluders = 2 * Math.round((COLLUDER_SHARE * dishonest) / 2);
  const behaviours = new Array<Behaviour>(n).fill({ kind: 'honest' });
  order.slice(0, lazy).forEach((i) => {
    behaviours[i] = { kind: 'lazy' };
  });
  const bad = order.slice(lazy, lazy + dishonest);
  for (let k = 0; k + 1 < colluders; k += 2) {
    const [a, b] = [bad[k] as number, bad[k + 1] as number];
    behaviours[a] = { kind: 'colluder', partner: b };
    behaviours[b] = { kind: 'colluder', partner: a };
  }
  bad.slice(colluders).forEach((i, k) => {
    const method = LIE_METHODS[k % LIE_METHODS.length] as LieMethod;
    const inflation = INFLATIONS[Math.floor(k / LIE_METHODS.length) % INFLATIONS.length] as number;
    behaviours[i] = { kind: 'liar', method, inflation };
  });
  return behaviours.map((behaviour, id) => {
    const slow = behaviour.kind === 'lazy';
    return {
      id,
      behaviour,
      // Log-uniform: 1..32 MiB/s, a lazy relay 0.25..2 MiB/s.
      bandwidth: Math.round(MIB * (slow ? 0.25 * 8 ** prng.float() : 32 ** prng.float())),
      latencyMs: prng.int(20, slow ? 600 : 300),
      online: slow ? 0.65 : 0.98,
      utilization: slow ? [0.05, 0.3] : [0.1, 0.5],
    };
  });
}
