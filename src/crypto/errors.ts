// Errors from the crypto layer: one class, a stable code to match on, a message for people.
import { CodedError } from '../wire/coded-error.ts';

export type CryptoErrorCode =
  | 'BAD_KEY'
  | 'BAD_DIFFICULTY'
  | 'BAD_ARGUMENT'
  | 'BAD_VALIDITY'
  | 'BAD_KEY_FILE'
  /** A circuit handshake reply did not verify (bad length, bad key, wrong auth). */
  | 'HANDSHAKE_FAILED';

export class CryptoError extends CodedError<CryptoErrorCode> {
  override readonly name = 'CryptoError';
}
