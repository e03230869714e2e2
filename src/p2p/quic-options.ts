// QUIC transport settings (@chainsafe/libp2p-quic). Kept apart so measurements can tune them:
// see docs/transports.md, which has the figures behind every value here.
import type { QuicOptions } from '@chainsafe/libp2p-quic';

const MiB = 1024 * 1024;

/**
 * The settings AnonNet sets explicitly. The package's published `napi.d.ts` types its native config
 * as `any`, so `QuicOptions` checks nothing: the fields are spelled out here instead.
 */
interface QuicTuning {
  /** quinn `stream_receive_window`: bytes a peer may send on one stream beyond what we have read. */
  readonly maxStreamData: number;
  /** quinn `receive_window`: the same across all streams of one connection. */
  readonly maxConnectionData: number;
}

/**
 * Flow-control windows, lowered from the package defaults (10 MB per stream, 15 MB per connection).
 * Measured on loopback, throughput is the same within noise (bench/link-throughput.ts; the limit
 * there is the package's 4 KiB native reads, not the window), and quinn then buffers at most 8 MiB
 * of unread data per connection instead of 15 MB. 4 MiB per stream still covers a 100 ms path at
 * 40 MiB/s, 8 MiB per connection 80 MiB/s: more than one JS process moves over QUIC today.
 *
 * Left at the package defaults, because they measured no better: socket buffers (500 kB asked; 4 MiB
 * changed neither throughput nor UDP receive-buffer drops), timeouts, and 256 concurrent streams.
 */
export const quicTransportOptions: Partial<QuicOptions> & QuicTuning = {
  maxStreamData: 4 * MiB,
  maxConnectionData: 8 * MiB,
};
