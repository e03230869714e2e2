export type CircuitErrorCode =
  | 'BUILD_TIMEOUT'
  | 'BUILD_FAILED'
  | 'HANDSHAKE_FAILED'
  | 'INTEGRITY'
  | 'PROTOCOL'
  | 'DESTROYED'
  | 'LINK_CLOSED'
  | 'NO_PATH'
  | 'NO_EXIT'
  | 'LIMIT'
  | 'CLOSED';

export class CircuitError extends Error {
  override readonly name = 'CircuitError';
  readonly code: CircuitErrorCode;
  constructor(code: CircuitErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
