// The one shape of the project's errors: an Error with a stable `code` that tests, callers and peers'
// logs match on (the message is for people and may change). A layer's error is a subclass that names
// itself and narrows the code:
//
//   export class WireError extends CodedError<WireErrorCode> {
//     override readonly name = 'WireError';
//   }
//
// Pure (no I/O), so that every layer, wire/ and crypto/ included, can use it.

export class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
