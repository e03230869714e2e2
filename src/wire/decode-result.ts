// Every decoder answers with one of three things, as arti's codecs do:
// a value, "not enough bytes yet", or "these bytes are wrong" (with a reason).

export type DecodeResult<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'needMore' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

export const needMore = { kind: 'needMore' } as const;

export function decodeError(code: string, message: string): DecodeResult<never> {
  return { kind: 'error', code, message };
}
