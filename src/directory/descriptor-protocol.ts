// `/anonnet/descriptor/1.0.0`: ask a connected peer for its own current descriptor. The DHT remains the
// way to find relays we are not connected to; this direct path keeps neighbours' views fresh even when
// DHT queries are slowed by dead peers. The answer is verified like any DHT record.
//
//   responder → requester:  status u8 (0 = descriptor follows, 1 = none yet) | descriptor bytes | EOF
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { RefusalLog } from '../log/refusals.ts';
import { CodedError } from '../wire/coded-error.ts';
import { MAX_DESCRIPTOR_BYTES } from '../wire/descriptor.ts';

export const DESCRIPTOR_PROTOCOL = '/anonnet/descriptor/1.0.0';
const STATUS_OK = 0;
const STATUS_NONE = 1;

/**
 * Answers every request with our current descriptor. The requester sends nothing (docs/protocol.md):
 * a byte from it is a protocol error that resets the stream, with one line in `refusals`; reading
 * nothing also means a requester cannot park data in our read buffer (it took ~4 MiB per stream).
 */
export function serveOwnDescriptor(
  host: Libp2p,
  current: () => Uint8Array | undefined,
  refusals?: RefusalLog,
): Promise<void> {
  return host.handle(
    DESCRIPTOR_PROTOCOL,
    async (stream) => {
      stream.addEventListener(
        'message',
        () => {
          refusals?.refuse(
            'DESCRIPTOR_PROTOCOL',
            'reset a descriptor request that carried data (requesters send nothing: a buggy or hostile peer)',
          );
          stream.abort(new DescriptorFetchError('REQUEST_DATA', 'the requester sent data'));
        },
        { once: true },
      );
      try {
        const bytes = current();
        const reply = new Uint8Array(1 + (bytes?.length ?? 0));
        reply[0] = bytes === undefined ? STATUS_NONE : STATUS_OK;
        if (bytes !== undefined) reply.set(bytes, 1);
        stream.send(reply);
        await stream.close({ signal: AbortSignal.timeout(5_000) });
      } catch (err) {
        stream.abort(err as Error);
      }
    },
    { maxInboundStreams: 8, runOnLimitedConnection: false },
  );
}

export class DescriptorFetchError extends CodedError<'TOO_LARGE' | 'NONE' | 'EMPTY' | 'REQUEST_DATA'> {
  override readonly name = 'DescriptorFetchError';
}

/** Fetches a connected peer's descriptor bytes (unverified: the caller verifies). */
export async function fetchPeerDescriptor(
  host: Libp2p,
  peerId: string,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const stream = await host.dialProtocol(peerIdFromString(peerId), DESCRIPTOR_PROTOCOL, { signal });
  const chunks: Uint8Array[] = [];
  let size = 0;
  const answer = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      stream.abort(err);
      reject(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    stream.addEventListener('message', (evt) => {
      const bytes = evt.data.subarray();
      size += bytes.length;
      if (size > MAX_DESCRIPTOR_BYTES + 1)
        fail(new DescriptorFetchError('TOO_LARGE', 'descriptor reply too large'));
      else chunks.push(bytes);
    });
    // The responder closes after its answer: the end of its side is the end of the answer.
    stream.addEventListener('remoteCloseWrite', () => resolve(), { once: true });
    stream.addEventListener(
      'close',
      (evt) => {
        signal.removeEventListener('abort', onAbort);
        if (evt.error) reject(evt.error);
        else resolve();
      },
      { once: true },
    );
  });
  await stream.close({ signal }).catch(() => {});
  await answer;
  const all = Buffer.concat(chunks);
  if (all.length === 0) throw new DescriptorFetchError('EMPTY', 'empty descriptor reply');
  if (all[0] !== STATUS_OK) throw new DescriptorFetchError('NONE', 'peer has no descriptor yet');
  return new Uint8Array(all.subarray(1));
}
