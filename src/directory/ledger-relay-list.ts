// The relays a client may choose from, read from committed ledger state (docs/economy.md, "The ledger's
// relay list is the list"; DESIGN.md decision 1). A pure function of the state: every client at the same
// height computes the same list and the same weights, whatever relays its own DHT view holds.
//
//   listed   = registered relays whose bond >= relayBond (a penalty burns the bond: out until re-registered)
//   capacity = measured bandwidth, or unmeasuredBandwidth while the validators have not measured it
//   weight   = min(capacity, registered claim) × (REPUTATION_MAX + reputation) / (2 × REPUTATION_MAX),
//              rounded down, at least 1 unless min(capacity, claim) is 0
//
// So the relay's own claim is only an upper bound, an unmeasured relay weighs at most unmeasuredBandwidth,
// a relay measured at 0 weighs 0 (never chosen), and reputation scales a weight between half (a newcomer,
// or a penalised key) and all of it. Integer arithmetic throughout: no client rounds differently.
import { REPUTATION_MAX, reputation } from '../ledger/reputation.ts';
import type { KeyHex, LedgerParams, LedgerState, RelayRegistration } from '../ledger/state.ts';

export interface ListedRelay {
  /** Path weight (bytes/s scaled by reputation); 0: listed but never chosen. */
  readonly weight: number;
  /** Whether the weight rests on a measurement committed by the validators. */
  readonly measured: boolean;
}

export interface RelayList {
  /** The ledger height the list was read at. */
  readonly height: number;
  /** By lowercase hex identity key (the descriptor's identityKey). */
  readonly relays: ReadonlyMap<KeyHex, ListedRelay>;
}

/** A relay's path weight before reputation: its measured (or unmeasured) capacity, capped by its claim. */
export function capacityWeight(reg: RelayRegistration, params: LedgerParams): number {
  const capacity = reg.measured === null ? params.unmeasuredBandwidth : reg.measured.bandwidth;
  return Math.max(0, Math.min(capacity, reg.bandwidth));
}

/**
 * `weight` scaled by reputation: × (1/2 + 1/2 · reputation / REPUTATION_MAX), rounded down, but never
 * down to 0 (0 stays for a relay measured dead).
 */
export function reputationScaled(weight: number, rep: bigint): number {
  if (weight <= 0) return 0;
  const r = rep < 0n ? 0n : rep > REPUTATION_MAX ? REPUTATION_MAX : rep;
  const scaled = Number((BigInt(Math.floor(weight)) * (REPUTATION_MAX + r)) / (2n * REPUTATION_MAX));
  return Math.max(1, scaled);
}

/** The ledger's relay list at `state.height`. */
export function ledgerRelayList(state: LedgerState): RelayList {
  const relays = new Map<KeyHex, ListedRelay>();
  const { params } = state;
  for (const [key, reg] of state.relays) {
    if (reg.bond < params.relayBond) continue;
    const weight = reputationScaled(capacityWeight(reg, params), reputation(state, key));
    relays.set(key, { weight, measured: reg.measured !== null });
  }
  return { height: state.height, relays };
}

/** The committed state a client reads (the ledger node's `state`). */
export interface LedgerStateSource {
  readonly state: LedgerState;
}

/**
 * The list of the ledger's current committed state, recomputed once per height (a client asks for it
 * at every path choice). `undefined` source: no ledger (a `--no-ledger` test network), no list.
 */
export function relayListSource(ledger: LedgerStateSource | undefined): () => RelayList | undefined {
  if (ledger === undefined) return () => undefined;
  let cached: { state: LedgerState; list: RelayList } | undefined;
  return () => {
    const state = ledger.state;
    if (cached?.state !== state) cached = { state, list: ledgerRelayList(state) };
    return cached.list;
  };
}
