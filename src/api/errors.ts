// The control API's errors: one stable code per kind, mapped to an HTTP status for REST and to a
// Connect/gRPC code, so a client of either face sees the same code and message. Invalid input names
// the field. Anything unexpected becomes INTERNAL with no detail (never a stack trace).
import { Code, ConnectError } from '@connectrpc/connect';
import { CodedError } from '../wire/coded-error.ts';

export const API_ERRORS = {
  INVALID_ARGUMENT: { status: 400, connect: Code.InvalidArgument },
  UNAUTHORIZED: { status: 401, connect: Code.Unauthenticated },
  /** Only a validator of the ledger's current epoch may propose or vote (this node is not one). */
  NOT_A_VALIDATOR: { status: 403, connect: Code.PermissionDenied },
  NOT_FOUND: { status: 404, connect: Code.NotFound },
  METHOD_NOT_ALLOWED: { status: 405, connect: Code.Unimplemented },
  PAYLOAD_TOO_LARGE: { status: 413, connect: Code.ResourceExhausted },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, connect: Code.InvalidArgument },
  CIRCUIT_BUILD_FAILED: { status: 503, connect: Code.Unavailable },
  LEDGER_UNAVAILABLE: { status: 503, connect: Code.Unavailable },
  TX_REFUSED: { status: 422, connect: Code.FailedPrecondition },
  INTERNAL: { status: 500, connect: Code.Internal },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends CodedError<ApiErrorCode> {
  override readonly name = 'ApiError';
  /** The request field at fault (dotted path, JSON names), for INVALID_ARGUMENT. */
  readonly field: string | undefined;
  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(code, message);
    this.field = field;
  }

  get statusCode(): number {
    return API_ERRORS[this.code].status;
  }
}

export const invalidArgument = (field: string, message: string): ApiError =>
  new ApiError('INVALID_ARGUMENT', `${field}: ${message}`, field);

/** The REST body of an error. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export function errorBody(err: ApiError): ErrorBody {
  return {
    error: { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) },
  };
}

/** Any thrown value as an ApiError; unknown failures hide their detail. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ConnectError) {
    const entry = Object.entries(API_ERRORS).find(([, v]) => v.connect === err.code);
    return new ApiError((entry?.[0] as ApiErrorCode | undefined) ?? 'INTERNAL', err.rawMessage);
  }
  return new ApiError('INTERNAL', 'internal error');
}

/** An ApiError as a ConnectError; the stable code and the field travel in the metadata. */
export function toConnectError(err: unknown): ConnectError {
  const e = toApiError(err);
  const meta: Record<string, string> = { 'anonnet-error-code': e.code };
  if (e.field !== undefined) meta['anonnet-error-field'] = e.field;
  return new ConnectError(e.message, API_ERRORS[e.code].connect, meta);
}
