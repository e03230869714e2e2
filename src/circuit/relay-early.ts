// RELAY_EARLY bookkeeping (Tor's rule, docs/protocol.md "Circuit length"): a circuit carries at most
// MAX_RELAY_EARLY_CELLS RELAY_EARLY cells from the client side, EXTEND travels only in one, and every
// relay passes them on as RELAY_EARLY. Since a loop of n hops needs n - 1 EXTENDs through the first
// hop, the first hop's count bounds every circuit to MAX_RELAY_EARLY_CELLS + 1 hops.
import { LinkCommand, MAX_RELAY_EARLY_CELLS, RelayCommand } from '../wire/cell.ts';

/** A relay's count of one circuit's RELAY_EARLY cells. */
export class RelayEarlyCounter {
  #seen = 0;

  get seen(): number {
    return this.#seen;
  }

  /** One more RELAY_EARLY cell arrived; false when it is one too many (destroy the circuit). */
  accept(): boolean {
    return ++this.#seen <= MAX_RELAY_EARLY_CELLS;
  }
}

/**
 * A client's RELAY_EARLY cells on one circuit: every EXTEND goes in one and, while some are left,
 * so does every other cell past the first hop (as Tor's clients do), so a relay cannot tell an EXTEND
 * from the first cells of a shorter circuit.
 */
export class RelayEarlyBudget {
  #sent = 0;

  get sent(): number {
    return this.#sent;
  }

  /**
   * The link command for a relay cell to `targetHop` (0 = the first hop) carrying `relayCommand`;
   * undefined for an EXTEND when none is left (the circuit is as long as it can be).
   */
  linkCommand(targetHop: number, relayCommand: number): number | undefined {
    const extend = relayCommand === RelayCommand.EXTEND;
    if (this.#sent < MAX_RELAY_EARLY_CELLS && (extend || targetHop > 0)) {
      this.#sent++;
      return LinkCommand.RELAY_EARLY;
    }
    return extend ? undefined : LinkCommand.RELAY;
  }
}
