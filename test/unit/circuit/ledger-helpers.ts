// Ledger states for path-selection tests: relay registrations (bond, claim, measurement) and the
// reputation inputs of their keys, keyed by the identity keys of test/unit/directory's relays, so the
// descriptors of path-helpers.ts's entries match them. Plain committed-state data, as the ledger's
// settlement leaves it (test/unit/ledger covers how blocks get there).
import { type Credits, credits, ZERO_CREDITS } from '../../../src/ledger/credits.ts';
import {
  type Account,
  initialLedgerState,
  keyHex,
  type LedgerParams,
  type LedgerState,
  type RelayRegistration,
  type ReputationInputs,
} from '../../../src/ledger/state.ts';
import { relay } from '../directory/relay-view-helpers.ts';

export const EPOCH_LENGTH = 10;
/** The height of every test state: old enough for a key registered at 0 to reach full age. */
export const HEIGHT = 100 * EPOCH_LENGTH;
export const BOND: Credits = credits(100);
export const UNMEASURED = 1024 * 1024;

export interface RegistrationSpec {
  /** Relay number (test/unit/directory/relay-view-helpers.ts), or the relay's identity key. */
  readonly n: number | Uint8Array;
  /** Bandwidth the relay claimed in REGISTER_RELAY (bytes/s). */
  readonly claim: number;
  /** The validators' median measurement (bytes/s); absent: unmeasured. */
  readonly measured?: number | undefined;
  /** Default BOND; 0 after a penalty took it. */
  readonly bond?: Credits;
  /** 'max': REPUTATION_MAX (728); default: 0 (a newcomer). */
  readonly reputation?: 'none' | 'max';
}

const FULL_REPUTATION: ReputationInputs = {
  relayedBytes: 2n ** 63n, // bit length 64: 128 points
  uptimeEpochs: 100n, // 500 points
  penalties: 0n,
  since: 0, // 100 epochs old at HEIGHT: 100 points
};
const NO_REPUTATION: ReputationInputs = { relayedBytes: 0n, uptimeEpochs: 0n, penalties: 0n, since: null };

export function ledgerState(
  specs: readonly RegistrationSpec[],
  params: Partial<LedgerParams> = {},
): LedgerState {
  const relays = new Map<string, RelayRegistration>();
  const accounts = new Map<string, Account>();
  for (const s of specs) {
    const key = keyHex(typeof s.n === 'number' ? relay(s.n).identity.publicKey : s.n);
    relays.set(key, {
      roles: 1,
      bandwidth: s.claim,
      onionKeyHash: new Uint8Array(32),
      exitPolicySummary: new Uint8Array(0),
      height: 1,
      payout: key,
      bond: s.bond ?? BOND,
      measured: s.measured === undefined ? null : { bandwidth: s.measured, latencyMs: 20, epoch: 99 },
      earned: ZERO_CREDITS,
    });
    accounts.set(key, {
      balance: ZERO_CREDITS,
      nonce: 2n,
      genesisClaimed: true,
      reputation: s.reputation === 'max' ? FULL_REPUTATION : NO_REPUTATION,
    });
  }
  const base = initialLedgerState({
    epochLength: EPOCH_LENGTH,
    relayBond: BOND,
    unmeasuredBandwidth: UNMEASURED,
    ...params,
  });
  return { ...base, height: HEIGHT, relays, accounts };
}
