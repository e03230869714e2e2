// Errors of the proxy layer, with stable codes (tests and callers match on `code`).

export type ProxyErrorCode =
  /** A listener could not bind its address (in use, not permitted, not local). */
  | 'LISTEN_FAILED'
  /** An option is out of range. */
  | 'BAD_OPTIONS';

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly code: ProxyErrorCode;
  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
