// Errors of the proxy layer, with stable codes (tests and callers match on `code`).
import { CodedError } from '../wire/coded-error.ts';

export type ProxyErrorCode =
  /** A listener could not bind its address (in use, not permitted, not local). */
  | 'LISTEN_FAILED'
  /** An option is out of range. */
  | 'BAD_OPTIONS';

export class ProxyError extends CodedError<ProxyErrorCode> {
  override readonly name = 'ProxyError';
}
