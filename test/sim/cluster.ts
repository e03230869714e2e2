// A deterministic simulation of N validators running ConsensusEngine over a simulated clock and a
// faulty network: loss, delay (so reordering), duplication, partitions that heal, crashes and
// restarts (a restarted node keeps its chain and its double-sign state, gets a new engine at its
// next height, and catches up through STATUS / SYNC_REQUEST / SYNC_RESPONSE), and Byzantine
// validators that equivocate, withhold votes or propose invalid blocks. Every message crosses the
// wire codec. Safety is checked on every commit; liveness after the faults stop (GST).

import {
  ConsensusEngine,
  type ConsensusTimeouts,
  type EngineInput,
  type EngineOutput,
} from '../../src/consensus/engine.ts';
import { restoredLock } from '../../src/consensus/own-messages.ts';
import { VerifiedSignatures } from '../../src/consensus/sig-cache.ts';
import { guardSigner, type LastSignState } from '../../src/consensus/sign-guard.ts';
import { verifyCommitted, verifyEvidence } from '../../src/consensus/verify.ts';
import { keyHex } from '../../src/consensus/vote-set.ts';
import { type Identity, identityFromSeed } from '../../src/crypto/identity.ts';
import {
  type Block,
  blockHash,
  type Commit,
  type Proposal,
  proposalSigningBytes,
  type Vote,
  voteSigningBytes,
} from '../../src/wire/block.ts';
import { bytesEqual } from '../../src/wire/bytes.ts';
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
} from '../../src/wire/consensus-msg.ts';
import { Prng } from './prng.ts';
import { ToyChain } from './toy-chain.ts';

export type Behaviour = 'honest' | 'equivocate' | 'withhold' | 'invalid';

export interface SimConfig {
  readonly seed: number;
  readonly n: number;
  readonly byzantine: readonly Behaviour[];
  /** Faults (loss, duplication, long delays, partitions, crashes) happen before this time. */
  readonly gstMs: number;
  readonly loss: number;
  /** Extra loss of precommits before GST: rounds end with some nodes decided and others not. */
  readonly precommitLoss: number;
  /** Byzantine proposers propose fresh blocks (polRound -1), ignoring the valid block: locks matter. */
  readonly freshProposals: boolean;
  readonly duplicate: number;
  readonly maxDelayMs: number;
  readonly partitions: number;
  readonly crashes: number;
  /** After GST, every honest node must commit this many new heights ... */
  readonly livenessHeights: number;
  /** ... within this much simulated time. */
  readonly livenessBoundMs: number;
}

export const SIM_TIMEOUTS: ConsensusTimeouts = {
  proposeMs: 300,
  prevoteMs: 150,
  precommitMs: 150,
  deltaMs: 100,
};
/** The driver's pause between a commit and the next height (Tendermint's timeout_commit). */
const COMMIT_PAUSE_MS = 100;
const STATUS_EVERY_MS = 400;
const SYNC_BATCH = 8;
const CHAIN_ID = 'anonnet-sim';

type Event =
  | { kind: 'deliver'; to: number; from: number; bytes: Uint8Array }
  | { kind: 'engine'; node: number; epoch: number; input: EngineInput }
  | { kind: 'status'; node: number; epoch: number }
  | { kind: 'next-height'; node: number; epoch: number }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'partition'; groups: number[] }
  | { kind: 'heal' };

interface Queued {
  readonly at: number;
  readonly seq: number;
  readonly ev: Event;
}

/** Binary min-heap by (time, sequence): a deterministic event order. */
class EventQueue {
  readonly #h: Queued[] = [];
  #seq = 0;

  get size(): number {
    return this.#h.length;
  }

  push(at: number, ev: Event): void {
    const h = this.#h;
    h.push({ at, seq: this.#seq++, ev });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i] as Queued, h[p] as Queued)) break;
      [h[i], h[p]] = [h[p] as Queued, h[i] as Queued];
      i = p;
    }
  }

  pop(): Queued | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l] as Queued, h[m] as Queued)) m = l;
      if (r < h.length && less(h[r] as Queued, h[m] as Queued)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Queued, h[i] as Queued];
      i = m;
    }
    return top;
  }
}

function heightOf(m: ConsensusMessage): number {
  return m.kind === 'VOTE' ? m.vote.height : m.kind === 'PROPOSAL' ? m.proposal.height : 0;
}

function less(a: Queued, b: Queued): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

interface SimNode {
  readonly id: number;
  readonly key: Identity;
  readonly behaviour: Behaviour;
  readonly chain: ToyChain;
  /** The persisted double-sign state (honest nodes only). */
  signState: LastSignState | null;
  /**
   * The write-ahead log: this node's own proposals and votes for heights not yet committed. As the
   * real validator does (ledger-node.ts), they are kept before sending and, after a restart, give the
   * new engine its lock and are replayed into it, so its earlier votes still count (and are gossiped)
   * although its guard refuses to sign new ones.
   */
  wal: ConsensusMessage[];
  engine: ConsensusEngine | null;
  /** Bumped on crash: timers of a dead engine are dropped. */
  epoch: number;
}

export interface SimResult {
  readonly violations: string[];
  readonly heightAtGst: number;
  readonly finalHeights: number[];
  readonly commits: number;
  readonly evidence: number;
  readonly messages: number;
}

let keyCache: Identity[] = [];
function keys(n: number): Identity[] {
  while (keyCache.length < n) {
    const seed = new Uint8Array(32);
    seed.fill(keyCache.length + 1);
    seed[0] = 0x5e;
    keyCache = [...keyCache, identityFromSeed(seed)];
  }
  return keyCache.slice(0, n);
}

export class Simulation {
  readonly cfg: SimConfig;
  readonly rng: Prng;
  readonly nodes: SimNode[];
  readonly validators: Uint8Array[];
  readonly #q = new EventQueue();
  readonly #sigCache = new VerifiedSignatures();
  #now = 0;
  #group: number[] | null = null;
  /** The first block hash committed by an honest node at each height. */
  readonly #decided = new Map<number, Uint8Array>();
  readonly violations: string[] = [];
  /** Events handled, by kind (for debugging a seed). */
  readonly eventCounts = new Map<string, number>();
  #commits = 0;
  #evidence = 0;
  #messages = 0;

  constructor(cfg: SimConfig) {
    this.cfg = cfg;
    this.rng = new Prng(cfg.seed);
    const ids = keys(cfg.n);
    this.validators = ids.map((k) => k.publicKey);
    const ctx = { chainId: CHAIN_ID, validators: this.validators, sigCache: this.#sigCache };
    const roles = this.rng.shuffle(
      Array.from({ length: cfg.n }, (_, i) => cfg.byzantine[i] ?? ('honest' as Behaviour)),
    );
    this.nodes = ids.map((key, id) => ({
      id,
      key,
      behaviour: roles[id] as Behaviour,
      chain: new ToyChain(ctx),
      signState: null,
      wal: [],
      engine: null,
      epoch: 0,
    }));
  }

  get now(): number {
    return this.#now;
  }

  honest(): SimNode[] {
    return this.nodes.filter((n) => n.behaviour === 'honest');
  }

  // ----------------------------------------------------------------------------- scenario

  /** Plans the faults before GST from the PRNG. */
  planFaults(): void {
    const { gstMs } = this.cfg;
    for (let i = 0; i < this.cfg.partitions; i++) {
      const at = this.rng.int(0, Math.max(0, gstMs - 500));
      const len = this.rng.int(200, 2000);
      const groups = this.nodes.map(() => this.rng.int(0, 1));
      this.#q.push(at, { kind: 'partition', groups });
      this.#q.push(Math.min(at + len, gstMs), { kind: 'heal' });
    }
    const honest = this.honest();
    for (let i = 0; i < this.cfg.crashes && honest.length > 0; i++) {
      const node = this.rng.pick(honest).id;
      const at = this.rng.int(0, Math.max(0, gstMs - 300));
      this.#q.push(at, { kind: 'crash', node });
      this.#q.push(Math.min(at + this.rng.int(100, 2500), gstMs), { kind: 'restart', node });
    }
    this.#q.push(gstMs, { kind: 'heal' });
  }

  startAll(): void {
    for (const n of this.nodes) this.#boot(n);
  }

  crash(id: number): void {
    const n = this.nodes[id] as SimNode;
    n.engine = null;
    n.epoch++;
  }

  restart(id: number): void {
    const n = this.nodes[id] as SimNode;
    if (n.engine === null) this.#boot(n);
  }

  /** Runs events up to `until` (simulated ms). */
  runUntil(until: number, stop?: () => boolean): void {
    for (;;) {
      if (stop?.()) return;
      const top = this.#q.pop();
      if (top === undefined) return;
      if (top.at > until) {
        this.#q.push(top.at, top.ev);
        this.#now = until;
        return;
      }
      this.#now = top.at;
      this.#dispatch(top.ev);
      if (this.violations.length > 0) return;
    }
  }

  /** Standard run: faults until GST, then liveness. */
  run(): SimResult {
    this.planFaults();
    this.startAll();
    this.runUntil(this.cfg.gstMs);
    for (const n of this.nodes) if (n.engine === null) this.restart(n.id);
    const heightAtGst = Math.max(...this.honest().map((n) => n.chain.height));
    const target = heightAtGst + this.cfg.livenessHeights;
    const done = () => this.honest().every((n) => n.chain.height >= target);
    this.runUntil(this.cfg.gstMs + this.cfg.livenessBoundMs, done);
    if (this.violations.length === 0 && !done()) {
      this.violations.push(
        `liveness: heights ${this.honest()
          .map((n) => n.chain.height)
          .join(',')} did not reach ${target} by ${this.cfg.livenessBoundMs} ms after GST`,
      );
    }
    return {
      violations: this.violations,
      heightAtGst,
      finalHeights: this.nodes.map((n) => n.chain.height),
      commits: this.#commits,
      evidence: this.#evidence,
      messages: this.#messages,
    };
  }

  // ----------------------------------------------------------------------------- nodes

  #boot(n: SimNode): void {
    const rawSigner = { publicKey: n.key.publicKey, sign: (m: Uint8Array) => n.key.sign(m) };
    const signer =
      n.behaviour === 'honest'
        ? guardSigner(rawSigner, n.signState, (s) => {
            n.signState = s;
          })
        : rawSigner;
    const app = {
      validators: () => this.validators,
      proposeBlock: (): Block =>
        n.behaviour === 'invalid'
          ? n.chain.proposeInvalid(n.key, this.rng, this.#now)
          : n.chain.propose(n.key, this.rng, this.#now),
      validateBlock: (b: Block) => n.chain.validate(b),
    };
    n.engine = new ConsensusEngine(
      { chainId: CHAIN_ID, signer, timeouts: SIM_TIMEOUTS, sigCache: this.#sigCache },
      app,
    );
    const height = n.chain.height + 1;
    const lock = restoredLock(n.wal, height, n.key.publicKey);
    // As the real driver does (ledger-node.ts): the lock our logged precommits imply, then the log.
    this.#input(n, { kind: 'start', height, lastCommit: n.chain.lastCommit, lock });
    for (const m of n.wal) {
      if (m.kind === 'VOTE') this.#input(n, { kind: 'vote', vote: m.vote });
      else if (m.kind === 'PROPOSAL') this.#input(n, { kind: 'proposal', proposal: m.proposal });
    }
    this.#q.push(this.#now + this.rng.int(1, STATUS_EVERY_MS), {
      kind: 'status',
      node: n.id,
      epoch: n.epoch,
    });
  }

  #input(n: SimNode, input: EngineInput): void {
    if (n.engine === null) return;
    for (const o of n.engine.handle(input)) this.#output(n, o);
  }

  #output(n: SimNode, o: EngineOutput): void {
    switch (o.kind) {
      case 'broadcast':
        this.#broadcast(n, o.message);
        break;
      case 'schedule-timeout':
        this.#q.push(this.#now + o.delayMs, {
          kind: 'engine',
          node: n.id,
          epoch: n.epoch,
          input: { kind: 'timeout', height: o.height, round: o.round, step: o.step },
        });
        break;
      case 'commit':
        this.#commit(n, o.block, o.commit, 'engine');
        if (n.chain.height === o.block.header.height) {
          this.#q.push(this.#now + COMMIT_PAUSE_MS, { kind: 'next-height', node: n.id, epoch: n.epoch });
        }
        break;
      case 'evidence': {
        this.#evidence++;
        const accused = this.nodes.find((x) => bytesEqual(x.key.publicKey, o.evidence.voteA.validator));
        if (accused?.behaviour === 'honest')
          this.violations.push(`evidence against honest node ${accused.id}`);
        const bad = verifyEvidence(o.evidence, CHAIN_ID, this.validators);
        if (bad !== null) this.violations.push(`engine produced bad evidence: ${bad}`);
        break;
      }
      case 'reject':
        break;
    }
  }

  #commit(n: SimNode, block: Block, commit: Commit, via: string): void {
    const h = block.header.height;
    if (h !== n.chain.height + 1) {
      if (h <= n.chain.height && n.behaviour === 'honest') {
        const mine = n.chain.blocks[h - 1];
        if (mine !== undefined && !bytesEqual(mine.hash, blockHash(block))) {
          this.violations.push(`node ${n.id} committed a second block at height ${h} (${via})`);
        }
      }
      return;
    }
    const err = n.chain.apply(block, commit);
    if (err !== null) {
      if (n.behaviour === 'honest') this.violations.push(`node ${n.id} height ${h}: ${err}`);
      return;
    }
    this.#commits++;
    if (n.behaviour !== 'honest') return;
    const hash = blockHash(block);
    const first = this.#decided.get(h);
    if (first === undefined) this.#decided.set(h, hash);
    else if (!bytesEqual(first, hash))
      this.violations.push(`agreement broken at height ${h} (node ${n.id}, ${via})`);
  }

  // ----------------------------------------------------------------------------- network

  #broadcast(n: SimNode, m: ConsensusMessage): void {
    if (n.behaviour === 'honest' && (m.kind === 'VOTE' || m.kind === 'PROPOSAL')) {
      n.wal = n.wal.filter((x) => heightOf(x) > n.chain.height);
      n.wal.push(m);
    }
    const peers = this.nodes.filter((p) => p.id !== n.id);
    if (n.behaviour === 'withhold' && m.kind === 'VOTE') return;
    if (n.behaviour !== 'honest' && this.cfg.freshProposals && m.kind === 'PROPOSAL')
      m = this.#fresh(n, m.proposal);
    if (n.behaviour === 'equivocate' && (m.kind === 'VOTE' || m.kind === 'PROPOSAL')) {
      const shuffled = this.rng.shuffle(peers);
      const half = this.rng.int(1, Math.max(1, shuffled.length - 1)); // how many get the first copy
      const twin = this.#twin(n, m);
      for (const [i, p] of shuffled.entries()) this.#send(n.id, p.id, i < half ? m : twin);
      return;
    }
    for (const p of peers) this.#send(n.id, p.id, m);
  }

  /** A new block for the proposal's round, as if the proposer had no valid block. */
  #fresh(n: SimNode, p: Proposal): ConsensusMessage {
    const block =
      n.behaviour === 'invalid'
        ? n.chain.proposeInvalid(n.key, this.rng, this.#now)
        : n.chain.propose(n.key, this.rng, this.#now);
    const { signature: _s, ...rest } = p;
    const unsigned = { ...rest, polRound: -1, block };
    return {
      kind: 'PROPOSAL',
      proposal: { ...unsigned, signature: n.key.sign(proposalSigningBytes(unsigned)) },
    };
  }

  /** A conflicting copy of a vote or proposal, validly signed by the equivocator. */
  #twin(n: SimNode, m: ConsensusMessage): ConsensusMessage {
    if (m.kind === 'VOTE') {
      const { signature: _s, ...v } = m.vote;
      const unsigned = { ...v, blockHash: v.blockHash === null ? this.rng.bytes(32) : null };
      const vote: Vote = { ...unsigned, signature: n.key.sign(voteSigningBytes(unsigned)) };
      return { kind: 'VOTE', vote };
    }
    if (m.kind === 'PROPOSAL') {
      const { signature: _s, ...p } = m.proposal;
      const block = { ...p.block, header: { ...p.block.header, timeMs: p.block.header.timeMs + 1 } };
      const unsigned = { ...p, block };
      return {
        kind: 'PROPOSAL',
        proposal: { ...unsigned, signature: n.key.sign(proposalSigningBytes(unsigned)) },
      };
    }
    return m;
  }

  #send(from: number, to: number, m: ConsensusMessage): void {
    const bytes = encodeConsensusMessage(m);
    const faulty = this.#now < this.cfg.gstMs;
    if (faulty) {
      if (this.#group !== null && this.#group[from] !== this.#group[to]) return;
      if (this.rng.chance(this.cfg.loss)) return;
      if (m.kind === 'VOTE' && m.vote.type === 'PRECOMMIT' && this.rng.chance(this.cfg.precommitLoss)) return;
    }
    const maxDelay = faulty ? this.cfg.maxDelayMs : 40;
    const copies = faulty && this.rng.chance(this.cfg.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.#q.push(this.#now + this.rng.int(2, maxDelay), { kind: 'deliver', from, to, bytes });
    }
  }

  #dispatch(ev: Event): void {
    this.eventCounts.set(ev.kind, (this.eventCounts.get(ev.kind) ?? 0) + 1);
    switch (ev.kind) {
      case 'deliver':
        this.#deliver(ev.to, ev.from, ev.bytes);
        break;
      case 'engine': {
        const n = this.nodes[ev.node] as SimNode;
        if (n.epoch === ev.epoch) this.#input(n, ev.input);
        break;
      }
      case 'next-height': {
        const n = this.nodes[ev.node] as SimNode;
        if (n.epoch === ev.epoch) this.#startNext(n);
        break;
      }
      case 'status': {
        const n = this.nodes[ev.node] as SimNode;
        if (n.epoch !== ev.epoch || n.engine === null) break;
        for (const p of this.nodes) {
          if (p.id !== n.id) this.#send(n.id, p.id, { kind: 'STATUS', height: n.chain.height });
        }
        // Re-gossip: what was lost before GST still reaches everyone after it.
        for (const m of n.engine.gossip()) {
          if (n.behaviour === 'withhold' && m.kind === 'VOTE') continue;
          for (const p of this.nodes) if (p.id !== n.id) this.#send(n.id, p.id, m);
        }
        this.#q.push(this.#now + STATUS_EVERY_MS, ev);
        break;
      }
      case 'crash':
        this.crash(ev.node);
        break;
      case 'restart':
        this.restart(ev.node);
        break;
      case 'partition':
        this.#group = ev.groups;
        break;
      case 'heal':
        this.#group = null;
        break;
    }
  }

  #deliver(to: number, from: number, bytes: Uint8Array): void {
    const n = this.nodes[to] as SimNode;
    if (n.engine === null) return;
    this.#messages++;
    const d = decodeConsensusMessage(bytes);
    if (d.kind !== 'ok') {
      this.violations.push(`message from ${from} did not decode: ${d.kind}`);
      return;
    }
    const m = d.value;
    switch (m.kind) {
      case 'PROPOSAL':
        this.#input(n, { kind: 'proposal', proposal: m.proposal });
        break;
      case 'VOTE':
        this.#input(n, { kind: 'vote', vote: m.vote });
        break;
      case 'STATUS':
        if (m.height > n.chain.height) {
          this.#send(to, from, {
            kind: 'SYNC_REQUEST',
            fromHeight: n.chain.height + 1,
            maxBlocks: SYNC_BATCH,
          });
        }
        break;
      case 'SYNC_REQUEST': {
        const blocks = n.chain.blocks
          .slice(m.fromHeight - 1, m.fromHeight - 1 + m.maxBlocks)
          .map(({ block, commit }) => ({ block, commit }));
        if (blocks.length > 0) this.#send(to, from, { kind: 'SYNC_RESPONSE', blocks });
        break;
      }
      case 'SYNC_RESPONSE':
        this.#sync(n, m.blocks);
        break;
      case 'COMMITTED':
        this.#sync(n, [{ block: m.block, commit: m.commit }]);
        break;
      case 'TX':
        break;
    }
  }

  /** Catch-up: verified commits of the next heights are applied, then the engine restarts above them. */
  #sync(n: SimNode, blocks: readonly { block: Block; commit: Commit }[]): void {
    let applied = false;
    for (const { block, commit } of blocks) {
      if (block.header.height !== n.chain.height + 1) continue;
      const bad = verifyCommitted(block, blockHash(block), commit, CHAIN_ID, this.validators, this.#sigCache);
      if (bad !== null) {
        if (n.behaviour === 'honest') this.violations.push(`node ${n.id}: sync served a bad commit: ${bad}`);
        return;
      }
      this.#commit(n, block, commit, 'sync');
      if (this.violations.length > 0) return;
      applied = true;
    }
    if (applied) this.#startNext(n);
  }

  /** Starts the engine at the height after the chain's, unless it is already there. */
  #startNext(n: SimNode): void {
    if (n.engine === null || n.engine.height >= n.chain.height + 1) return;
    this.#input(n, { kind: 'start', height: n.chain.height + 1, lastCommit: n.chain.lastCommit });
  }

  /** Validator keys by id, for tests that look inside. */
  keyOf(id: number): string {
    return keyHex((this.nodes[id] as SimNode).key.publicKey);
  }
}
