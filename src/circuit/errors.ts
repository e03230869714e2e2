import { CodedError } from '../wire/coded-error.ts';

export type CircuitErrorCode =
  | 'BUILD_TIMEOUT'
  | 'BUILD_FAILED'
  | 'HANDSHAKE_FAILED'
  | 'INTEGRITY'
  | 'PROTOCOL'
  | 'DESTROYED'
  | 'TRUNCATED'
  | 'UNREACHABLE'
  | 'LINK_CLOSED'
  | 'NO_PATH'
  | 'NO_EXIT'
  | 'LIMIT'
  | 'CLOSED';

export class CircuitError extends CodedError<CircuitErrorCode> {
  override readonly name = 'CircuitError';
  /** The relay (peer id) this failure shows to be unreachable, when the failure points at one. */
  readonly unreachable: string | undefined;
  constructor(code: CircuitErrorCode, message: string, unreachable?: string) {
    super(code, message);
    this.unreachable = unreachable;
  }
}
