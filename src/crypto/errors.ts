// Errors from the crypto layer: one class, a stable code to match on, a message for people.

export type CryptoErrorCode =
  | 'BAD_KEY'
  | 'BAD_DIFFICULTY'
  | 'BAD_ARGUMENT'
  | 'BAD_VALIDITY'
  | 'BAD_KEY_FILE'
  /** A circuit handshake reply did not verify (bad length, bad key, wrong auth). */
  | 'HANDSHAKE_FAILED';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}
