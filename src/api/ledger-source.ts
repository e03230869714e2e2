// The control API's view of the daemon's ledger (GetLedgerStatus, GetBalance, SubmitTransaction,
// GetTransaction): a thin adapter over LedgerNode. A mempool refusal is a 422 TX_REFUSED naming the
// ledger's code; a transaction dropped from the mempool later reads as "refused" with its code.
import type { LedgerNode } from '../consensus/ledger-node.ts';
import { ApiError } from './errors.ts';
import type { LedgerSource, TxState } from './source.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function ledgerApiSource(ledger: LedgerNode): LedgerSource {
  return {
    status: () => {
      const s = ledger.status();
      return {
        height: BigInt(s.height),
        latestBlockHash: s.height > 0 ? s.tipHash : '',
        latestBlockTime: s.tipTimeMs,
        validators: [...s.validators],
      };
    },
    balance: (account) => ledger.account(hex(account)),
    submit: async (tx, signal) => {
      signal.throwIfAborted();
      const r = ledger.submit(tx);
      // "<CODE>: <reason>": the ledger's own code when it refused, else the mempool's (the CLI reads it).
      if (!r.ok) throw new ApiError('TX_REFUSED', `${r.txCode ?? r.code}: ${r.reason}`);
      return hex(r.txId);
    },
    transaction: (id): TxState => {
      const s = ledger.txStatus(id);
      switch (s.status) {
        case 'committed':
          return { status: 'committed', height: BigInt(s.height) };
        case 'dropped':
          return { status: 'refused', refusalCode: s.code };
        default:
          return { status: s.status };
      }
    },
  };
}
