// What a relay's node identity still has to send the ledger, read from the committed state: pure, so
// the driver (registration.ts) only submits, waits and retries. The steps, in order (docs/economy.md,
// "Roles and keys"): claim the start grant, register (again whenever what it registered changed, or
// its bond fell below relayBond), and, with the validator role, stand as a candidate once.
import { createHash } from 'node:crypto';
import {
  getAccount,
  type KeyHex,
  keyHex,
  type LedgerState,
  type RelayRegistration,
} from '../ledger/state.ts';
import { bytesEqual } from '../wire/bytes.ts';
import type { OnionKey, RelayDescriptor } from '../wire/descriptor-types.ts';
import { Role } from '../wire/descriptor-types.ts';
import { exitSummaryOf } from '../wire/exit-summary.ts';

/** What REGISTER_RELAY says of a relay, taken from its descriptor (registrationContent). */
export interface RelayContent {
  /** Role bits (wire/descriptor-types.ts Role). */
  readonly roles: number;
  /** Claimed bandwidth, bytes per second: an upper bound, never a weight. */
  readonly bandwidth: number;
  /** onionKeyHash of the onion key current now. */
  readonly onionKeyHash: Uint8Array;
  /** wire/exit-summary.ts; empty for a relay that is not an exit. */
  readonly exitPolicySummary: Uint8Array;
}

/** What the node wants on the ledger. */
export interface RegistrationGoal {
  readonly content: RelayContent;
  /** The account the relay's earnings go to (32 bytes). */
  readonly payout: Uint8Array;
}

export type RegistrationStep = 'claim' | 'register' | 'candidacy';

const ONION_KEY_CONTEXT = new TextEncoder().encode('anonnet-onion-key-v1\0');

/** SHA-256("anonnet-onion-key-v1\0" || x25519 (32) || ML-KEM-768 encapsulation key (1184)). */
export function onionKeyHash(key: Pick<OnionKey, 'x25519' | 'mlkem768'>): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(ONION_KEY_CONTEXT).update(key.x25519).update(key.mlkem768).digest(),
  );
}

/**
 * The registration a descriptor implies at `now`: its roles, its bandwidth claim, the hash of its
 * onion key current now (the newest already valid; the first listed if none is), and its exit-policy
 * summary. Rotation changes the current key once per key lifetime, and with it the registration.
 */
export function registrationContent(d: RelayDescriptor, now: number): RelayContent {
  const valid = d.onionKeys.filter((k) => k.validFrom <= now && now < k.validUntil);
  const current = valid.reduce<OnionKey | undefined>(
    (best, k) => (best === undefined || k.validFrom > best.validFrom ? k : best),
    undefined,
  );
  const key = current ?? d.onionKeys[0];
  return {
    roles: d.roles,
    bandwidth: d.bandwidth,
    onionKeyHash: key === undefined ? new Uint8Array(32) : onionKeyHash(key),
    exitPolicySummary: exitSummaryOf((d.roles & Role.exit) !== 0, d.exitPolicy),
  };
}

/**
 * Whether the ledger's registration already says what the node wants, with a full bond (a penalty
 * that took it, or a raised relayBond, puts the relay out of the list until it registers again).
 */
export function registrationMatches(
  onChain: RelayRegistration,
  goal: RegistrationGoal,
  relayBond: bigint,
): boolean {
  const c = goal.content;
  return (
    onChain.roles === c.roles &&
    onChain.bandwidth === c.bandwidth &&
    bytesEqual(onChain.onionKeyHash, c.onionKeyHash) &&
    bytesEqual(onChain.exitPolicySummary, c.exitPolicySummary) &&
    onChain.payout === keyHex(goal.payout) &&
    onChain.bond >= relayBond
  );
}

/** The next step for the relay `self`, or 'done' when the ledger says everything it should. */
export function nextRegistrationStep(
  state: LedgerState,
  self: KeyHex,
  goal: RegistrationGoal,
  validator: boolean,
): RegistrationStep | 'done' {
  if (!getAccount(state, self).genesisClaimed) return 'claim';
  const onChain = state.relays.get(self);
  if (onChain === undefined || !registrationMatches(onChain, goal, state.params.relayBond)) return 'register';
  if (validator && !state.candidates.has(self)) return 'candidacy';
  return 'done';
}
