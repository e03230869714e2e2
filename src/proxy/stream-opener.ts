// What the proxies need from the layer below: open a TCP-like stream to a host and port, resolved by
// the exit (never here: no DNS leaks). The proxies do not know how the stream is carried.
import type { Duplex } from 'node:stream';
import { CodedError } from '../wire/coded-error.ts';

/** `host`: a hostname, an IPv4 literal, or an IPv6 literal without brackets. */
export interface StreamTarget {
  readonly host: string;
  readonly port: number;
}

export interface OpenOptions {
  /** Streams with different keys never share a circuit (stream isolation). */
  readonly isolationKey: string;
  /** Aborted when the application gives up (its connection closed) or the proxy's deadline passed. */
  readonly signal: AbortSignal;
}

export interface StreamOpener {
  /**
   * The Duplex carries the application's bytes both ways. Half-close works: end() on one side, the
   * other side sees 'end' and can still write back. An error or destroy means the stream failed.
   * Rejects with StreamOpenError (other errors count as 'GENERAL').
   */
  open(target: StreamTarget, opts: OpenOptions): Promise<Duplex>;
}

export type StreamErrorCode =
  | 'EXIT_POLICY'
  | 'CONNECTION_REFUSED'
  | 'HOST_UNREACHABLE'
  | 'NETWORK_UNREACHABLE'
  | 'RESOLVE_FAILED'
  | 'TIMEOUT'
  | 'NO_CIRCUIT'
  | 'TTL_EXPIRED'
  | 'GENERAL';

export class StreamOpenError extends CodedError<StreamErrorCode> {
  override readonly name = 'StreamOpenError';
}

/** The code of whatever `open()` rejected with: StreamOpenError's own, else 'GENERAL'. */
export function streamErrorCode(err: unknown): StreamErrorCode {
  return err instanceof StreamOpenError ? err.code : 'GENERAL';
}
