// The ledger as one daemon runs it: the pure engine, the ledger's state machine, the block store, the
// mempool and the network (`/anonnet/ledger/1.0.0`), with the timers the pure parts leave out.
//
// Every node runs the engine; it votes only at heights where its key is a validator, so a follower
// tracks the chain by the same rules. Committed blocks also spread as COMMITTED messages, and a node
// that learns (STATUS, or a message from a later height) that it is behind asks one peer at a time for
// the missing blocks (SYNC_REQUEST), verifying every commit before applying its block. After a commit
// the next height starts one block interval later (a governed parameter), at once while catching up.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Identity } from '../crypto/identity.ts';
import { writeFileAtomic } from '../daemon/atomic-file.ts';
import { applyBlock, defaultProposeLimits, proposeBlockTxs, validateBlockForState } from '../ledger/chain.ts';
import { validatorsForHeight } from '../ledger/epochs.ts';
import type { GenesisDoc } from '../ledger/genesis.ts';
import { genesisState } from '../ledger/genesis.ts';
import { assembleBlock, selectEvidence } from '../ledger/propose.ts';
import { getAccount, type LedgerState } from '../ledger/state.ts';
import type { Logger } from '../log/logger.ts';
import {
  type Block,
  blockHash,
  type Commit,
  decodeBlock,
  decodeCommit,
  type Evidence,
  encodeBlock,
  encodeCommit,
} from '../wire/block.ts';
import {
  type CommittedBlock,
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  MAX_SYNC_BLOCKS,
} from '../wire/consensus-msg.ts';
import { ConsensusEngine, type ConsensusTimeouts, type EngineInput, type EngineOutput } from './engine.ts';
import { type AddResult, Mempool, type TxStatus } from './mempool.ts';
import type { LedgerNet } from './net/ledger-net.ts';
import { isOwnMessage, ownMessageHeight, restoredLock } from './own-messages.ts';
import { VerifiedSignatures } from './sig-cache.ts';
import { guardSigner, type LastSignState } from './sign-guard.ts';
import { type BlockStore, openBlockStore } from './store/block-store.ts';
import { verifyCommitted } from './verify.ts';

export interface LedgerNodeOptions {
  readonly genesis: GenesisDoc;
  /** sqlite file of blocks, commits and snapshots. */
  readonly storePath: string;
  /** Where the double-sign guard keeps the last (height, round, step) this key signed. */
  readonly signStatePath: string;
  readonly identity: Identity;
  /** Owned from here on: stop() stops it. */
  readonly net: LedgerNet;
  readonly log: Logger;
  readonly timeouts: ConsensusTimeouts;
  readonly now?: () => number;
}

export interface CommitEvent {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly txs: number;
  readonly timeMs: number;
  /** Seconds since the previous block's proposer time (0 for the first). */
  readonly intervalSeconds: number;
}

export interface LedgerNodeStatus {
  readonly chainId: string;
  readonly height: number;
  readonly tipHash: string;
  readonly tipTimeMs: number;
  readonly validator: boolean;
  readonly validators: readonly string[];
  readonly mempool: number;
  readonly peers: number;
  readonly round: number;
}

const SEEN_LIMIT = 20_000;
const STATUS_EVERY_MS = 2_000;
const SYNC_TIMEOUT_MS = 5_000;
const MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024;
const MAX_PENDING_EVIDENCE = 64;

export class LedgerNode {
  readonly #opts: LedgerNodeOptions;
  readonly #log: Logger;
  readonly #net: LedgerNet;
  readonly #store: BlockStore;
  readonly #mempool = new Mempool();
  readonly #sigCache = new VerifiedSignatures();
  readonly #engine: ConsensusEngine;
  readonly #now: () => number;
  readonly #self: string;
  #state: LedgerState;
  #tipTimeMs = 0;
  readonly #seen = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #intervals: ReturnType<typeof setInterval>[] = [];
  readonly #peerHeights = new Map<string, number>();
  #syncing: { peer: string; until: number } | undefined;
  #pendingEvidence: Evidence[] = [];
  #lastCommit: Commit | null = null;
  #stopped = false;
  readonly #listeners: Array<(e: CommitEvent) => void> = [];
  readonly counters = { rejects: 0, badMessages: 0, syncedBlocks: 0, committed: 0 };

  constructor(opts: LedgerNodeOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#net = opts.net;
    this.#now = opts.now ?? Date.now;
    this.#self = Buffer.from(opts.identity.publicKey).toString('hex');
    this.#store = openBlockStore(opts.storePath);
    this.#state = this.#store.loadState(genesisState(opts.genesis));
    const tip = this.#store.tip();
    if (tip !== null) {
      const commitBytes = this.#store.commit(tip.height);
      const c = commitBytes && decodeCommit(commitBytes);
      if (c?.kind === 'ok') this.#lastCommit = c.value;
      const b = this.#store.block(tip.height);
      const decoded = b && decodeBlock(b);
      if (decoded?.kind === 'ok') this.#tipTimeMs = decoded.value.header.timeMs;
    }
    const signer = guardSigner(
      { publicKey: opts.identity.publicKey, sign: (m) => opts.identity.sign(m) },
      loadSignState(opts.signStatePath),
      (s) => saveSignState(opts.signStatePath, s),
    );
    this.#engine = new ConsensusEngine(
      { chainId: opts.genesis.chainId, signer, timeouts: opts.timeouts, sigCache: this.#sigCache },
      {
        validators: (h) => validatorsForHeight(this.#state, h) ?? [],
        proposeBlock: (h) => this.#proposeBlock(h),
        validateBlock: (b) => {
          const r = validateBlockForState(this.#state, b);
          return r.ok ? r : { ok: false, reason: `${r.code}: ${r.reason}` };
        },
      },
    );
  }

  get state(): LedgerState {
    return this.#state;
  }

  get height(): number {
    return this.#state.height;
  }

  onCommit(fn: (e: CommitEvent) => void): void {
    this.#listeners.push(fn);
  }

  start(): void {
    this.#net.onMessage = (from, bytes) => this.#onMessage(from, bytes);
    this.#net.onPeer = (peer) => this.#send(peer, { kind: 'STATUS', height: this.#state.height });
    this.#intervals.push(
      setInterval(() => this.#broadcast({ kind: 'STATUS', height: this.#state.height }), STATUS_EVERY_MS),
      // Resend this height's messages so peers that lost some still reach a quorum.
      setInterval(() => {
        for (const m of this.#engine.gossip()) this.#broadcast(m);
      }, this.#opts.timeouts.proposeMs),
    );
    for (const i of this.#intervals) i.unref?.();
    this.#log.info({ height: this.#state.height }, 'ledger started');
    this.#startNextHeight(0);
  }

  stop(): void {
    this.#stopped = true;
    for (const i of this.#intervals) clearInterval(i);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#startTimer) clearTimeout(this.#startTimer);
    this.#store.close();
    // The driver owns the protocol it was given: nothing arrives after the store is closed.
    void this.#net.stop();
  }

  status(): LedgerNodeStatus {
    const next = this.#state.height + 1;
    const validators = (validatorsForHeight(this.#state, next) ?? []).map((v) =>
      Buffer.from(v).toString('hex'),
    );
    return {
      chainId: this.#state.chainId,
      height: this.#state.height,
      tipHash: Buffer.from(this.#state.lastBlockHash).toString('hex'),
      tipTimeMs: this.#tipTimeMs,
      validator: validators.includes(this.#self),
      validators,
      mempool: this.#mempool.size,
      peers: this.#net.peers().length,
      round: this.#engine.round,
    };
  }

  /** Balance and nonce, or undefined for an account the ledger has never seen. */
  account(keyHex: string): { balance: bigint; nonce: bigint } | undefined {
    if (!this.#state.accounts.has(keyHex)) return undefined;
    const a = getAccount(this.#state, keyHex);
    return { balance: a.balance, nonce: a.nonce };
  }

  /** Queues a signed transaction and spreads it; the refusal says why when it cannot apply. */
  submit(tx: Uint8Array): AddResult {
    const bytes = encodeConsensusMessage({ kind: 'TX', tx });
    this.#markSeen(bytes);
    return this.#admit(tx, bytes);
  }

  /** Into the mempool and on to every peer but `from`; `bytes` is the TX message, already marked seen. */
  #admit(tx: Uint8Array, bytes: Uint8Array, from?: string): AddResult {
    const r = this.#mempool.add(tx, this.#state);
    if (r.ok) this.#net.broadcast(bytes, from);
    return r;
  }

  txStatus(id: Uint8Array): TxStatus {
    return this.#mempool.status(id);
  }

  // ---- network input ----

  #onMessage(from: string, bytes: Uint8Array): void {
    if (this.#stopped) return;
    const d = decodeConsensusMessage(bytes);
    if (d.kind !== 'ok') {
      this.counters.badMessages++;
      this.#log.debug({ code: d.kind === 'error' ? d.code : 'TRUNCATED' }, 'ledger message refused');
      return;
    }
    const m = d.value;
    switch (m.kind) {
      case 'PROPOSAL':
      case 'VOTE': {
        const h = m.kind === 'PROPOSAL' ? m.proposal.height : m.vote.height;
        const tip = this.#state.height;
        if (h > tip + 1) this.#behind(from, h - 1);
        if (this.#markSeen(bytes) && h >= tip + 1 && h <= tip + 2) this.#net.broadcast(bytes, from);
        this.#feed(
          m.kind === 'PROPOSAL' ? { kind: 'proposal', proposal: m.proposal } : { kind: 'vote', vote: m.vote },
        );
        return;
      }
      case 'TX':
        if (this.#markSeen(bytes)) this.#admit(m.tx, bytes, from);
        return;
      case 'COMMITTED': {
        if (!this.#markSeen(bytes)) return;
        const h = m.block.header.height;
        if (h > this.#state.height + 1) this.#behind(from, h);
        else if (this.#applyCommitted(m.block, m.commit, 'peer')) this.#net.broadcast(bytes, from);
        return;
      }
      case 'STATUS':
        this.#peerHeights.set(from, m.height);
        if (m.height > this.#state.height) this.#behind(from, m.height);
        return;
      case 'SYNC_REQUEST':
        this.#answerSync(from, m.fromHeight, m.maxBlocks);
        return;
      case 'SYNC_RESPONSE':
        this.#onSyncResponse(from, m.blocks);
        return;
    }
  }

  #feed(input: EngineInput): void {
    this.#run(this.#engine.handle(input));
  }

  #run(outputs: EngineOutput[]): void {
    for (const o of outputs) {
      switch (o.kind) {
        case 'broadcast':
          if (isOwnMessage(o.message, this.#opts.identity.publicKey)) this.#broadcastOwn(o.message);
          else this.#broadcast(o.message);
          break;
        case 'schedule-timeout': {
          const t = setTimeout(() => {
            this.#timers.delete(t);
            if (!this.#stopped)
              this.#feed({ kind: 'timeout', height: o.height, round: o.round, step: o.step });
          }, o.delayMs);
          this.#timers.add(t);
          break;
        }
        case 'commit':
          if (this.#applyCommitted(o.block, o.commit, 'engine'))
            this.#broadcast({ kind: 'COMMITTED', block: o.block, commit: o.commit });
          break;
        case 'evidence':
          this.#log.warn('equivocation seen: evidence queued for the next block');
          if (this.#pendingEvidence.length < MAX_PENDING_EVIDENCE) this.#pendingEvidence.push(o.evidence);
          break;
        case 'reject':
          // Stale messages after every commit are routine: count, debug only.
          this.counters.rejects++;
          break;
      }
    }
  }

  // ---- commits and heights ----

  #applyCommitted(block: Block, commit: Commit, source: 'engine' | 'peer' | 'sync'): boolean {
    const h = block.header.height;
    if (h !== this.#state.height + 1) return false;
    const hash = blockHash(block);
    if (source !== 'engine') {
      const validators = validatorsForHeight(this.#state, h);
      const bad =
        validators === undefined
          ? 'no validator set for that height'
          : verifyCommitted(block, hash, commit, this.#state.chainId, validators, this.#sigCache);
      if (bad !== null) {
        this.#log.debug({ height: h, reason: bad }, 'committed block refused');
        return false;
      }
    }
    const r = applyBlock(this.#state, block);
    if (!r.ok) {
      // A block with a valid commit that does not apply means a bug or a broken quorum: stop here.
      this.#log.error({ height: h, code: r.code }, 'a committed block does not apply');
      return false;
    }
    this.#store.append(block, encodeBlock(block), commit, encodeCommit(commit), r.state);
    const prevTime = this.#tipTimeMs;
    this.#state = r.state;
    this.#tipTimeMs = block.header.timeMs;
    this.#lastCommit = commit;
    this.#mempool.onCommit(r.receipts.txIds, r.state);
    this.#pendingEvidence = selectEvidence(r.state, this.#pendingEvidence, MAX_PENDING_EVIDENCE);
    this.counters.committed++;
    if (source === 'sync') this.counters.syncedBlocks++;
    const event: CommitEvent = {
      height: h,
      hash,
      txs: block.txs.length,
      timeMs: block.header.timeMs,
      intervalSeconds: prevTime === 0 ? 0 : Math.max(0, (block.header.timeMs - prevTime) / 1000),
    };
    for (const fn of this.#listeners) {
      try {
        fn(event);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'commit listener failed');
      }
    }
    this.#log.debug({ height: h, txs: block.txs.length, source }, 'block committed');
    const behind = Math.max(0, ...this.#peerHeights.values()) > h;
    this.#startNextHeight(source === 'sync' || behind ? 0 : Number(this.#state.params.blockIntervalMs));
    return true;
  }

  #startNextHeight(delayMs: number): void {
    if (this.#startTimer) clearTimeout(this.#startTimer);
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      const next = this.#state.height + 1;
      if (this.#stopped || this.#engine.height >= next) return;
      // Our own messages of this height exist only if we ran it before a restart (own-messages.ts).
      const own = this.#ownMessages(next);
      const lock = restoredLock(own, next, this.#opts.identity.publicKey);
      this.#feed({ kind: 'start', height: next, lastCommit: this.#lastCommit, lock });
      for (const m of own) {
        if (m.kind === 'VOTE') this.#feed({ kind: 'vote', vote: m.vote });
        else if (m.kind === 'PROPOSAL') this.#feed({ kind: 'proposal', proposal: m.proposal });
      }
    }, delayMs);
  }

  #ownMessages(height: number): ConsensusMessage[] {
    const out: ConsensusMessage[] = [];
    for (const bytes of this.#store.ownMessages(height)) {
      const d = decodeConsensusMessage(bytes);
      if (d.kind === 'ok' && ownMessageHeight(d.value) === height) out.push(d.value);
      else if (d.kind !== 'ok') this.#log.warn('an unreadable own message in the block store: skipped');
    }
    if (out.length > 0)
      this.#log.info({ height, messages: out.length }, 'resuming a height with our own votes');
    return out;
  }

  #proposeBlock(height: number): Block {
    const { txs } = proposeBlockTxs(this.#state, this.#mempool.pending(), defaultProposeLimits);
    if (height !== this.#state.height + 1) this.#log.warn({ height }, 'asked to propose off the tip');
    return assembleBlock(this.#state, {
      txs,
      evidence: selectEvidence(this.#state, this.#pendingEvidence),
      lastCommit: this.#lastCommit,
      proposer: this.#opts.identity.publicKey,
      timeMs: this.#now(),
    });
  }

  // ---- catching up ----

  #behind(peer: string, theirHeight: number): void {
    const cur = this.#peerHeights.get(peer) ?? 0;
    if (theirHeight > cur) this.#peerHeights.set(peer, theirHeight);
    const now = this.#now();
    if (this.#syncing !== undefined && this.#syncing.until > now) return;
    this.#syncing = { peer, until: now + SYNC_TIMEOUT_MS };
    this.#send(peer, {
      kind: 'SYNC_REQUEST',
      fromHeight: this.#state.height + 1,
      maxBlocks: MAX_SYNC_BLOCKS,
    });
  }

  #answerSync(peer: string, fromHeight: number, maxBlocks: number): void {
    const blocks: CommittedBlock[] = [];
    let size = 0;
    for (const s of this.#store.range(fromHeight, Math.min(maxBlocks, MAX_SYNC_BLOCKS))) {
      size += s.block.length + s.commit.length;
      if (size > MAX_SYNC_RESPONSE_BYTES && blocks.length > 0) break;
      const b = decodeBlock(s.block);
      const c = decodeCommit(s.commit);
      if (b.kind !== 'ok' || c.kind !== 'ok') break;
      blocks.push({ block: b.value, commit: c.value });
    }
    this.#send(peer, { kind: 'SYNC_RESPONSE', blocks });
  }

  #onSyncResponse(peer: string, blocks: readonly CommittedBlock[]): void {
    if (this.#syncing?.peer === peer) this.#syncing = undefined;
    let applied = 0;
    for (const { block, commit } of blocks) {
      if (block.header.height <= this.#state.height) continue;
      if (!this.#applyCommitted(block, commit, 'sync')) break;
      applied++;
    }
    // More to fetch: ask again at once.
    if (applied > 0 && (this.#peerHeights.get(peer) ?? 0) > this.#state.height) this.#behind(peer, 0);
  }

  // ---- sending ----

  /**
   * Our proposal or vote: on disk before it leaves, so a restart neither forgets it (the double-sign
   * guard would not let us sign that slot again) nor the lock it implies. Not written, not sent.
   */
  #broadcastOwn(m: ConsensusMessage): void {
    const bytes = encodeConsensusMessage(m);
    try {
      this.#store.appendOwnMessage(ownMessageHeight(m), bytes);
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'could not log our own vote: not sent');
      return;
    }
    this.#markSeen(bytes);
    this.#net.broadcast(bytes);
  }

  #broadcast(m: ConsensusMessage): void {
    const bytes = encodeConsensusMessage(m);
    this.#markSeen(bytes);
    this.#net.broadcast(bytes);
  }

  #send(peer: string, m: ConsensusMessage): void {
    this.#net.send(peer, encodeConsensusMessage(m));
  }

  /** True the first time these bytes are seen (bounded memory: the oldest are forgotten). */
  #markSeen(bytes: Uint8Array): boolean {
    const id = createHash('sha256').update(bytes).digest('base64');
    if (this.#seen.has(id)) return false;
    this.#seen.add(id);
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}

function loadSignState(path: string): LastSignState | null {
  if (!existsSync(path)) return null;
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    height: number;
    round: number;
    step: 1 | 2 | 3;
    message: string;
    signature: string;
  };
  return {
    slot: { height: raw.height, round: raw.round, step: raw.step },
    message: new Uint8Array(Buffer.from(raw.message, 'base64')),
    signature: new Uint8Array(Buffer.from(raw.signature, 'base64')),
  };
}

function saveSignState(path: string, s: LastSignState): void {
  writeFileAtomic(
    path,
    JSON.stringify({
      ...s.slot,
      message: Buffer.from(s.message).toString('base64'),
      signature: Buffer.from(s.signature).toString('base64'),
    }),
    0o600,
  );
}
