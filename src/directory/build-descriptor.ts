// Assembles and signs this node's own relay descriptor from its identity, keys and settings.
import type { Identity } from '../crypto/identity.ts';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import { signDescriptor } from '../wire/descriptor.ts';
import { encodeFamily } from '../wire/descriptor-family.ts';
import { type ExitRule, Role, type SignedDescriptor, type UnixMillis } from '../wire/descriptor-types.ts';

export type RoleName = keyof typeof Role;

export interface OwnDescriptorInput {
  readonly identity: Identity;
  readonly powNonce: bigint;
  readonly onionKeys: readonly OnionKeyPair[];
  readonly addresses: readonly Uint8Array[];
  readonly roles: readonly RoleName[];
  readonly bandwidth: number;
  readonly exitPolicy: readonly ExitRule[];
  readonly now: number;
  readonly lifetimeMs: number;
  /** Identity keys of the other relays run by this operator (docs/protocol.md, "Family"). */
  readonly family?: readonly Uint8Array[];
}

export const MAX_PUBLISHED_ADDRESSES = 16;

export function buildOwnDescriptor(input: OwnDescriptorInput): SignedDescriptor {
  const roles = input.roles.reduce((bits, r) => bits | Role[r], 0);
  const family = encodeFamily(input.family ?? [], input.identity.publicKey);
  return signDescriptor(
    {
      version: 1,
      identityKey: input.identity.publicKey,
      powNonce: input.powNonce,
      // Milliseconds since the epoch: grows across restarts without keeping a counter on disk.
      sequence: BigInt(input.now),
      publishedAt: input.now as UnixMillis,
      expiresAt: (input.now + input.lifetimeMs) as UnixMillis,
      roles,
      bandwidth: input.bandwidth,
      onionKeys: input.onionKeys
        .filter((k) => k.validUntil > input.now)
        .slice(0, 4)
        .map((k) => ({
          x25519: k.x25519Public,
          mlkem768: k.mlkemPublic,
          validFrom: k.validFrom,
          validUntil: k.validUntil,
        })),
      addresses: input.addresses.slice(0, MAX_PUBLISHED_ADDRESSES),
      exitPolicy: roles & Role.exit ? input.exitPolicy : [],
      extensions: family === undefined ? [] : [family],
    },
    (msg) => input.identity.sign(msg),
  );
}
