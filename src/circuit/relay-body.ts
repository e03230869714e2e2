// Relay bodies for the circuit code: the wire decoder, with "malformed" as undefined.
import { decodeRelayBody as decode, type RelayBody } from '../wire/cell.ts';

export function decodeRelayBody(body: Uint8Array): RelayBody | undefined {
  const r = decode(body);
  return r.kind === 'ok' ? r.value : undefined;
}
