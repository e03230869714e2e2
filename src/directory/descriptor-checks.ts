// How this node judges a relay descriptor, wherever one arrives (a DHT record, a direct fetch, the
// view's own store): signed by the key its peer id names, fresh, with the proof of work asked for.
import type { UnixMillis } from '../wire/descriptor-types.ts';
import {
  identityKeyOfPeerId,
  RELAY_NAMESPACE,
  relayRecordValidator,
  selectNewestDescriptor,
} from './dht-records.ts';
import type { VerifyFn } from './relay-view.ts';
import { verifyDescriptor } from './verify-descriptor.ts';

export interface DescriptorCheckOptions {
  readonly powDifficulty: number;
  readonly maxDescriptorLifetimeMs: number;
  readonly maxClockSkewMs: number;
}

export function descriptorVerifier(opts: DescriptorCheckOptions, now: () => number): VerifyFn {
  return (bytes, peerId) => {
    const expectedIdentity = identityKeyOfPeerId(peerId);
    if (expectedIdentity === undefined)
      return { ok: false, code: 'IDENTITY_MISMATCH', reason: 'not an Ed25519 peer id' };
    return verifyDescriptor(bytes, {
      now: now() as UnixMillis,
      powDifficulty: opts.powDifficulty,
      maxLifetimeMs: opts.maxDescriptorLifetimeMs,
      maxClockSkewMs: opts.maxClockSkewMs,
      expectedIdentity,
    });
  };
}

/** The DHT's record rules for the relay namespace: only verified descriptors, the newest wins. */
export function relayDhtRecords(verify: VerifyFn) {
  return {
    validators: { [RELAY_NAMESPACE]: relayRecordValidator(verify) },
    selectors: { [RELAY_NAMESPACE]: selectNewestDescriptor },
  };
}
