// Relay descriptors in the DHT: one record per relay under `/anonnet-relay/<peer id>`. Every DHT node
// verifies a record before storing or returning it (validator), and picks the newest when several
// answers differ (selector), so a stale or forged descriptor cannot displace a good one.
import { peerIdFromString } from '@libp2p/peer-id';
import { CodedError } from '../wire/coded-error.ts';
import { decodeDescriptor } from '../wire/descriptor.ts';
import { isNewer, type VerifyFn } from './relay-view.ts';

export const RELAY_NAMESPACE = 'anonnet-relay';
const PREFIX = `/${RELAY_NAMESPACE}/`;

export function relayRecordKey(peerId: string): Uint8Array {
  return new TextEncoder().encode(PREFIX + peerId);
}

export function peerIdFromRecordKey(key: Uint8Array): string | undefined {
  const s = new TextDecoder().decode(key);
  return s.startsWith(PREFIX) ? s.slice(PREFIX.length) : undefined;
}

/** The raw Ed25519 key inside an Ed25519 peer id, or undefined for any other kind of id. */
export function identityKeyOfPeerId(peerId: string): Uint8Array | undefined {
  try {
    const id = peerIdFromString(peerId);
    return id.type === 'Ed25519' ? id.publicKey.raw : undefined;
  } catch {
    return undefined;
  }
}

export class RecordRefusedError extends CodedError<string> {
  override readonly name = 'RecordRefusedError';
}

export function relayRecordValidator(verify: VerifyFn) {
  return async (key: Uint8Array, value: Uint8Array): Promise<void> => {
    const peerId = peerIdFromRecordKey(key);
    if (peerId === undefined) throw new RecordRefusedError('BAD_KEY', 'not a relay record key');
    const result = verify(value, peerId);
    if (!result.ok) throw new RecordRefusedError(result.code, result.reason);
  };
}

/** Index of the newest well-formed descriptor; malformed ones always lose. */
export function selectNewestDescriptor(_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0;
  let bestDesc: ReturnType<typeof decodeOk>;
  records.forEach((r, i) => {
    const d = decodeOk(r);
    if (d !== undefined && (bestDesc === undefined || isNewer(d, bestDesc))) {
      best = i;
      bestDesc = d;
    }
  });
  return best;
}

function decodeOk(bytes: Uint8Array) {
  const r = decodeDescriptor(bytes);
  return r.kind === 'ok' ? r.value : undefined;
}
