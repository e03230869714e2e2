// Two ends of one libp2p stream in memory, muxed by the real yamux over @libp2p/utils' in-memory
// connection pair. Unlike @libp2p/utils' streamPair (a mock muxer with no flow control), a reader that
// pauses here stops granting yamux window, so the writer's send() answers false after the window
// (256 KiB) and 'drain' comes only once the reader resumes: a neighbour that stops reading.
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream } from '@libp2p/interface';
import { multiaddrConnectionPair } from '@libp2p/utils';

export interface YamuxPair {
  /** The end that opened the stream. */
  readonly outbound: Stream;
  readonly inbound: Stream;
  close(): void;
}

export async function yamuxPair(): Promise<YamuxPair> {
  const [oc, ic] = multiaddrConnectionPair();
  const om = yamux({ enableKeepAlive: false })().createStreamMuxer(oc);
  const im = yamux({ enableKeepAlive: false })().createStreamMuxer(ic);
  const inbound = new Promise<Stream>((resolve) =>
    im.addEventListener('stream', (e) => resolve(e.detail), { once: true }),
  );
  // yamux opens the stream with a window update (SYN) of its own: nothing needs to be sent.
  const outbound = await om.createStream();
  return {
    outbound,
    inbound: await inbound,
    close() {
      oc.abort(new Error('test done'));
      ic.abort(new Error('test done'));
    },
  };
}
