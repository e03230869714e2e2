// The proxies' StreamOpener over onion circuits: maps circuit and exit failures to the proxies'
// error codes (and so to SOCKS reply codes and HTTP statuses).

import type { CircuitManager } from '../circuit/circuit-manager.ts';
import { CircuitError } from '../circuit/errors.ts';
import { EndReason, StreamEndedError } from '../stream/anon-stream.ts';
import { type StreamErrorCode, StreamOpenError, type StreamOpener } from './stream-opener.ts';

const byEndReason: Record<number, StreamErrorCode> = {
  [EndReason.EXITPOLICY]: 'EXIT_POLICY',
  [EndReason.RESOLVEFAILED]: 'RESOLVE_FAILED',
  [EndReason.CONNECTREFUSED]: 'CONNECTION_REFUSED',
  [EndReason.NOROUTE]: 'HOST_UNREACHABLE',
  [EndReason.TIMEOUT]: 'TIMEOUT',
};

export function toStreamOpenError(err: unknown): StreamOpenError {
  if (err instanceof StreamOpenError) return err;
  if (err instanceof StreamEndedError) {
    return new StreamOpenError(
      byEndReason[err.reason] ?? 'GENERAL',
      `the exit refused the stream (${err.message})`,
    );
  }
  if (err instanceof CircuitError && err.code === 'NO_EXIT') {
    return new StreamOpenError('EXIT_POLICY', 'no exit relay accepts this destination port');
  }
  if (err instanceof CircuitError) {
    return new StreamOpenError(
      err.code === 'BUILD_TIMEOUT' ? 'TIMEOUT' : 'NO_CIRCUIT',
      `no circuit: ${err.message}`,
    );
  }
  if ((err as Error)?.name === 'AbortError' || (err as Error)?.name === 'TimeoutError') {
    return new StreamOpenError('TIMEOUT', 'timed out');
  }
  return new StreamOpenError('GENERAL', (err as Error)?.message ?? String(err));
}

export function circuitOpener(manager: CircuitManager): StreamOpener {
  return {
    async open(target, opts) {
      try {
        return await manager.openStream(target.host, target.port, opts.isolationKey, opts.signal);
      } catch (err) {
        throw toStreamOpenError(err);
      }
    },
  };
}
