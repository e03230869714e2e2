export type DaemonErrorCode = 'DATA_DIR' | 'LOCKED' | 'IDENTITY_FILE' | 'ONION_KEY_FILE' | 'ABORTED';

export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: DaemonErrorCode;
  constructor(code: DaemonErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
