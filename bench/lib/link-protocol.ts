// What the link-throughput parent and its peer processes say to each other: one JSON object per line
// on the child's stdout (logs go to stderr). Shared by bench/link-throughput.ts and link-peer.ts.

export const LINK_CASES = ['tcp-raw', 'libp2p-tcp', 'libp2p-quic'] as const;
export type LinkCase = (typeof LINK_CASES)[number];

export const BENCH_PROTOCOL = '/anonnet/bench/1.0.0';

/** The receiver answers each finished transfer with the byte count it saw, as a u64 big-endian. */
export const ACK_BYTES = 8;

export function isLinkCase(s: string): s is LinkCase {
  return (LINK_CASES as readonly string[]).includes(s);
}

/** The receiver is listening; the sender dials `addr`. */
export interface ReadyLine {
  readonly type: 'ready';
  readonly addr: string;
}

/** One finished transfer, as seen by one side. */
export interface TransferLine {
  readonly type: 'transfer';
  readonly role: 'send' | 'recv';
  /** 0 is the warm-up transfer, 1..runs are measured. */
  readonly run: number;
  readonly bytes: number;
  /** Sender: first send() to the receiver's ack. Receiver: first byte to end of stream. */
  readonly ms: number;
  /** CPU time of the whole process (every thread, native ones included) during the transfer. */
  readonly cpuUserMs: number;
  readonly cpuSysMs: number;
  /** Sender: send()/write() calls. Receiver: 'message'/'data' events. */
  readonly calls: number;
  /** Sender: times it had to wait for 'drain'. */
  readonly drains: number;
}

export type PeerLine = ReadyLine | TransferLine;

export function encodeAck(bytes: number): Uint8Array {
  const ack = new Uint8Array(ACK_BYTES);
  new DataView(ack.buffer).setBigUint64(0, BigInt(bytes));
  return ack;
}

export function decodeAck(ack: Uint8Array): number {
  if (ack.byteLength !== ACK_BYTES) return -1;
  return Number(new DataView(ack.buffer, ack.byteOffset, ack.byteLength).getBigUint64(0));
}
