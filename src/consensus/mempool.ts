// The mempool: signed transactions waiting for a block. Bounded by count, bytes and per-sender depth;
// when full it refuses (FULL) rather than evicting, so a flood cannot push out honest transactions
// already queued. Deduplicated by txId and by (sender, nonce). Checked against the committed state on
// entry: signature, fee, a nonce above the account's; the sender's next nonce must also apply in full.
// Later nonces wait for their predecessors (proposeBlockTxs orders them).
//
// After each commit, onCommit drops what the block included, what became stale (nonce used) and what
// no longer applies on the new state, and anything older than maxAgeBlocks. status() answers for
// pending transactions and, from a bounded memory, for recently committed or dropped ones.
import { type ApplyContext, checkTx } from '../ledger/apply.ts';
import { proposeBlockTxs } from '../ledger/chain.ts';
import { validatorsForHeight } from '../ledger/epochs.ts';
import { getAccount, type KeyHex, keyHex, type LedgerState } from '../ledger/state.ts';
import { verifyTxSignature } from '../ledger/tx-signatures.ts';
import { decodeTx, MAX_TX_BYTES, type SignedTx, txId } from '../wire/ledger-tx.ts';

export interface MempoolOptions {
  readonly maxTxs: number;
  readonly maxBytes: number;
  /** Queued transactions per sender, and how far past the account's nonce one may be. */
  readonly maxPerSender: number;
  /** Blocks a transaction may wait before it is dropped (nonce gaps never filled). */
  readonly maxAgeBlocks: number;
  /** Committed or dropped txIds remembered for status(). */
  readonly recentMemory: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxTxs: 5000,
  maxBytes: 2 * 1024 * 1024,
  maxPerSender: 64,
  maxAgeBlocks: 120,
  recentMemory: 10_000,
};

export type MempoolRefusalCode =
  | 'BAD_ENCODING'
  | 'DUPLICATE'
  /** Another queued transaction of this sender has the same nonce. */
  | 'NONCE_TAKEN'
  /** The nonce is already used on chain. */
  | 'STALE_NONCE'
  /** The nonce is too far ahead of the account's, or the sender has too many queued. */
  | 'SENDER_LIMIT'
  | 'FULL'
  /** The ledger refuses it (`txCode` names the ledger's RefusalCode). */
  | 'INVALID';

export type AddResult =
  | { readonly ok: true; readonly txId: Uint8Array }
  | {
      readonly ok: false;
      readonly code: MempoolRefusalCode;
      readonly reason: string;
      readonly txCode?: string;
    };

export type TxStatus =
  | { readonly status: 'pending' }
  | { readonly status: 'committed'; readonly height: number }
  | { readonly status: 'dropped'; readonly code: string }
  | { readonly status: 'unknown' };

interface Entry {
  readonly id: KeyHex;
  readonly bytes: Uint8Array;
  readonly sender: KeyHex;
  readonly nonce: bigint;
  readonly seq: number;
  readonly addedAt: number;
}

export class Mempool {
  readonly #opts: MempoolOptions;
  readonly #byId = new Map<KeyHex, Entry>();
  /** sender → nonce → entry. */
  readonly #bySender = new Map<KeyHex, Map<bigint, Entry>>();
  /** Recently committed or dropped, oldest first (Map keeps insertion order). */
  readonly #recent = new Map<KeyHex, TxStatus>();
  #bytes = 0;
  #seq = 0;

  constructor(opts: Partial<MempoolOptions> = {}) {
    this.#opts = { ...defaultMempoolOptions, ...opts };
  }

  get size(): number {
    return this.#byId.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Queues an encoded signed transaction, checked against the committed `state`. */
  add(bytes: Uint8Array, state: LedgerState): AddResult {
    if (bytes.length > MAX_TX_BYTES) return refuse('BAD_ENCODING', 'transaction too large');
    const decoded = decodeTx(bytes);
    if (decoded.kind !== 'ok')
      return refuse('BAD_ENCODING', decoded.kind === 'error' ? decoded.message : 'truncated');
    const signed = decoded.value;
    const id = keyHex(txId(signed.bytes));
    if (this.#byId.has(id)) return refuse('DUPLICATE', 'already queued');
    const sender = keyHex(signed.tx.sender);
    const nonce = signed.tx.nonce;
    const accountNonce = getAccount(state, sender).nonce;
    if (nonce <= accountNonce)
      return refuse('STALE_NONCE', `nonce ${nonce} already used (account at ${accountNonce})`);
    const queued = this.#bySender.get(sender);
    if (queued?.has(nonce)) return refuse('NONCE_TAKEN', `nonce ${nonce} is already queued for this sender`);
    if (
      nonce > accountNonce + BigInt(this.#opts.maxPerSender) ||
      (queued?.size ?? 0) >= this.#opts.maxPerSender
    ) {
      return refuse('SENDER_LIMIT', `at most ${this.#opts.maxPerSender} queued per sender`);
    }
    if (this.#byId.size >= this.#opts.maxTxs || this.#bytes + signed.bytes.length > this.#opts.maxBytes) {
      return refuse('FULL', 'mempool is full');
    }
    const invalid = checkAgainst(state, signed, nonce === accountNonce + 1n);
    if (invalid !== null) return { ok: false, code: 'INVALID', reason: invalid.reason, txCode: invalid.code };

    const entry: Entry = { id, bytes: signed.bytes, sender, nonce, seq: this.#seq++, addedAt: state.height };
    this.#byId.set(id, entry);
    this.#bytes += entry.bytes.length;
    const perSender = queued ?? new Map<bigint, Entry>();
    perSender.set(nonce, entry);
    this.#bySender.set(sender, perSender);
    this.#recent.delete(id);
    return { ok: true, txId: txId(signed.bytes) };
  }

  /**
   * Queued transactions for a proposer: senders in order of their oldest queued transaction, each
   * sender's transactions in nonce order.
   */
  pending(): Uint8Array[] {
    const groups = [...this.#bySender.values()].map((m) =>
      [...m.values()].sort((a, b) => cmpBig(a.nonce, b.nonce)),
    );
    groups.sort((a, b) => Math.min(...a.map((e) => e.seq)) - Math.min(...b.map((e) => e.seq)));
    return groups.flat().map((e) => e.bytes);
  }

  status(id: Uint8Array): TxStatus {
    const k = keyHex(id);
    if (this.#byId.has(k)) return { status: 'pending' };
    return this.#recent.get(k) ?? { status: 'unknown' };
  }

  /**
   * After a block commits: forget its transactions, then drop every queued transaction that is stale,
   * too old, or no longer applies on top of `state` (the state after the block).
   */
  onCommit(committed: readonly Uint8Array[], state: LedgerState): { readonly dropped: number } {
    for (const id of committed) {
      const k = keyHex(id);
      const e = this.#byId.get(k);
      if (e !== undefined) this.#remove(e);
      this.#remember(k, { status: 'committed', height: state.height });
    }
    let dropped = 0;
    for (const e of [...this.#byId.values()]) {
      const stale = e.nonce <= getAccount(state, e.sender).nonce;
      if (stale || state.height - e.addedAt > this.#opts.maxAgeBlocks) {
        this.#drop(e, stale ? 'STALE_NONCE' : 'EXPIRED');
        dropped++;
      }
    }
    // Replay the queue on the new state; keep what applies, and nonce gaps that may still fill.
    const { skipped } = proposeBlockTxs(state, this.pending(), {
      maxTxs: Number.MAX_SAFE_INTEGER,
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    for (const s of skipped) {
      if (s.code === 'BAD_NONCE') continue;
      const e = this.#byId.get(keyHex(txId(s.bytes)));
      if (e !== undefined) {
        this.#drop(e, s.code);
        dropped++;
      }
    }
    return { dropped };
  }

  #drop(e: Entry, code: string): void {
    this.#remove(e);
    this.#remember(e.id, { status: 'dropped', code });
  }

  #remove(e: Entry): void {
    this.#byId.delete(e.id);
    this.#bytes -= e.bytes.length;
    const perSender = this.#bySender.get(e.sender);
    perSender?.delete(e.nonce);
    if (perSender?.size === 0) this.#bySender.delete(e.sender);
  }

  #remember(id: KeyHex, status: TxStatus): void {
    this.#recent.delete(id);
    this.#recent.set(id, status);
    while (this.#recent.size > this.#opts.recentMemory) {
      const oldest = this.#recent.keys().next().value;
      if (oldest === undefined) break;
      this.#recent.delete(oldest);
    }
  }
}

/** Null when the transaction may wait in the pool; `full`: its nonce is next, so it must apply now. */
function checkAgainst(
  state: LedgerState,
  signed: SignedTx,
  full: boolean,
): { code: string; reason: string } | null {
  if (full) {
    const height = state.height + 1;
    const ctx: ApplyContext = { height, validators: validatorsForHeight(state, height) ?? [] };
    // The verdict only: no next state is built (no map copies on the admission path).
    const r = checkTx(state, signed, ctx);
    return r === null ? null : { code: r.code, reason: r.reason };
  }
  // Memoized on success: the proposal, the replay after each commit and the block check skip it.
  if (!verifyTxSignature(signed)) {
    return { code: 'BAD_SIGNATURE', reason: 'signature does not verify against the sender key' };
  }
  if (signed.tx.fee < state.params.minFee)
    return { code: 'FEE_TOO_LOW', reason: `fee below ${state.params.minFee}` };
  return null;
}

function refuse(code: MempoolRefusalCode, reason: string): AddResult {
  return { ok: false, code, reason };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
