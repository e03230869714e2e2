// The mempool: signed transactions waiting for a block. Admission costs the sender (hardening issue,
// class 2: fresh keys used to fill every mempool for free with transactions that could never apply):
//
// - Checked against the committed state on entry: signature, fee, a nonce above the account's; the
//   sender's next nonce must apply in full (funds, proof-of-work, every rule of its kind).
// - Funded: the sender's committed balance covers what everything it has queued would take from it
//   (fees, amounts, name fees: mempool-policy.ts txCost), or UNFUNDED. An account without credits may
//   only claim its starting credits; a queued claim's credits count for the same sender's later
//   transactions.
// - Claims (CLAIM_GENESIS at the sender's next nonce, paid from what they mint, with proof-of-work) sit
//   under their own small bound, maxClaims, outside maxTxs: one per account (its next nonce).
// - Gapped transactions (waiting for an earlier nonce nobody queued: no block can take them) are
//   capped per sender (maxGappedPerSender) and in all (maxGappedTxs), or GAP_LIMIT.
// - Full: the worst queued transaction is evicted when the newcomer ranks strictly better
//   (mempool-policy.ts: gapped before ready, then lowest fee, then oldest); otherwise FULL. An evicted
//   transaction reads as dropped (EVICTED) and is re-flooded by nobody.
// Deduplicated by txId and by (sender, nonce). Later nonces wait for their predecessors
// (proposeBlockTxs orders them).
//
// After each commit, onCommit drops what the block included, what became stale (nonce used), what no
// longer applies on the new state, what the sender's new balance no longer covers, and anything older
// than maxAgeBlocks. status() answers for pending transactions and, from a bounded memory, for recently
// committed or dropped ones.
import { verifyPow } from '../crypto/pow.ts';
import { type ApplyContext, checkTx } from '../ledger/apply.ts';
import { proposeBlockTxs } from '../ledger/chain.ts';
import { validatorsForHeight } from '../ledger/epochs.ts';
import { type Account, getAccount, type KeyHex, keyHex, type LedgerState } from '../ledger/state.ts';
import { verifyTxSignature } from '../ledger/tx-signatures.ts';
import { decodeTx, MAX_TX_BYTES, type SignedTx, txId } from '../wire/ledger-tx.ts';
import { displaces, evictsBefore, type Rank, readyEnd, txCost } from './mempool-policy.ts';

export interface MempoolOptions {
  /** Transactions queued, claims aside. */
  readonly maxTxs: number;
  /** Bytes of those transactions. */
  readonly maxBytes: number;
  /** Queued transactions per sender, and how far past the account's nonce one may be. */
  readonly maxPerSender: number;
  /** Queued transactions per sender that wait for an earlier nonce nobody has queued. */
  readonly maxGappedPerSender: number;
  /** The same, all senders together. */
  readonly maxGappedTxs: number;
  /** Claims of starting credits (CLAIM_GENESIS at the sender's next nonce), outside maxTxs. */
  readonly maxClaims: number;
  /** Blocks a transaction may wait before it is dropped (nonce gaps never filled). */
  readonly maxAgeBlocks: number;
  /** Committed or dropped txIds remembered for status(). */
  readonly recentMemory: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxTxs: 5000,
  maxBytes: 2 * 1024 * 1024,
  maxPerSender: 64,
  maxGappedPerSender: 4,
  maxGappedTxs: 500,
  maxClaims: 256,
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
  /** The sender's balance does not cover what its queued transactions and this one would cost. */
  | 'UNFUNDED'
  /** Too many transactions wait for an earlier nonce (this sender's, or all senders'). */
  | 'GAP_LIMIT'
  /** Full of transactions that rank at least as high (raise the fee). */
  | 'FULL'
  /** The ledger refuses it (`txCode` names the ledger's RefusalCode). */
  | 'INVALID';

export type AddResult =
  | {
      readonly ok: true;
      readonly txId: Uint8Array /** Queued transactions it pushed out. */;
      readonly evicted: number;
    }
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

export interface MempoolStats {
  readonly txs: number;
  readonly claims: number;
  readonly bytes: number;
  readonly gapped: number;
  readonly admitted: number;
  readonly evicted: number;
  /** Refusals since start, by MempoolRefusalCode. */
  readonly refused: Readonly<Record<string, number>>;
}

interface Entry {
  readonly id: KeyHex;
  readonly bytes: Uint8Array;
  readonly sender: KeyHex;
  readonly nonce: bigint;
  readonly fee: bigint;
  /** What it takes from the sender when it applies (txCost). */
  readonly cost: bigint;
  /** Held under maxClaims: a CLAIM_GENESIS at the sender's next nonce when it arrived. */
  readonly claim: boolean;
  /** A CLAIM_GENESIS (wherever it sits): its starting credits count for the sender's later ones. */
  readonly mints: boolean;
  readonly seq: number;
  readonly addedAt: number;
}

/** One sender's queue, with the committed account figures it was last checked against. */
interface SenderQueue {
  readonly entries: Map<bigint, Entry>;
  accountNonce: bigint;
  balance: bigint;
  /** The starting credits a queued claim would mint (0 once the account has claimed). */
  claimCredit: bigint;
  /** Sum of the entries' costs. */
  cost: bigint;
  /** readyEnd(entries, accountNonce): entries above it are gapped. */
  readyEnd: bigint;
  gapped: number;
}

export class Mempool {
  readonly #opts: MempoolOptions;
  readonly #byId = new Map<KeyHex, Entry>();
  readonly #senders = new Map<KeyHex, SenderQueue>();
  /** Recently committed or dropped, oldest first (Map keeps insertion order). */
  readonly #recent = new Map<KeyHex, TxStatus>();
  /** Bytes and count of the entries outside the claims bound. */
  #bytes = 0;
  #general = 0;
  #claims = 0;
  #gapped = 0;
  #seq = 0;
  #admitted = 0;
  #evicted = 0;
  readonly #refused = new Map<string, number>();

  constructor(opts: Partial<MempoolOptions> = {}) {
    this.#opts = { ...defaultMempoolOptions, ...opts };
  }

  get size(): number {
    return this.#byId.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  stats(): MempoolStats {
    return {
      txs: this.#general,
      claims: this.#claims,
      bytes: this.#bytes,
      gapped: this.#gapped,
      admitted: this.#admitted,
      evicted: this.#evicted,
      refused: Object.fromEntries(this.#refused),
    };
  }

  /** Queues an encoded signed transaction, checked against the committed `state`. */
  add(bytes: Uint8Array, state: LedgerState): AddResult {
    if (bytes.length > MAX_TX_BYTES) return this.#refuse('BAD_ENCODING', 'transaction too large');
    const decoded = decodeTx(bytes);
    if (decoded.kind !== 'ok')
      return this.#refuse('BAD_ENCODING', decoded.kind === 'error' ? decoded.message : 'truncated');
    const signed = decoded.value;
    const tx = signed.tx;
    const id = keyHex(txId(signed.bytes));
    if (this.#byId.has(id)) return this.#refuse('DUPLICATE', 'already queued');
    const sender = keyHex(tx.sender);
    const account = getAccount(state, sender);
    const nonce = tx.nonce;
    if (nonce <= account.nonce)
      return this.#refuse('STALE_NONCE', `nonce ${nonce} already used (account at ${account.nonce})`);
    const known = this.#senders.get(sender);
    if (known?.entries.has(nonce))
      return this.#refuse('NONCE_TAKEN', `nonce ${nonce} is already queued for this sender`);
    const max = this.#opts.maxPerSender;
    if (nonce > account.nonce + BigInt(max) || (known?.entries.size ?? 0) >= max) {
      return this.#refuse('SENDER_LIMIT', `at most ${max} queued per sender`);
    }
    // The next nonce is checked in full first (the ledger's own refusal is the clearest answer); a
    // later one passes the cheap policy checks first, so an unfunded sender's flood costs no signature
    // check.
    const next = nonce === account.nonce + 1n;
    if (next) {
      const invalid = checkAgainst(state, signed, account, true);
      if (invalid !== null) return this.#refuse('INVALID', invalid.reason, invalid.code);
    }
    const q = known ?? this.#newQueue();
    this.#refresh(q, account, state);
    const claim = next && tx.kind === 'CLAIM_GENESIS';
    const mints = tx.kind === 'CLAIM_GENESIS' || hasMint(q);
    const available = q.balance + (mints ? q.claimCredit : 0n);
    const cost = txCost(tx, state.params);
    if (available === 0n && !claim) {
      return this.#refuse('UNFUNDED', 'an account without credits may only claim its starting credits');
    }
    if (q.cost + cost > available) {
      return this.#refuse(
        'UNFUNDED',
        `this sender's queued transactions would take ${q.cost + cost} credits, its balance is ${available}`,
      );
    }
    const gapped = nonce > q.readyEnd + 1n;
    if (gapped && q.gapped >= this.#opts.maxGappedPerSender) {
      return this.#refuse(
        'GAP_LIMIT',
        `at most ${this.#opts.maxGappedPerSender} queued per sender while an earlier nonce is missing`,
      );
    }
    if (!next) {
      const invalid = checkAgainst(state, signed, account, false);
      if (invalid !== null) return this.#refuse('INVALID', invalid.reason, invalid.code);
    }
    const victims = this.#victims(sender, { gapped, fee: tx.fee }, claim, signed.bytes.length);
    if (typeof victims === 'string') {
      return this.#refuse(victims === 'gapped' ? 'GAP_LIMIT' : 'FULL', refusalReason(victims, this.#opts));
    }
    for (const v of victims) this.#evict(v);

    const entry: Entry = {
      id,
      bytes: signed.bytes,
      sender,
      nonce,
      fee: tx.fee,
      cost,
      claim,
      mints: tx.kind === 'CLAIM_GENESIS',
      seq: this.#seq++,
      addedAt: state.height,
    };
    this.#insert(q, entry);
    return { ok: true, txId: txId(signed.bytes), evicted: victims.length };
  }

  /** Queues an admitted entry in its sender's queue (`q`, new or known) and counts it. */
  #insert(q: SenderQueue, entry: Entry): void {
    this.#byId.set(entry.id, entry);
    q.entries.set(entry.nonce, entry);
    q.cost += entry.cost;
    if (entry.claim) this.#claims++;
    else {
      this.#general++;
      this.#bytes += entry.bytes.length;
    }
    this.#senders.set(entry.sender, q);
    this.#regap(q);
    this.#recent.delete(entry.id);
    this.#admitted++;
  }

  /**
   * Queued transactions for a proposer: senders in order of their oldest queued transaction, each
   * sender's transactions in nonce order.
   */
  pending(): Uint8Array[] {
    const groups = [...this.#senders.values()].map((q) =>
      [...q.entries.values()].sort((a, b) => cmpBig(a.nonce, b.nonce)),
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
   * too old, no longer applies on top of `state` (the state after the block), or is no longer covered
   * by its sender's balance.
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
    for (const [sender, q] of [...this.#senders]) {
      this.#refresh(q, getAccount(state, sender), state);
      dropped += this.#recheck(q);
    }
    // A transaction dropped from the middle of a sender's queue leaves the ones after it gapped: the
    // bound on all gapped ones holds after a commit too (the worst go first).
    while (this.#gapped > this.#opts.maxGappedTxs) {
      const v = this.#worstTail('', new Set(), true);
      if (v === undefined) break;
      this.#drop(v.entry, 'GAP_LIMIT');
      dropped++;
    }
    return { dropped };
  }

  // ---- eviction ----

  /**
   * What must go for a newcomer to fit: entries to evict, or why it cannot fit ('gapped': the bound on
   * gapped transactions; 'claims' or 'full': no victim it outranks).
   */
  #victims(
    sender: KeyHex,
    rank: Omit<Rank, 'seq'>,
    claim: boolean,
    size: number,
  ): Entry[] | 'gapped' | 'claims' | 'full' {
    const o = this.#opts;
    const out: Entry[] = [];
    const skip = new Set<Entry>();
    if (claim) {
      if (this.#claims < o.maxClaims) return out;
      const v = this.#worstClaim(sender);
      if (v === undefined || !displaces(rank, { gapped: false, fee: v.fee, seq: v.seq })) return 'claims';
      return [v];
    }
    let count = this.#general;
    let bytes = this.#bytes;
    const take = (v: Entry): void => {
      out.push(v);
      skip.add(v);
      count--;
      bytes -= v.bytes.length;
    };
    if (rank.gapped && this.#gapped >= o.maxGappedTxs) {
      const v = this.#worstTail(sender, skip, true);
      if (v === undefined || !displaces(rank, v.rank)) return 'gapped';
      take(v.entry);
    }
    while (count + 1 > o.maxTxs || bytes + size > o.maxBytes) {
      const v = this.#worstTail(sender, skip, false);
      if (v === undefined || !displaces(rank, v.rank)) return 'full';
      take(v.entry);
    }
    return out;
  }

  /** The worst highest-nonce entry of any other sender (claims aside), optionally gapped ones only. */
  #worstTail(
    except: KeyHex,
    skip: ReadonlySet<Entry>,
    gappedOnly: boolean,
  ): { entry: Entry; rank: Rank } | undefined {
    let worst: { entry: Entry; rank: Rank } | undefined;
    for (const [sender, q] of this.#senders) {
      if (sender === except) continue;
      let tail: Entry | undefined;
      for (const e of q.entries.values()) {
        if (!e.claim && !skip.has(e) && (tail === undefined || e.nonce > tail.nonce)) tail = e;
      }
      if (tail === undefined) continue;
      const rank: Rank = { gapped: tail.nonce > q.readyEnd, fee: tail.fee, seq: tail.seq };
      if (gappedOnly && !rank.gapped) continue;
      if (worst === undefined || evictsBefore(rank, worst.rank)) worst = { entry: tail, rank };
    }
    return worst;
  }

  #worstClaim(except: KeyHex): Entry | undefined {
    let worst: Entry | undefined;
    for (const e of this.#byId.values()) {
      if (!e.claim || e.sender === except) continue;
      if (worst === undefined || evictsBefore({ gapped: false, ...e }, { gapped: false, ...worst }))
        worst = e;
    }
    return worst;
  }

  #evict(e: Entry): void {
    this.#drop(e, 'EVICTED');
    this.#evicted++;
    // The sender's later transactions counted on the claim's credits.
    const q = this.#senders.get(e.sender);
    if (e.mints && q !== undefined) this.#recheck(q);
  }

  // ---- bookkeeping ----

  #newQueue(): SenderQueue {
    return {
      entries: new Map(),
      accountNonce: 0n,
      balance: 0n,
      claimCredit: 0n,
      cost: 0n,
      readyEnd: 0n,
      gapped: 0,
    };
  }

  /** Takes the committed account's figures. */
  #refresh(q: SenderQueue, account: Account, state: LedgerState): void {
    q.balance = account.balance;
    q.claimCredit = account.genesisClaimed ? 0n : state.params.startingCredits;
    if (q.accountNonce !== account.nonce) {
      q.accountNonce = account.nonce;
      this.#regap(q);
    }
  }

  #regap(q: SenderQueue): void {
    const end = readyEnd(q.entries, q.accountNonce);
    let gapped = 0;
    for (const n of q.entries.keys()) if (n > end) gapped++;
    this.#gapped += gapped - q.gapped;
    q.gapped = gapped;
    q.readyEnd = end;
  }

  /**
   * Drops, in nonce order, what the sender's balance no longer covers (UNFUNDED) and gapped entries
   * past the per-sender cap, highest first (GAP_LIMIT). Answers how many it dropped.
   */
  #recheck(q: SenderQueue): number {
    const sorted = [...q.entries.values()].sort((a, b) => cmpBig(a.nonce, b.nonce));
    const available = q.balance + (hasMint(q) ? q.claimCredit : 0n);
    let sum = 0n;
    let dropped = 0;
    for (const e of sorted) {
      sum += e.cost;
      if (sum > available || (available === 0n && !e.mints)) {
        this.#drop(e, 'UNFUNDED');
        dropped++;
      }
    }
    for (const e of sorted.reverse()) {
      if (q.gapped <= this.#opts.maxGappedPerSender) break;
      if (q.entries.get(e.nonce) === e && e.nonce > q.readyEnd) {
        this.#drop(e, 'GAP_LIMIT');
        dropped++;
      }
    }
    return dropped;
  }

  #drop(e: Entry, code: string): void {
    this.#remove(e);
    this.#remember(e.id, { status: 'dropped', code });
  }

  #remove(e: Entry): void {
    this.#byId.delete(e.id);
    if (e.claim) this.#claims--;
    else {
      this.#general--;
      this.#bytes -= e.bytes.length;
    }
    const q = this.#senders.get(e.sender);
    if (q === undefined || !q.entries.delete(e.nonce)) return;
    q.cost -= e.cost;
    if (q.entries.size === 0) {
      this.#gapped -= q.gapped;
      this.#senders.delete(e.sender);
    } else {
      this.#regap(q);
    }
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

  #refuse(code: MempoolRefusalCode, reason: string, txCode?: string): AddResult {
    this.#refused.set(code, (this.#refused.get(code) ?? 0) + 1);
    return txCode === undefined ? { ok: false, code, reason } : { ok: false, code, reason, txCode };
  }
}

function hasMint(q: SenderQueue): boolean {
  for (const e of q.entries.values()) if (e.mints) return true;
  return false;
}

function refusalReason(why: 'gapped' | 'claims' | 'full', o: MempoolOptions): string {
  switch (why) {
    case 'gapped':
      return `${o.maxGappedTxs} queued transactions already wait for earlier nonces, none with a lower fee`;
    case 'claims':
      return `${o.maxClaims} claims already queued, none with a lower fee`;
    case 'full':
      return 'the mempool is full of transactions paying at least this fee: raise the fee or retry later';
  }
}

/**
 * Null when the transaction may wait in the pool; `full`: its nonce is next, so it must apply now.
 * A claim anywhere carries its proof-of-work, checked here too (one hash).
 */
function checkAgainst(
  state: LedgerState,
  signed: SignedTx,
  account: Account,
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
  const tx = signed.tx;
  if (tx.fee < state.params.minFee)
    return { code: 'FEE_TOO_LOW', reason: `fee below ${state.params.minFee}` };
  if (tx.kind === 'CLAIM_GENESIS') {
    if (account.genesisClaimed)
      return { code: 'GENESIS_ALREADY_CLAIMED', reason: 'starting credits already claimed' };
    if (!verifyPow(tx.sender, tx.powNonce, state.params.powDifficulty))
      return {
        code: 'INSUFFICIENT_POW',
        reason: `proof-of-work below difficulty ${state.params.powDifficulty}`,
      };
  }
  return null;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
