// Accepting a relay descriptor: structure (wire/descriptor.ts), then every rule of docs/protocol.md,
// "Relay descriptor v1 / Verification", each refused with its own stable code. Pure: `now` is passed in.
// Also the exit-policy matcher and the rule for which of two descriptors of one relay is newer.
import { verifySignature } from '../crypto/identity.ts';
import { isValidMlKem768Public, isValidX25519Public } from '../crypto/onion-keys.ts';
import { MAX_POW_DIFFICULTY, verifyPow } from '../crypto/pow.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { decodeDescriptor, descriptorSigningMessage } from '../wire/descriptor.ts';
import { decodeFamily } from '../wire/descriptor-family.ts';
import type { ExitRule, OnionKey, SignedDescriptor, UnixMillis } from '../wire/descriptor-types.ts';
import { isV4Mapped } from '../wire/host.ts';

export type DescriptorRefusalCode =
  /** The options themselves are unusable (a bug in the caller, not in the descriptor). */
  | 'BAD_OPTIONS'
  /** Not a well-formed descriptor; the reason carries the wire code (BAD_MAGIC, TRUNCATED, ...). */
  | 'MALFORMED'
  /** A well-formed header with a version this code does not read. */
  | 'UNSUPPORTED_VERSION'
  | 'IDENTITY_MISMATCH'
  /** expiresAt <= publishedAt. */
  | 'EXPIRES_BEFORE_PUBLISHED'
  | 'LIFETIME_TOO_LONG'
  | 'FROM_FUTURE'
  | 'EXPIRED'
  | 'NO_ROLES'
  | 'NO_ADDRESSES'
  | 'INSUFFICIENT_POW'
  | 'BAD_SIGNATURE'
  | 'BAD_ONION_KEY'
  | 'NO_CURRENT_ONION_KEY'
  /** A family extension (type 2) that is malformed: see wire/descriptor-family.ts. */
  | 'BAD_FAMILY'
  /** A bug: verification hit an unexpected exception (reported, never thrown). */
  | 'INTERNAL';

export interface DescriptorVerifyOptions {
  readonly now: UnixMillis;
  /** Required leading zero bits of the identity's proof-of-work, 0..64. */
  readonly powDifficulty: number;
  /** Longest accepted expiresAt - publishedAt. */
  readonly maxLifetimeMs: number;
  /** How far publishedAt (and an onion key's validFrom) may lie ahead of `now`. */
  readonly maxClockSkewMs: number;
  /** When set, the descriptor must be for exactly this identity key (e.g. the DHT key it came under). */
  readonly expectedIdentity?: Uint8Array;
}

/** Defaults for the two time limits; the proof-of-work difficulty is a network parameter. */
export const defaultDescriptorTimeLimits = {
  maxLifetimeMs: 24 * 60 * 60 * 1000,
  maxClockSkewMs: 5 * 60 * 1000,
} as const;

export type DescriptorVerifyResult =
  | { readonly ok: true; readonly signed: SignedDescriptor }
  | { readonly ok: false; readonly code: DescriptorRefusalCode; readonly reason: string };

/** Decodes and checks one descriptor. Never throws. */
export function verifyDescriptor(bytes: Uint8Array, opts: DescriptorVerifyOptions): DescriptorVerifyResult {
  try {
    return verifyUnchecked(bytes, opts);
  } catch (err) {
    return refuse('INTERNAL', `unexpected verification failure: ${String(err)}`);
  }
}

function verifyUnchecked(bytes: Uint8Array, opts: DescriptorVerifyOptions): DescriptorVerifyResult {
  const optionsProblem = checkOptions(opts);
  if (optionsProblem !== undefined) return refuse('BAD_OPTIONS', optionsProblem);

  const decoded = decodeDescriptor(bytes);
  if (decoded.kind === 'needMore') return refuse('MALFORMED', 'TRUNCATED: the descriptor ends early');
  if (decoded.kind === 'error') {
    if (decoded.code === 'BAD_VERSION') return refuse('UNSUPPORTED_VERSION', decoded.message);
    return refuse('MALFORMED', `${decoded.code}: ${decoded.message}`);
  }
  const signed = decoded.value;
  const d = signed.descriptor;
  const { now } = opts;

  if (opts.expectedIdentity !== undefined && !bytesEqual(opts.expectedIdentity, d.identityKey)) {
    return refuse('IDENTITY_MISMATCH', 'the descriptor is for another identity key');
  }
  if (d.expiresAt <= d.publishedAt) return refuse('EXPIRES_BEFORE_PUBLISHED', 'expiresAt <= publishedAt');
  if (d.expiresAt - d.publishedAt > opts.maxLifetimeMs) {
    return refuse(
      'LIFETIME_TOO_LONG',
      `lifetime ${d.expiresAt - d.publishedAt} ms > ${opts.maxLifetimeMs} ms`,
    );
  }
  if (d.publishedAt > now + opts.maxClockSkewMs) {
    return refuse('FROM_FUTURE', `published ${d.publishedAt - now} ms in the future`);
  }
  if (now >= d.expiresAt) return refuse('EXPIRED', `expired ${now - d.expiresAt} ms ago`);
  if (d.roles === 0) return refuse('NO_ROLES', 'the descriptor claims no role');
  if (d.addresses.length === 0) return refuse('NO_ADDRESSES', 'the descriptor lists no address');
  if (!verifyPow(d.identityKey, d.powNonce, opts.powDifficulty)) {
    return refuse('INSUFFICIENT_POW', `proof-of-work below difficulty ${opts.powDifficulty}`);
  }
  if (!verifySignature(d.identityKey, descriptorSigningMessage(signed.body), signed.signature)) {
    return refuse('BAD_SIGNATURE', 'the signature does not verify under the identity key');
  }
  for (const [i, key] of d.onionKeys.entries()) {
    if (key.validUntil <= key.validFrom)
      return refuse('BAD_ONION_KEY', `onion key ${i}: validUntil <= validFrom`);
    if (!isValidX25519Public(key.x25519))
      return refuse('BAD_ONION_KEY', `onion key ${i}: invalid X25519 key`);
    if (!isValidMlKem768Public(key.mlkem768))
      return refuse('BAD_ONION_KEY', `onion key ${i}: invalid ML-KEM-768 key`);
  }
  if (selectOnionKey(d.onionKeys, now, opts.maxClockSkewMs) === undefined) {
    return refuse('NO_CURRENT_ONION_KEY', 'no onion key is valid now');
  }
  try {
    decodeFamily(d);
  } catch (err) {
    return refuse('BAD_FAMILY', (err as Error).message);
  }
  return { ok: true, signed };
}

function checkOptions(opts: DescriptorVerifyOptions): string | undefined {
  if (!Number.isSafeInteger(opts.now) || opts.now < 0) return 'now must be a safe integer >= 0';
  if (
    !Number.isInteger(opts.powDifficulty) ||
    opts.powDifficulty < 0 ||
    opts.powDifficulty > MAX_POW_DIFFICULTY
  ) {
    return `powDifficulty must be an integer from 0 to ${MAX_POW_DIFFICULTY}`;
  }
  if (!(opts.maxLifetimeMs > 0)) return 'maxLifetimeMs must be > 0';
  if (!(opts.maxClockSkewMs >= 0)) return 'maxClockSkewMs must be >= 0';
  return undefined;
}

function refuse(code: DescriptorRefusalCode, reason: string): DescriptorVerifyResult {
  return { ok: false, code, reason };
}

/**
 * The onion key a client should use at `now`: among keys with validFrom <= now < validUntil, the one
 * with the latest validFrom (the newest); failing that, a key that starts within `skewMs` from now (the
 * relay's clock may be ahead of ours). Undefined when no key qualifies.
 */
export function selectOnionKey(keys: readonly OnionKey[], now: number, skewMs = 0): OnionKey | undefined {
  let best: OnionKey | undefined;
  for (const key of keys) {
    if (
      key.validFrom <= now &&
      now < key.validUntil &&
      (best === undefined || key.validFrom > best.validFrom)
    ) {
      best = key;
    }
  }
  if (best !== undefined) return best;
  for (const key of keys) {
    if (
      key.validFrom <= now + skewMs &&
      now < key.validUntil &&
      (best === undefined || key.validFrom < best.validFrom)
    ) {
      best = key;
    }
  }
  return best;
}

/**
 * Orders two descriptors of the same relay: positive when `a` is newer. Higher sequence wins; on equal
 * sequence, later publishedAt; on equal both, the bytewise larger encoding (so every node picks the
 * same one when a relay equivocates). 0 only for identical bytes.
 */
export function compareDescriptors(a: SignedDescriptor, b: SignedDescriptor): number {
  const da = a.descriptor;
  const db = b.descriptor;
  if (da.sequence !== db.sequence) return da.sequence > db.sequence ? 1 : -1;
  if (da.publishedAt !== db.publishedAt) return da.publishedAt > db.publishedAt ? 1 : -1;
  const n = Math.min(a.bytes.length, b.bytes.length);
  for (let i = 0; i < n; i++) {
    const x = a.bytes[i] ?? 0;
    const y = b.bytes[i] ?? 0;
    if (x !== y) return x > y ? 1 : -1;
  }
  return Math.sign(a.bytes.length - b.bytes.length);
}

/** True when `candidate` should replace `current` (both already verified, same identity). */
export function supersedes(candidate: SignedDescriptor, current: SignedDescriptor): boolean {
  return compareDescriptors(candidate, current) > 0;
}

/**
 * Exit policy check: the first rule that matches (address and port) decides; no match rejects.
 *
 * `ip` is 4 bytes (IPv4) or 16 (IPv6); an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as the
 * IPv4 address, so it cannot slip past IPv4 rules. Any other length rejects.
 *
 * `ip === null` means "a hostname not yet resolved": only family-0 (any address) rules can match, and
 * address-specific rules are skipped. That answers "might this exit carry a stream to this port?", for
 * choosing an exit; the exit itself must check again with the resolved address before connecting
 * (a hostname can resolve into a range an address-specific rule rejects).
 */
export function isExitAllowed(policy: readonly ExitRule[], ip: Uint8Array | null, port: number): boolean {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) return false;
  let addr = ip;
  if (addr !== null) {
    if (isV4Mapped(addr)) addr = addr.subarray(12);
    if (addr.length !== 4 && addr.length !== 16) return false;
  }
  for (const rule of policy) {
    if (port < rule.portLow || port > rule.portHigh) continue;
    if (rule.family !== 0) {
      if (addr === null || addr.length !== (rule.family === 4 ? 4 : 16)) continue;
      if (!prefixMatches(rule.address, addr, rule.prefixLength)) continue;
    }
    return rule.action === 'accept';
  }
  return false;
}

function prefixMatches(network: Uint8Array, addr: Uint8Array, prefixLength: number): boolean {
  const fullBytes = prefixLength >> 3;
  for (let i = 0; i < fullBytes; i++) if (network[i] !== addr[i]) return false;
  const restBits = prefixLength & 7;
  if (restBits === 0) return true;
  const mask = (0xff << (8 - restBits)) & 0xff;
  return ((network[fullBytes] ?? 0) & mask) === ((addr[fullBytes] ?? 0) & mask);
}
