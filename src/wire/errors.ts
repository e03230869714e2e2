// Errors from the wire layer. Encoders throw WireError; decoders never throw and return the same codes
// inside a DecodeResult (decode-result.ts). Codes are stable: tests and peers' logs match on them.
import { CodedError } from './coded-error.ts';

export type WireErrorCode =
  /** The bytes do not start with the expected magic. */
  | 'BAD_MAGIC'
  /** A format version this code does not read. */
  | 'BAD_VERSION'
  /** The encoding is, or would become, larger than its format allows. */
  | 'TOO_LARGE'
  /** A count is above its limit. */
  | 'TOO_MANY'
  /** A length (of a key, address, extension, signature) is wrong or above its limit. */
  | 'BAD_LENGTH'
  /** A value is out of range or not one of the allowed values. */
  | 'BAD_FIELD'
  /** Items that must be strictly ascending are not. */
  | 'BAD_ORDER'
  /** Bytes follow a complete encoding. */
  | 'TRAILING_BYTES'
  /** Text that is not well-formed UTF-8. */
  | 'BAD_UTF8'
  /** A host that is not a hostname, an IPv4 or an IPv6 literal (cell.ts). */
  | 'BAD_HOST'
  /** Port 0. */
  | 'BAD_PORT'
  /** Padding that must be zero is not. */
  | 'BAD_PADDING'
  /** A relay command sent with a stream id it may not have (0 for stream commands, nonzero otherwise). */
  | 'BAD_STREAM_ID'
  /** A bug: a decoder hit an unexpected exception (reported, never thrown). */
  | 'INTERNAL';

export class WireError extends CodedError<WireErrorCode> {
  override readonly name = 'WireError';
}
