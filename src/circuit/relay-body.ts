// Relay bodies for the circuit code: the wire codec, with "malformed" as undefined.
import { decodeRelayBody as decode, encodeRelayBody, type RelayBody } from '../wire/cell.ts';

export { encodeRelayBody };

export function decodeRelayBody(body: Uint8Array): RelayBody | undefined {
  const r = decode(body);
  return r.kind === 'ok' ? r.value : undefined;
}
