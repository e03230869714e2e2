// The relay descriptor as a value. Byte layout: docs/protocol.md, codec: descriptor.ts.
import type { Brand } from './brand.ts';

export type UnixMillis = Brand<number, 'UnixMillis'>;

/** Role bits; unknown bits are kept so newer roles survive a round trip. */
export const Role = { relay: 1, exit: 2, validator: 4 } as const;

export interface OnionKey {
  /** 32-byte raw X25519 public key. */
  readonly x25519: Uint8Array;
  /** 1184-byte raw ML-KEM-768 encapsulation key. */
  readonly mlkem768: Uint8Array;
  readonly validFrom: UnixMillis;
  readonly validUntil: UnixMillis;
}

export interface ExitRule {
  readonly action: 'accept' | 'reject';
  /** 0 = any address, 4 = IPv4 prefix, 6 = IPv6 prefix. */
  readonly family: 0 | 4 | 6;
  /** Raw address bytes: empty for family 0, 4 bytes for IPv4, 16 for IPv6. */
  readonly address: Uint8Array;
  readonly prefixLength: number;
  readonly portLow: number;
  readonly portHigh: number;
}

export interface Extension {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface RelayDescriptor {
  /** Format version; this codec writes and reads 1. */
  readonly version: 1;
  /** 32-byte raw Ed25519 public key: the relay's identity (and its libp2p PeerId). */
  readonly identityKey: Uint8Array;
  /** Proof-of-work nonce for the identity key (crypto/pow.ts). */
  readonly powNonce: bigint;
  /** Monotonic counter: a newer descriptor from the same relay has a larger one. */
  readonly sequence: bigint;
  readonly publishedAt: UnixMillis;
  readonly expiresAt: UnixMillis;
  /** Bit set of Role values. */
  readonly roles: number;
  /** Advertised bandwidth, bytes per second. */
  readonly bandwidth: number;
  readonly onionKeys: readonly OnionKey[];
  /** libp2p multiaddrs in their binary form. */
  readonly addresses: readonly Uint8Array[];
  /** First matching rule wins; no match means reject. */
  readonly exitPolicy: readonly ExitRule[];
  /** Type-ordered extensions; unknown types are kept. */
  readonly extensions: readonly Extension[];
}

/** A descriptor with its signature and the exact bytes that were signed. */
export interface SignedDescriptor {
  readonly descriptor: RelayDescriptor;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}
