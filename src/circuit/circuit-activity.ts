// When a relay gives up a circuit that carries nothing. Two clocks, both counting RELAY cells from the
// previous hop (the client's side, which every hop of a used circuit sees):
//   unused  answered CREATED, and no RELAY cell since for `unusedCircuitTimeoutMs`: a slot taken and
//           never used (honest clients send EXTEND, or DROP at the last hop, right after CREATED)
//   idle    no RELAY cell for `idleCircuitTimeoutMs` (honest clients send a DROP on a circuit that sent
//           nothing for CIRCUIT_KEEPALIVE_MS, so only circuits their client forgot go idle)
// The cell path only sets a flag (`touch`); a sweep every few seconds reads and clears it, so time is
// read per sweep, not per cell. A circuit may live up to one sweep longer than its timeout.
import type { AdmissionLimits } from './admission-limits.ts';

export type ActivityVerdict = 'unused' | 'idle' | undefined;

type Limits = Pick<AdmissionLimits, 'unusedCircuitTimeoutMs' | 'idleCircuitTimeoutMs'>;

export class CircuitActivity {
  readonly #since: number;
  #lastSeen: number;
  #used = false;
  /** Set by the cell path: a RELAY cell came from the previous hop since the last check. */
  touched = false;

  /** `now`: when the circuit was answered CREATED. */
  constructor(now: number) {
    this.#since = now;
    this.#lastSeen = now;
  }

  touch(): void {
    this.touched = true;
  }

  /** Called by the sweep: why the circuit should go now, or undefined to keep it. */
  check(now: number, limits: Limits): ActivityVerdict {
    if (this.touched) {
      this.touched = false;
      this.#used = true;
      this.#lastSeen = now;
      return undefined;
    }
    if (!this.#used) return now - this.#since >= limits.unusedCircuitTimeoutMs ? 'unused' : undefined;
    return now - this.#lastSeen >= limits.idleCircuitTimeoutMs ? 'idle' : undefined;
  }
}

/** How often to sweep for timeouts this short: a fifth of the shorter one, within [50 ms, 5 s]. */
export function sweepIntervalMs(limits: Limits): number {
  return Math.min(
    5_000,
    Math.max(50, Math.min(limits.unusedCircuitTimeoutMs, limits.idleCircuitTimeoutMs) / 5),
  );
}
