// Errors from the economy layer: one class, a stable code to match on, a message for people.
import { CodedError } from '../wire/coded-error.ts';

export type EconomyErrorCode =
  /** Receipts that cannot form one claim: another relay or epoch, or a (signer, tag) twice. */
  | 'BAD_RECEIPTS'
  /** An argument outside its range (a sample count, a position past the claim's total). */
  | 'BAD_ARGUMENT';

export class EconomyError extends CodedError<EconomyErrorCode> {
  override readonly name = 'EconomyError';
}
