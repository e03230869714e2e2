// The relay descriptor v1: binary codec (structure only; signature and policy checks live in
// directory/verify-descriptor.ts). Specification: docs/protocol.md, "Relay descriptor v1".
//
// All integers are unsigned big-endian; times are milliseconds since the Unix epoch.
//
//   offset  size      field
//   ------  --------  ---------------------------------------------------------------
//        0  4         magic "ANRD" (41 4e 52 44)
//        4  1         version = 1
//        5  32        identityKey: raw Ed25519 public key
//       37  8         powNonce (u64)
//       45  8         sequence (u64)
//       53  8         publishedAt (u64 ms, <= 2^53-1)
//       61  8         expiresAt (u64 ms, <= 2^53-1)
//       69  1         roles (bit set: 1 relay, 2 exit, 4 validator; other bits kept)
//       70  4         bandwidth (u32, bytes per second)
//       74  1         onionKeyCount k (0..4), then k times (1232 bytes each):
//                       x25519 (32) | mlkem768 (1184) | validFrom u64 | validUntil u64
//        .  1         addressCount a (0..16), then a times:
//                       length u16 (1..256) | multiaddr bytes (length)
//        .  2         exitRuleCount r (0..64), then r times (7, 11 or 23 bytes):
//                       action u8 (0 reject, 1 accept) | family u8 (0 any, 4, 6) |
//                       prefixLength u8 (0; 0..32; 0..128) | address (0, 4 or 16 bytes) |
//                       portLow u16 | portHigh u16            (portLow <= portHigh,
//                                                              address bits past the prefix = 0)
//        .  1         extensionCount e (0..16), then e times, types strictly ascending:
//                       type u16 | length u16 (0..1024) | value (length)
//        .  64        signature: Ed25519 over "anonnet-descriptor-v1\0" || every byte above
//   ------  --------  ---------------------------------------------------------------
//   total <= 16384 bytes; nothing may follow the signature.
//
// Every value has exactly one encoding, so decode then encode gives the same bytes back.
import { concatBytes, copyBytes, guardDecode, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError } from './decode-result.ts';
import type {
  ExitRule,
  Extension,
  OnionKey,
  RelayDescriptor,
  SignedDescriptor,
  UnixMillis,
} from './descriptor-types.ts';
import { WireError } from './errors.ts';

export const DESCRIPTOR_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x52, 0x44]); // "ANRD"
export const DESCRIPTOR_VERSION = 1;
export const DESCRIPTOR_SIGNING_CONTEXT = 'anonnet-descriptor-v1\0';

export const IDENTITY_KEY_BYTES = 32;
export const X25519_KEY_BYTES = 32;
export const MLKEM768_KEY_BYTES = 1184;
export const SIGNATURE_BYTES = 64;

export const MAX_ONION_KEYS = 4;
export const MAX_ADDRESSES = 16;
export const MAX_ADDRESS_BYTES = 256;
export const MAX_EXIT_RULES = 64;
export const MAX_EXTENSIONS = 16;
export const MAX_EXTENSION_BYTES = 1024;
export const MAX_DESCRIPTOR_BYTES = 16 * 1024;

const CONTEXT_BYTES = new TextEncoder().encode(DESCRIPTOR_SIGNING_CONTEXT);
const MAX_MILLIS = BigInt(Number.MAX_SAFE_INTEGER);

/** The bytes an Ed25519 signature covers: the context string, then the body. */
export function descriptorSigningMessage(body: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_BYTES, body);
}

/** Every byte before the signature. Throws WireError on a value the format cannot carry. */
export function encodeDescriptorBody(d: RelayDescriptor): Uint8Array {
  if (d.version !== DESCRIPTOR_VERSION)
    throw new WireError('BAD_VERSION', `cannot encode version ${d.version}`);
  checkLength(d.identityKey, IDENTITY_KEY_BYTES, 'identityKey');
  checkMillis(d.publishedAt, 'publishedAt');
  checkMillis(d.expiresAt, 'expiresAt');
  checkCount(d.onionKeys.length, MAX_ONION_KEYS, 'onion keys');
  checkCount(d.addresses.length, MAX_ADDRESSES, 'addresses');
  checkCount(d.exitPolicy.length, MAX_EXIT_RULES, 'exit rules');
  checkCount(d.extensions.length, MAX_EXTENSIONS, 'extensions');

  const w = new Writer();
  w.bytes(DESCRIPTOR_MAGIC).u8(d.version).bytes(d.identityKey);
  w.u64(d.powNonce).u64(d.sequence).u64(BigInt(d.publishedAt)).u64(BigInt(d.expiresAt));
  w.u8(d.roles).u32(d.bandwidth);

  w.u8(d.onionKeys.length);
  for (const key of d.onionKeys) {
    checkLength(key.x25519, X25519_KEY_BYTES, 'onion key x25519');
    checkLength(key.mlkem768, MLKEM768_KEY_BYTES, 'onion key mlkem768');
    checkMillis(key.validFrom, 'onion key validFrom');
    checkMillis(key.validUntil, 'onion key validUntil');
    w.bytes(key.x25519).bytes(key.mlkem768).u64(BigInt(key.validFrom)).u64(BigInt(key.validUntil));
  }

  w.u8(d.addresses.length);
  for (const address of d.addresses) {
    checkVarLength(address.length, 1, MAX_ADDRESS_BYTES, 'address');
    w.u16(address.length).bytes(address);
  }

  w.u16(d.exitPolicy.length);
  for (const rule of d.exitPolicy) {
    checkExitRule(rule);
    w.u8(rule.action === 'accept' ? 1 : 0)
      .u8(rule.family)
      .u8(rule.prefixLength)
      .bytes(rule.address);
    w.u16(rule.portLow).u16(rule.portHigh);
  }

  w.u8(d.extensions.length);
  let previousType = -1;
  for (const ext of d.extensions) {
    checkExtension(ext, previousType);
    previousType = ext.type;
    w.u16(ext.type).u16(ext.value.length).bytes(ext.value);
  }

  if (w.length + SIGNATURE_BYTES > MAX_DESCRIPTOR_BYTES) {
    throw new WireError(
      'TOO_LARGE',
      `descriptor would be ${w.length + SIGNATURE_BYTES} bytes, max ${MAX_DESCRIPTOR_BYTES}`,
    );
  }
  return w.finish();
}

/** Encodes and signs. `sign` gets the signing message and must return a 64-byte Ed25519 signature. */
export function signDescriptor(d: RelayDescriptor, sign: (msg: Uint8Array) => Uint8Array): SignedDescriptor {
  const body = encodeDescriptorBody(d);
  const signature = new Uint8Array(sign(descriptorSigningMessage(body)));
  checkLength(signature, SIGNATURE_BYTES, 'signature');
  return { descriptor: d, body, signature, bytes: concatBytes(body, signature) };
}

/**
 * Structural decode of one complete descriptor (the input must hold exactly one). Does not check the
 * signature, times or keys. needMore: `bytes` is a proper prefix of something that could decode.
 * Never throws.
 */
export function decodeDescriptor(bytes: Uint8Array): DecodeResult<SignedDescriptor> {
  return guardDecode(() => decodeUnchecked(bytes));
}

function decodeUnchecked(bytes: Uint8Array): DecodeResult<SignedDescriptor> {
  if (bytes.length > MAX_DESCRIPTOR_BYTES) {
    return decodeError('TOO_LARGE', `descriptor is ${bytes.length} bytes, max ${MAX_DESCRIPTOR_BYTES}`);
  }
  // Answer "wrong" as early as the bytes allow, rather than "need more".
  for (let i = 0; i < DESCRIPTOR_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== DESCRIPTOR_MAGIC[i]) return decodeError('BAD_MAGIC', 'not a relay descriptor (magic)');
  }
  const r = new Reader(bytes, MAX_DESCRIPTOR_BYTES);
  r.bytes(DESCRIPTOR_MAGIC.length);
  const version = r.u8();
  if (version !== DESCRIPTOR_VERSION)
    return decodeError('BAD_VERSION', `unsupported descriptor version ${version}`);

  const identityKey = r.bytes(IDENTITY_KEY_BYTES);
  const powNonce = r.u64();
  const sequence = r.u64();
  const publishedAt = readMillis(r, 'publishedAt');
  const expiresAt = readMillis(r, 'expiresAt');
  const roles = r.u8();
  const bandwidth = r.u32();

  const onionKeys = readOnionKeys(r);
  const addresses = readAddresses(r);
  const exitPolicy = readExitPolicy(r);
  const extensions = readExtensions(r);

  const bodyLength = r.offset;
  const signature = r.bytes(SIGNATURE_BYTES);
  if (r.remaining > 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes after the signature`);

  const descriptor: RelayDescriptor = {
    version: DESCRIPTOR_VERSION,
    identityKey,
    powNonce,
    sequence,
    publishedAt,
    expiresAt,
    roles,
    bandwidth,
    onionKeys,
    addresses,
    exitPolicy,
    extensions,
  };
  const signed: SignedDescriptor = {
    descriptor,
    body: copyBytes(bytes, 0, bodyLength),
    signature,
    bytes: copyBytes(bytes, 0, r.offset),
  };
  return { kind: 'ok', value: signed, consumed: r.offset };
}

function readOnionKeys(r: Reader): OnionKey[] {
  const onionKeyCount = r.u8();
  checkCount(onionKeyCount, MAX_ONION_KEYS, 'onion keys');
  const onionKeys: OnionKey[] = [];
  for (let i = 0; i < onionKeyCount; i++) {
    const x25519 = r.bytes(X25519_KEY_BYTES);
    const mlkem768 = r.bytes(MLKEM768_KEY_BYTES);
    const validFrom = readMillis(r, 'onion key validFrom');
    const validUntil = readMillis(r, 'onion key validUntil');
    onionKeys.push({ x25519, mlkem768, validFrom, validUntil });
  }
  return onionKeys;
}

function readAddresses(r: Reader): Uint8Array[] {
  const addressCount = r.u8();
  checkCount(addressCount, MAX_ADDRESSES, 'addresses');
  const addresses: Uint8Array[] = [];
  for (let i = 0; i < addressCount; i++) {
    const length = r.u16();
    checkVarLength(length, 1, MAX_ADDRESS_BYTES, 'address');
    addresses.push(r.bytes(length));
  }
  return addresses;
}

function readExitPolicy(r: Reader): ExitRule[] {
  const ruleCount = r.u16();
  checkCount(ruleCount, MAX_EXIT_RULES, 'exit rules');
  const exitPolicy: ExitRule[] = [];
  for (let i = 0; i < ruleCount; i++) exitPolicy.push(readExitRule(r));
  return exitPolicy;
}

function readExtensions(r: Reader): Extension[] {
  const extensionCount = r.u8();
  checkCount(extensionCount, MAX_EXTENSIONS, 'extensions');
  const extensions: Extension[] = [];
  let previousType = -1;
  for (let i = 0; i < extensionCount; i++) {
    const type = r.u16();
    if (type <= previousType) throw new WireError('BAD_ORDER', 'extension types must be strictly ascending');
    previousType = type;
    const length = r.u16();
    checkVarLength(length, 0, MAX_EXTENSION_BYTES, 'extension');
    extensions.push({ type, value: r.bytes(length) });
  }
  return extensions;
}

function readExitRule(r: Reader): ExitRule {
  const actionByte = r.u8();
  if (actionByte > 1) throw new WireError('BAD_FIELD', `exit rule action ${actionByte}`);
  const family = r.u8();
  if (family !== 0 && family !== 4 && family !== 6)
    throw new WireError('BAD_FIELD', `exit rule family ${family}`);
  const prefixLength = r.u8();
  if (prefixLength > maxPrefix(family)) {
    throw new WireError('BAD_FIELD', `exit rule prefix /${prefixLength} for family ${family}`);
  }
  const address = r.bytes(addressBytes(family));
  const portLow = r.u16();
  const portHigh = r.u16();
  const rule: ExitRule = {
    action: actionByte === 1 ? 'accept' : 'reject',
    family,
    address,
    prefixLength,
    portLow,
    portHigh,
  };
  checkExitRule(rule);
  return rule;
}

function readMillis(r: Reader, field: string): UnixMillis {
  const v = r.u64();
  if (v > MAX_MILLIS) throw new WireError('BAD_FIELD', `${field} ${v} is above 2^53-1`);
  return Number(v) as UnixMillis;
}

function addressBytes(family: 0 | 4 | 6): number {
  return family === 0 ? 0 : family === 4 ? 4 : 16;
}

function maxPrefix(family: 0 | 4 | 6): number {
  return addressBytes(family) * 8;
}

function checkExitRule(rule: ExitRule): void {
  if (rule.action !== 'accept' && rule.action !== 'reject')
    throw new WireError('BAD_FIELD', 'exit rule action');
  if (rule.family !== 0 && rule.family !== 4 && rule.family !== 6)
    throw new WireError('BAD_FIELD', 'exit rule family');
  checkLength(rule.address, addressBytes(rule.family), `exit rule address (family ${rule.family})`);
  const prefix = rule.prefixLength;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix(rule.family)) {
    throw new WireError('BAD_FIELD', `exit rule prefix /${prefix} for family ${rule.family}`);
  }
  for (let bit = prefix; bit < rule.address.length * 8; bit++) {
    if (((rule.address[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
      throw new WireError('BAD_FIELD', `exit rule address has bits set past its /${prefix} prefix`);
    }
  }
  checkPort(rule.portLow, 'portLow');
  checkPort(rule.portHigh, 'portHigh');
  if (rule.portLow > rule.portHigh) throw new WireError('BAD_FIELD', 'exit rule portLow > portHigh');
}

function checkExtension(ext: Extension, previousType: number): void {
  if (!Number.isInteger(ext.type) || ext.type < 0 || ext.type > 0xffff) {
    throw new WireError('BAD_FIELD', `extension type ${ext.type}`);
  }
  if (ext.type <= previousType)
    throw new WireError('BAD_ORDER', 'extension types must be strictly ascending');
  checkVarLength(ext.value.length, 0, MAX_EXTENSION_BYTES, 'extension');
}

function checkPort(port: number, field: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff)
    throw new WireError('BAD_FIELD', `${field} ${port}`);
}

function checkMillis(v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new WireError('BAD_FIELD', `${field} must be a safe integer >= 0`);
}

function checkLength(bytes: Uint8Array, expected: number, field: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== expected) {
    throw new WireError('BAD_LENGTH', `${field} must be ${expected} bytes`);
  }
}

function checkVarLength(length: number, min: number, max: number, field: string): void {
  if (length < min || length > max)
    throw new WireError('BAD_LENGTH', `${field} length ${length} not in ${min}..${max}`);
}

function checkCount(count: number, max: number, field: string): void {
  if (count > max) throw new WireError('TOO_MANY', `${count} ${field}, max ${max}`);
}
