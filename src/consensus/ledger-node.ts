// The ledger as one daemon runs it: the pure engine, the ledger's state machine, the block store, the
// mempool and the network (`/anonnet/ledger/1.0.0`), with the timers the pure parts leave out.
//
// Every node runs the engine; it votes only at heights where its key is a validator, so a follower
// tracks the chain by the same rules. Committed blocks also spread as COMMITTED messages, and a node
// that hears (STATUS, or a message from a later height) that it may be behind asks one peer at a time
// for the missing blocks (SYNC_REQUEST), verifying every commit before applying its block.
//
// Catching up is sync; the block interval is consensus. After a commit by the engine or a peer's
// verified COMMITTED the next height starts one block interval later (a governed parameter); only a
// block applied from a sync answer (a real commit we were missing) starts the next height at once.
// Heights a peer claims are never trusted: they only choose whom to ask (height-claims.ts), expire,
// go with the peer, and a claim that does not deliver gets its peer ignored for a while.
//
// What peers send is bounded before it costs much (hardening issue, classes 2-4): the link's per-peer
// frame budget (net/ledger-net.ts), a size per message type checked from the first byte, proposals and
// votes verified before they reach the engine or are relayed (relay-guard.ts), transactions admitted
// by the mempool's policy (mempool.ts), SYNC_REQUEST answers under per-peer and total token buckets,
// SYNC_RESPONSE taken only from the peer asked. Each refusal leaves one rate-limited line (RefusalLog).
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
import { RefusalLog } from '../log/refusals.ts';
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
  consensusMessageKind,
  decodeConsensusMessage,
  encodeConsensusMessage,
  encodeSyncResponse,
  MAX_SYNC_BLOCKS,
  maxConsensusMessageBytes,
} from '../wire/consensus-msg.ts';
import { ConsensusEngine, type ConsensusTimeouts, type EngineInput, type EngineOutput } from './engine.ts';
import { HeightClaims } from './height-claims.ts';
import { type LedgerLimits, type LedgerLimitsInput, ledgerLimits } from './ledger-limits.ts';
import { type AddResult, Mempool, type MempoolStats, type TxStatus } from './mempool.ts';
import type { LedgerNet } from './net/ledger-net.ts';
import { SharedBuckets } from './net/token-bucket.ts';
import { isOwnMessage, ownMessageHeight, restoredLock } from './own-messages.ts';
import { type ConsensusItem, RelayGuard } from './relay-guard.ts';
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
  /** Bounds on what peers can make this node hold and do (defaults: ledger-limits.ts). */
  readonly limits?: LedgerLimitsInput;
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
  /** What the hardening bounds did since start (for operators, tests and the attack benchmark). */
  readonly guard: LedgerGuardStats;
}

export interface LedgerGuardStats {
  readonly mempool: MempoolStats;
  /** RefusalLog counts by code. */
  readonly refusals: Readonly<Record<string, number>>;
  /** Proposals and votes relayed after they verified. */
  readonly relayed: number;
  /** Frames dropped unread for being over their peer's budget. */
  readonly droppedFrames: number;
  /** Peers with an unexpired height claim above our height, and the highest such claim (0: none). */
  readonly heightClaims: number;
  readonly highestClaim: number;
  readonly syncAnswers: number;
}

const SEEN_LIMIT = 20_000;
const STATUS_EVERY_MS = 2_000;
const SYNC_TIMEOUT_MS = 5_000;
const MAX_PENDING_EVIDENCE = 64;

export class LedgerNode {
  readonly #opts: LedgerNodeOptions;
  readonly #log: Logger;
  readonly #net: LedgerNet;
  readonly #store: BlockStore;
  readonly #limits: LedgerLimits;
  readonly #mempool: Mempool;
  readonly #sigCache = new VerifiedSignatures();
  readonly #engine: ConsensusEngine;
  readonly #refusals: RefusalLog;
  readonly #claims: HeightClaims;
  readonly #relay: RelayGuard;
  readonly #syncAnswers: SharedBuckets;
  readonly #syncBytes: SharedBuckets;
  #syncAnswered = 0;
  readonly #now: () => number;
  readonly #self: string;
  #state: LedgerState;
  #tipTimeMs = 0;
  readonly #seen = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #intervals: ReturnType<typeof setInterval>[] = [];
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
    this.#limits = ledgerLimits(opts.limits);
    this.#mempool = new Mempool(this.#limits.mempool);
    this.#refusals = new RefusalLog(opts.log, undefined, this.#now);
    this.#claims = new HeightClaims(this.#limits.heights, this.#now);
    const sync = this.#limits.sync;
    this.#syncAnswers = new SharedBuckets(
      { perPeer: sync.answersPerSecond, total: sync.totalAnswersPerSecond, burstSeconds: sync.burstSeconds },
      this.#now,
    );
    this.#syncBytes = new SharedBuckets(
      {
        perPeer: sync.bytesPerSecond,
        total: sync.totalBytesPerSecond,
        burstSeconds: sync.burstSeconds,
        minCapacity: sync.maxAnswerBytes,
      },
      this.#now,
    );
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
    this.#relay = new RelayGuard(this.#limits.relay, opts.genesis.chainId, this.#sigCache, (h) =>
      validatorsForHeight(this.#state, h),
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
    this.#net.onPeerGone = (peer) => this.#peerGone(peer);
    this.#net.onRefused = (_peer, code, reason) =>
      this.#refusals.refuse(code, refusalMessage(code), { reason });
    this.#intervals.push(
      setInterval(() => {
        this.#broadcast({ kind: 'STATUS', height: this.#state.height });
        // A sync request that went unanswered is noticed here even when no new claim arrives.
        this.#maybeSync();
      }, STATUS_EVERY_MS),
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
      guard: {
        mempool: this.#mempool.stats(),
        refusals: Object.fromEntries(this.#refusals.counts),
        relayed: this.#relay.relayed,
        droppedFrames: this.#net.droppedFrames,
        heightClaims: this.#claims.size,
        highestClaim: this.#claims.highest(),
        syncAnswers: this.#syncAnswered,
      },
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

  /**
   * Into the mempool and on to every peer but `from`; `bytes` is the TX message, already marked seen.
   * A transaction the mempool evicted to make room is forwarded by nobody: it simply leaves this pool.
   */
  #admit(tx: Uint8Array, bytes: Uint8Array, from?: string): AddResult {
    const r = this.#mempool.add(tx, this.#state);
    if (r.ok) {
      this.#net.broadcast(bytes, from);
      if (r.evicted > 0)
        this.#refusals.refuse('MEMPOOL_EVICTED', 'mempool full: lower-ranked transactions evicted', {
          evicted: r.evicted,
        });
    } else if (from !== undefined && POLICY_REFUSALS.has(r.code)) {
      this.#refusals.refuse(`MEMPOOL_${r.code}`, mempoolMessage(r.code), { reason: r.reason });
    }
    return r;
  }

  txStatus(id: Uint8Array): TxStatus {
    return this.#mempool.status(id);
  }

  // ---- network input ----

  #onMessage(from: string, bytes: Uint8Array): void {
    if (this.#stopped) return;
    // From the first byte, before decoding: a size no message of that type can have, and answers
    // nobody asked for, are refused without reading further.
    const kind = consensusMessageKind(bytes);
    if (kind !== undefined && bytes.length > maxConsensusMessageBytes(kind)) {
      this.counters.badMessages++;
      this.#refusals.refuse('LEDGER_OVERSIZE', 'a ledger message larger than its type allows was dropped', {
        kind,
        bytes: bytes.length,
      });
      return;
    }
    if (kind === 'SYNC_RESPONSE' && this.#syncing?.peer !== from) {
      this.#refusals.refuse('SYNC_UNSOLICITED', 'a sync answer nobody asked for was dropped');
      return;
    }
    const d = decodeConsensusMessage(bytes);
    if (d.kind !== 'ok') {
      this.counters.badMessages++;
      this.#refusals.refuse('LEDGER_BAD_MESSAGE', 'an undecodable ledger message was dropped', {
        code: d.kind === 'error' ? d.code : 'TRUNCATED',
      });
      return;
    }
    const m = d.value;
    switch (m.kind) {
      case 'PROPOSAL':
      case 'VOTE':
        this.#onConsensus(from, bytes, m);
        return;
      case 'TX':
        if (this.#markSeen(bytes)) this.#admit(m.tx, bytes, from);
        return;
      case 'COMMITTED': {
        if (!this.#markSeen(bytes)) return;
        const h = m.block.header.height;
        if (h > this.#state.height + 1) this.#claim(from, h);
        else if (this.#applyCommitted(m.block, m.commit, 'peer')) this.#net.broadcast(bytes, from);
        return;
      }
      case 'STATUS':
        this.#claim(from, m.height);
        return;
      case 'SYNC_REQUEST':
        this.#answerSync(from, m.fromHeight, m.maxBlocks);
        return;
      case 'SYNC_RESPONSE':
        this.#onSyncResponse(from, m.blocks);
        return;
    }
  }

  /**
   * A proposal or vote: for the next two heights it is verified (relay-guard.ts) before the engine
   * sees it and before it is relayed; an earlier height is dropped (the engine would refuse it); a
   * later one is not checked at all and only hints that we may be behind (a sync request, nothing else).
   */
  #onConsensus(from: string, bytes: Uint8Array, m: ConsensusItem): void {
    const h = m.kind === 'PROPOSAL' ? m.proposal.height : m.vote.height;
    const tip = this.#state.height;
    if (h <= tip) return;
    if (h > tip + 2) {
      this.#claim(from, h - 1);
      return;
    }
    if (!this.#markSeen(bytes)) return;
    const bad = this.#relay.check(m);
    if (bad !== null) {
      this.counters.badMessages++;
      this.#refusals.refuse(
        'LEDGER_BAD_CONSENSUS',
        'a proposal or vote that does not verify was dropped, not relayed',
        { reason: bad },
      );
      return;
    }
    if (h === tip + 2) this.#claim(from, h - 1);
    if (this.#relay.shouldRelay(m, this.#engine.height, this.#engine.round)) this.#net.broadcast(bytes, from);
    this.#feed(
      m.kind === 'PROPOSAL' ? { kind: 'proposal', proposal: m.proposal } : { kind: 'vote', vote: m.vote },
    );
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
        this.#refusals.refuse(
          'LEDGER_BAD_COMMIT',
          'a committed block whose commit does not verify was refused',
          {
            height: h,
            reason: bad,
            source,
          },
        );
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
    this.#relay.onCommit(h);
    this.#claims.prune(h);
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
    // The interval is consensus: no claim of any peer shortens it. A block from a sync answer is one
    // the network committed long ago (its commit verified), so its successor may start at once.
    this.#startNextHeight(source === 'sync' ? 0 : Number(this.#state.params.blockIntervalMs));
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

  /** `peer` says it has `height` (unverified): remembered only to choose whom to ask for blocks. */
  #claim(peer: string, height: number): void {
    if (height <= this.#state.height) return;
    this.#claims.note(peer, height);
    this.#maybeSync();
  }

  #peerGone(peer: string): void {
    this.#claims.forget(peer);
    this.#syncAnswers.forget(peer);
    this.#syncBytes.forget(peer);
    if (this.#syncing?.peer === peer) {
      this.#syncing = undefined;
      this.#maybeSync();
    }
  }

  /** One sync request at a time, to the best peer claiming more than we have (height-claims.ts). */
  #maybeSync(): void {
    if (this.#stopped) return;
    const now = this.#now();
    if (this.#syncing !== undefined) {
      if (this.#syncing.until > now) return;
      this.#claimFailed(this.#syncing.peer, 'no sync answer in time');
      this.#syncing = undefined;
    }
    const peer = this.#claims.pick(this.#state.height);
    if (peer === undefined) return;
    const sent = this.#net.send(
      peer,
      encodeConsensusMessage({
        kind: 'SYNC_REQUEST',
        fromHeight: this.#state.height + 1,
        maxBlocks: MAX_SYNC_BLOCKS,
      }),
    );
    if (sent) this.#syncing = { peer, until: now + SYNC_TIMEOUT_MS };
    else this.#claims.forget(peer);
  }

  #claimFailed(peer: string, why: string): void {
    this.#claims.failed(peer);
    this.#refusals.refuse(
      'HEIGHT_CLAIM_FAILED',
      'a peer claimed blocks it did not deliver: its height claims are ignored for a while',
      { reason: why },
    );
  }

  /** Up to maxBlocks stored blocks from fromHeight, as stored (no decode, no re-encode), within budget. */
  #answerSync(peer: string, fromHeight: number, maxBlocks: number): void {
    const limits = this.#limits.sync;
    if (!this.#syncAnswers.take(peer, 1) || !this.#syncBytes.take(peer, 0)) {
      this.#refusals.refuse(
        'SYNC_LIMIT',
        'sync requests over their per-peer or total budget went unanswered',
      );
      return;
    }
    const parts =
      fromHeight > this.#state.height
        ? []
        : this.#store.range(fromHeight, Math.min(maxBlocks, MAX_SYNC_BLOCKS), limits.maxAnswerBytes);
    let bytes: Uint8Array;
    try {
      bytes = encodeSyncResponse(parts);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not build a sync answer');
      return;
    }
    this.#syncBytes.take(peer, bytes.length);
    this.#syncAnswered++;
    this.#net.send(peer, bytes);
  }

  #onSyncResponse(peer: string, blocks: readonly CommittedBlock[]): void {
    // Only the peer asked gets here (#onMessage drops other answers before decoding them).
    this.#syncing = undefined;
    let applied = 0;
    for (const { block, commit } of blocks) {
      if (block.header.height <= this.#state.height) continue;
      if (!this.#applyCommitted(block, commit, 'sync')) break;
      applied++;
    }
    if (applied > 0) this.#claims.delivered(peer);
    else if (this.#claims.height(peer) > this.#state.height)
      this.#claimFailed(peer, 'sync answer applied nothing');
    // More to fetch (from this peer or another): ask again at once.
    this.#maybeSync();
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

/** Mempool refusals that a peer's flood causes (the routine ones, stale or duplicate, are not logged). */
const POLICY_REFUSALS: ReadonlySet<string> = new Set(['UNFUNDED', 'GAP_LIMIT', 'SENDER_LIMIT', 'FULL']);

function mempoolMessage(code: string): string {
  switch (code) {
    case 'UNFUNDED':
      return 'transactions from senders whose balance does not cover them were refused';
    case 'GAP_LIMIT':
      return 'transactions waiting for a missing earlier nonce were refused (over the limit)';
    case 'SENDER_LIMIT':
      return 'transactions over the per-sender limit were refused';
    default:
      return 'mempool full: transactions ranking no higher than those queued were refused';
  }
}

function refusalMessage(code: string): string {
  switch (code) {
    case 'LEDGER_PEER_RATE':
      return 'a ledger peer sent more than its share: frames dropped unread';
    case 'LEDGER_FRAMING':
      return 'a ledger peer sent a frame over the size limit: its stream was closed';
    default:
      return 'a ledger message handler failed: that peer stream was closed';
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
