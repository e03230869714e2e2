// The control API's view of the daemon's ledger (GetLedgerStatus, GetBalance, SubmitTransaction,
// GetTransaction, ListLedgerRelays, and governance: node-governance.ts): a thin adapter over LedgerNode.
// A mempool refusal is a 422 TX_REFUSED naming the ledger's code; a transaction dropped from the mempool
// later reads as "refused" with its code. A client-only node refuses transactions signed by its own node
// identity (CLIENT_IDENTITY): a client's ledger activity goes through its wallet, never its node identity
// (docs/economy.md, "Roles and keys").
import type { LedgerNode } from '../consensus/ledger-node.ts';
import { bytesEqual } from '../wire/bytes.ts';
import { decodeTx } from '../wire/ledger-tx.ts';
import { ApiError } from './errors.ts';
import { ledgerEconomy, ledgerParams, ledgerRelays } from './ledger-views.ts';
import { type NodeSigner, nodeGovernance } from './node-governance.ts';
import type { LedgerSource, TxState } from './source.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export interface LedgerSourceOptions {
  /** Transactions from this sender are refused (a client-only node's identity key). */
  readonly refuseSender?: Uint8Array;
  /** The node identity's transaction queue, for ProposeParam and VoteParam (absent on a client only). */
  readonly signer?: NodeSigner;
}

export function ledgerApiSource(ledger: LedgerNode, opts: LedgerSourceOptions = {}): LedgerSource {
  return {
    status: () => {
      const s = ledger.status();
      const state = ledger.state;
      return {
        height: BigInt(s.height),
        latestBlockHash: s.height > 0 ? s.tipHash : '',
        latestBlockTime: s.tipTimeMs,
        validators: [...s.validators],
        powDifficulty: state.params.powDifficulty,
        economy: ledgerEconomy(state),
        params: ledgerParams(state.params),
      };
    },
    balance: (account) => ledger.account(hex(account)),
    submit: async (tx, signal) => {
      signal.throwIfAborted();
      const decoded = decodeTx(tx);
      if (
        opts.refuseSender !== undefined &&
        decoded.kind === 'ok' &&
        bytesEqual(decoded.value.tx.sender, opts.refuseSender)
      )
        throw new ApiError(
          'TX_REFUSED',
          'CLIENT_IDENTITY: this node is a client only and sends nothing signed by its node identity (sign with the wallet)',
        );
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
    relays: () => ledgerRelays(ledger.state),
    ...nodeGovernance(ledger, opts.signer),
  };
}
