// Ledger transactions a relay signs with its node identity (claims, audit verdicts, measurements,
// registration), sent one at a time: each waits until it is committed or dropped before the next is
// signed, so nonces never collide or leave gaps.
import type { LedgerNode } from '../consensus/ledger-node.ts';
import type { Identity } from '../crypto/identity.ts';
import { keyHex } from '../ledger/state.ts';
import { signTx, type Tx, type TxBody, txId } from '../wire/ledger-tx.ts';

export type TxOutcome =
  | { readonly ok: true; readonly height: number }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export interface IdentityTxsOptions {
  /** Give up waiting for a commit after this long. */
  readonly commitTimeoutMs: number;
  readonly fee: bigint;
}

export const defaultIdentityTxsOptions: IdentityTxsOptions = { commitTimeoutMs: 60_000, fee: 1n };

export class IdentityTxs {
  readonly #ledger: LedgerNode;
  readonly #identity: Identity;
  readonly #opts: IdentityTxsOptions;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(ledger: LedgerNode, identity: Identity, opts: IdentityTxsOptions = defaultIdentityTxsOptions) {
    this.#ledger = ledger;
    this.#identity = identity;
    this.#opts = opts;
  }

  /** Signs `body` with the next nonce once the transactions before it are done, submits, waits. */
  send(body: TxBody, signal: AbortSignal): Promise<TxOutcome> {
    const run = this.#tail.then(() => this.#sendNow(body, signal));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #sendNow(body: TxBody, signal: AbortSignal): Promise<TxOutcome> {
    signal.throwIfAborted();
    const me = keyHex(this.#identity.publicKey);
    const nonce = (this.#ledger.account(me)?.nonce ?? 0n) + 1n;
    const tx = { sender: this.#identity.publicKey, nonce, fee: this.#opts.fee, ...body } as Tx;
    const signed = signTx(tx, (m) => this.#identity.sign(m));
    const added = this.#ledger.submit(signed.bytes);
    // The ledger's own code when it refused (INSUFFICIENT_FUNDS), else the mempool's (FULL, DUPLICATE).
    if (!added.ok) return { ok: false, code: added.txCode ?? added.code, reason: added.reason };
    const id = txId(signed.bytes);
    const deadline = Date.now() + this.#opts.commitTimeoutMs;
    while (Date.now() < deadline) {
      const s = this.#ledger.txStatus(id);
      if (s.status === 'committed') return { ok: true, height: s.height };
      if (s.status === 'dropped')
        return { ok: false, code: s.code, reason: `dropped from the mempool: ${s.code}` };
      await new Promise((resolve) => setTimeout(resolve, 100));
      signal.throwIfAborted();
    }
    return { ok: false, code: 'TIMEOUT', reason: 'not committed in time' };
  }
}
