// Real relays for relay-view, discovery and publisher tests: identities with proof-of-work, their peer
// ids, signed descriptors, and the verify function the daemon builds (src/node.ts).
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import { solvePow } from '../../../src/crypto/pow.ts';
import { identityKeyOfPeerId } from '../../../src/directory/dht-records.ts';
import type { VerifyFn } from '../../../src/directory/relay-view.ts';
import { verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import type { RelayDescriptor, SignedDescriptor, UnixMillis } from '../../../src/wire/descriptor-types.ts';
import { baseDescriptor, HOUR, NOW, POW_DIFFICULTY, signedBase } from '../wire/descriptor-fixtures.ts';

export { HOUR, NOW };

export interface TestRelay {
  readonly identity: Identity;
  readonly peerId: string;
  readonly powNonce: bigint;
  /** A descriptor valid at NOW, signed by this relay; override any field. */
  descriptor(overrides?: Partial<RelayDescriptor>): SignedDescriptor;
}

export function peerIdOf(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

const relays = new Map<number, TestRelay>();

/** Relay number `n` (deterministic; cached, proof-of-work is the slow part). */
export function relay(n: number): TestRelay {
  const cached = relays.get(n);
  if (cached !== undefined) return cached;
  const identity = identityFromSeed(new Uint8Array(32).fill(100 + n));
  const powNonce = solvePow(identity.publicKey, POW_DIFFICULTY) ?? 0n;
  const made: TestRelay = {
    identity,
    peerId: peerIdOf(identity.publicKey),
    powNonce,
    descriptor: (overrides = {}) =>
      signedBase({ identityKey: identity.publicKey, powNonce, ...overrides }, identity),
  };
  relays.set(n, made);
  return made;
}

export const ms = (n: number): UnixMillis => n as UnixMillis;

/** The daemon's verify function, with a clock the test controls. */
export function makeVerify(now: () => number): VerifyFn {
  return (bytes, peerId) => {
    const expectedIdentity = identityKeyOfPeerId(peerId);
    if (expectedIdentity === undefined)
      return { ok: false, code: 'IDENTITY_MISMATCH', reason: 'not an Ed25519 peer id' };
    return verifyDescriptor(bytes, {
      now: now() as UnixMillis,
      powDifficulty: POW_DIFFICULTY,
      maxLifetimeMs: 24 * HOUR,
      maxClockSkewMs: 5 * 60_000,
      expectedIdentity,
    });
  };
}

/** A settable clock starting at NOW. */
export function clock(start: number = NOW): {
  now: () => number;
  set(t: number): void;
  advance(d: number): void;
} {
  let t = start;
  return {
    now: () => t,
    set: (v) => {
      t = v;
    },
    advance: (d) => {
      t += d;
    },
  };
}

export { baseDescriptor };
