import { CodedError } from '../wire/coded-error.ts';

export type DaemonErrorCode =
  | 'DATA_DIR'
  | 'LOCKED'
  | 'IDENTITY_FILE'
  | 'WALLET_FILE'
  | 'ONION_KEY_FILE'
  | 'ABORTED';

export class DaemonError extends CodedError<DaemonErrorCode> {
  override readonly name = 'DaemonError';
}
