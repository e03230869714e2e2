// A ledger for CLI tests: the ledger a node would run, minus the network. Its state is real (genesisState
// or a chain built by the test, then applyTx): a submitted transaction is really checked (signature,
// nonce, funds, validator rules) and really applies when the test's block timer commits it.
import { createHash } from 'node:crypto';
import { ApiError, invalidArgument } from '../../../../src/api/errors.ts';
import { ledgerEconomy, ledgerParams, ledgerRelays } from '../../../../src/api/ledger-views.ts';
import { type NodeTxOutcome, nodeGovernance } from '../../../../src/api/node-governance.ts';
import type { LedgerSource, TxState } from '../../../../src/api/source.ts';
import type { Identity } from '../../../../src/crypto/identity.ts';
import { type ApplyContext, applyTx } from '../../../../src/ledger/apply.ts';
import { type GenesisDoc, genesisState } from '../../../../src/ledger/genesis.ts';
import { keyHex, type LedgerState } from '../../../../src/ledger/state.ts';
import {
  decodeTx,
  type SignedTx,
  signTx,
  type Tx,
  type TxBody,
  txId,
} from '../../../../src/wire/ledger-tx.ts';

/** The ledger a node would run, minus the network: a mempool checked on entry and a block per tick. */
export class MemoryLedger implements LedgerSource {
  state: LedgerState;
  readonly validators: readonly Uint8Array[];
  pending: { id: string; signed: SignedTx }[] = [];
  readonly txs = new Map<string, TxState>();
  /** false: accept any well-formed transaction now and let the block refuse it. */
  checkOnSubmit = true;
  paused = false;
  latestBlockTime = 0;

  readonly #governance: ReturnType<typeof nodeGovernance>;

  /**
   * From a genesis document, or from a state the test built and the validators its blocks take. `node`:
   * the daemon's identity, which ProposeParam and VoteParam sign with (absent: a client-only node).
   */
  constructor(from: GenesisDoc | { state: LedgerState; validators: readonly Uint8Array[] }, node?: Identity) {
    this.state = 'state' in from ? from.state : genesisState(from);
    this.validators = from.validators;
    const signer = node && { key: node.publicKey, send: (body: TxBody) => this.#send(node, body) };
    this.#governance = nodeGovernance(this, signer);
  }
  proposals() {
    return this.#governance.proposals();
  }
  propose(paramId: number, value: bigint, signal: AbortSignal) {
    return this.#governance.propose(paramId, value, signal);
  }
  vote(proposalId: Uint8Array, yes: boolean, signal: AbortSignal) {
    return this.#governance.vote(proposalId, yes, signal);
  }
  /** As the daemon's identity queue does: the next nonce, submit, wait until committed or refused. */
  async #send(node: Identity, body: TxBody): Promise<NodeTxOutcome> {
    const me = keyHex(node.publicKey);
    const queued = this.pending.filter((p) => keyHex(p.signed.tx.sender) === me).length;
    const nonce = (this.state.accounts.get(me)?.nonce ?? 0n) + BigInt(queued) + 1n;
    const signed = signTx({ sender: node.publicKey, nonce, fee: 1n, ...body } as Tx, (m) => node.sign(m));
    let id: string;
    try {
      id = await this.submit(signed.bytes);
    } catch (err) {
      const m = /^([A-Z_]+): (.*)$/.exec((err as Error).message);
      return { ok: false, code: m?.[1] ?? 'TX_REFUSED', reason: m?.[2] ?? (err as Error).message };
    }
    for (;;) {
      const t = this.txs.get(id);
      if (t?.status === 'committed') return { ok: true, height: Number(t.height) };
      if (t?.status === 'refused') return { ok: false, code: t.refusalCode, reason: 'refused by the block' };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  #ctx(height: number): ApplyContext {
    return { height, validators: this.validators };
  }
  status() {
    return {
      height: BigInt(this.state.height),
      latestBlockHash: this.state.height === 0 ? '' : keyHex(this.state.lastBlockHash),
      latestBlockTime: this.latestBlockTime,
      validators: this.validators.map(keyHex),
      powDifficulty: this.state.params.powDifficulty,
      economy: ledgerEconomy(this.state),
      params: ledgerParams(this.state.params),
    };
  }
  relays() {
    return ledgerRelays(this.state);
  }
  balance(account: Uint8Array) {
    const a = this.state.accounts.get(keyHex(account));
    return a === undefined ? undefined : { balance: a.balance as bigint, nonce: a.nonce };
  }
  async submit(bytes: Uint8Array): Promise<string> {
    const d = decodeTx(bytes);
    if (d.kind !== 'ok' || d.consumed !== bytes.length) throw invalidArgument('tx', 'not one transaction');
    const id = keyHex(txId(d.value.bytes));
    if (this.checkOnSubmit) {
      const ctx = this.#ctx(this.state.height + 1);
      let s = this.state;
      for (const p of this.pending) {
        const r = applyTx(s, p.signed, ctx);
        if (r.ok) s = r.state;
      }
      const r = applyTx(s, d.value, ctx);
      if (!r.ok) throw new ApiError('TX_REFUSED', `${r.code}: ${r.reason}`);
    }
    this.pending.push({ id, signed: d.value });
    this.txs.set(id, { status: 'pending' });
    return id;
  }
  transaction(id: Uint8Array): TxState {
    return this.txs.get(keyHex(id)) ?? { status: 'unknown' };
  }
  /** One block with every queued transaction, in order; a transaction that does not apply is refused. */
  commit(): void {
    if (this.paused || this.pending.length === 0) return;
    const height = this.state.height + 1;
    let s = this.state;
    for (const p of this.pending) {
      const r = applyTx(s, p.signed, this.#ctx(height));
      if (r.ok) {
        s = r.state;
        this.txs.set(p.id, { status: 'committed', height: BigInt(height) });
      } else this.txs.set(p.id, { status: 'refused', refusalCode: r.code });
    }
    this.pending = [];
    const hash = new Uint8Array(createHash('sha256').update(`block ${height}`).digest());
    this.state = { ...s, height, lastBlockHash: hash };
    this.latestBlockTime = Date.now();
  }
}
