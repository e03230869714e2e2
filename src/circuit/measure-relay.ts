// One bandwidth measurement of one relay (docs/economy.md, "Measurement"): a one-hop circuit to it,
// MEASURE, and the circuit closed again. The relay is taken from the view (its descriptor gives the
// onion key and addresses); undefined when it is not there or sent nothing back.
import type { Libp2p } from '@libp2p/interface';
import { dialAddresses, type RelayView } from '../directory/relay-view.ts';
import { selectOnionKey } from '../directory/verify-descriptor.ts';
import type { ClientStreamsFactory } from './circuit-streams.ts';
import { ClientCircuit } from './client-circuit.ts';
import { peerIdOfIdentity } from './open-link.ts';

/** Bytes one measurement asks for: enough to leave slow start behind on a fast link. */
export const MEASURE_BYTES = 4 * 1024 * 1024;

export interface RelayMeasurement {
  readonly bandwidth: number;
  readonly latencyMs: number;
}

export async function measureRelay(
  host: Libp2p,
  view: Pick<RelayView, 'get'>,
  streams: ClientStreamsFactory,
  identityKey: Uint8Array,
  signal: AbortSignal,
  now: number = Date.now(),
): Promise<RelayMeasurement | undefined> {
  const peerId = peerIdOfIdentity(identityKey)?.toString();
  const entry = peerId === undefined ? undefined : view.get(peerId);
  if (peerId === undefined || entry === undefined) return undefined;
  const onionKey = selectOnionKey(entry.signed.descriptor.onionKeys, now);
  const addresses = dialAddresses(entry);
  if (onionKey === undefined || addresses.length === 0) return undefined;
  const circuit = await ClientCircuit.build(host, [{ peerId, identityKey, onionKey, addresses }], signal, {
    streams,
  });
  try {
    return await circuit.measure(MEASURE_BYTES, signal);
  } finally {
    circuit.close();
  }
}
