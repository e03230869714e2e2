// Scenario generation for the consensus simulation: everything derives from the seed.
import type { Behaviour, SimConfig } from './cluster.ts';
import { Prng } from './prng.ts';

/** The whole scenario derives from the seed. */
export function configFor(seed: number): SimConfig {
  const r = new Prng(seed ^ 0x5eed);
  const n = r.chance(0.25) ? 7 : 4;
  const f = Math.floor((n - 1) / 3);
  const byzantine: Behaviour[] = [];
  const nByz = r.int(0, f);
  for (let i = 0; i < nByz; i++) byzantine.push(r.pick<Behaviour>(['equivocate', 'withhold', 'invalid']));
  return {
    seed,
    n,
    byzantine,
    gstMs: r.int(1500, 4000),
    loss: r.pick([0, 0.05, 0.15, 0.3]),
    duplicate: r.pick([0, 0.05, 0.2]),
    maxDelayMs: r.pick([40, 150, 400, 900]),
    partitions: r.int(0, 2),
    crashes: r.int(0, 2),
    livenessHeights: 3,
    livenessBoundMs: 20_000,
    // Drawn last, so the fields above stay what they were for a seed when these were added.
    precommitLoss: r.pick([0, 0, 0.5, 0.8]),
    freshProposals: r.chance(0.5),
  };
}
