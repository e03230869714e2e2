// The relay-family extension of a relay descriptor (docs/protocol.md, "Relay descriptor v1 > Family"):
// the identity keys of other relays that the operator declares as run by the same party. A family
// counts only when mutual (each lists the other), so a relay cannot exclude others by naming them.
//
//   extension type 2, value = n identity keys (32 bytes each), 1 <= n <= 16,
//                             strictly ascending bytewise (no duplicates), never the relay's own key
//
// Pure: no I/O.
import { bytesEqual } from './bytes.ts';
import type { Extension, RelayDescriptor } from './descriptor-types.ts';
import { WireError } from './errors.ts';

export const FAMILY_EXTENSION_TYPE = 2;
export const MAX_FAMILY_MEMBERS = 16;
const KEY_BYTES = 32;

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The family extension for these member keys (sorted and deduplicated here); undefined for none.
 * Throws WireError on a key that is not 32 bytes, on the relay's own key, or on more than 16 members.
 */
export function encodeFamily(members: readonly Uint8Array[], ownKey: Uint8Array): Extension | undefined {
  const sorted = [...members]
    .sort(compareBytes)
    .filter((k, i, all) => i === 0 || compareBytes(all[i - 1]!, k) !== 0);
  if (sorted.length === 0) return undefined;
  if (sorted.length > MAX_FAMILY_MEMBERS)
    throw new WireError('TOO_MANY', `a family lists at most ${MAX_FAMILY_MEMBERS} relays`);
  const value = new Uint8Array(sorted.length * KEY_BYTES);
  sorted.forEach((k, i) => {
    if (k.length !== KEY_BYTES) throw new WireError('BAD_LENGTH', 'a family member key is 32 bytes');
    if (bytesEqual(k, ownKey)) throw new WireError('BAD_FIELD', 'a relay does not list itself in its family');
    value.set(k, i * KEY_BYTES);
  });
  return { type: FAMILY_EXTENSION_TYPE, value };
}

/** The declared family of a descriptor ([] when it has none). Throws WireError on a malformed value. */
export function decodeFamily(d: RelayDescriptor): Uint8Array[] {
  const ext = d.extensions.find((e) => e.type === FAMILY_EXTENSION_TYPE);
  if (ext === undefined) return [];
  const v = ext.value;
  if (v.length === 0 || v.length % KEY_BYTES !== 0)
    throw new WireError('BAD_LENGTH', 'a family value is a non-empty list of 32-byte keys');
  const n = v.length / KEY_BYTES;
  if (n > MAX_FAMILY_MEMBERS)
    throw new WireError('TOO_MANY', `a family lists at most ${MAX_FAMILY_MEMBERS} relays`);
  const keys: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = v.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES);
    if (i > 0 && compareBytes(keys[i - 1]!, k) >= 0)
      throw new WireError('BAD_ORDER', 'family keys must be strictly ascending');
    if (bytesEqual(k, d.identityKey)) throw new WireError('BAD_FIELD', 'a relay lists itself in its family');
    keys.push(k);
  }
  return keys;
}
