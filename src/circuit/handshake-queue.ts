// The relay's handshake work (X25519 and ML-KEM-768 decapsulation per CREATE) on a bounded queue that
// sheds load, after Tor's cpuworker queue and MaxOnionQueueDelay:
// - each peer has its own FIFO, and peers take turns (round robin), so a peer that floods CREATEs
//   delays its own handshakes, not an honest neighbour's;
// - at most `handshakeQueuePerPeer` wait per peer and `handshakeQueueMax` in all; when the queue is
//   full, the peer holding the most gives up its newest entry (the newcomer itself when that is its
//   peer);
// - handshakes run in slices of about `handshakeSliceMs` per turn of the event loop (setImmediate),
//   so relayed cells are read and forwarded between slices;
// - an entry that waited longer than `maxQueueDelayMs` is shed without its handshake: by then the
//   client's build is late anyway, and the CPU is better spent on fresh work.
// A shed entry's job answers DESTROY RESOURCELIMIT. Time and scheduling are injected for tests.
import type { AdmissionLimits } from './admission-limits.ts';

export type ShedReason = 'HANDSHAKE_QUEUE_FULL' | 'HANDSHAKE_QUEUE_PEER' | 'HANDSHAKE_QUEUE_DELAY';

export interface HandshakeJob {
  /** Whose share the job counts against (the previous hop's peer id). */
  readonly peer: string;
  /** Does the handshake and answers the CREATE. Must not throw (a throw goes to onJobError). */
  run(): void;
  /** Refused without its handshake (the job answers DESTROY RESOURCELIMIT). */
  shed(reason: ShedReason): void;
}

/** A queued job, to cancel when its circuit goes away first. */
export interface QueuedHandshake {
  readonly job: HandshakeJob;
  readonly at: number;
  done: boolean;
}

export interface QueueClock {
  now(): number;
  /** Runs `fn` on a later turn of the event loop. */
  defer(fn: () => void): void;
}

export const eventLoopClock: QueueClock = {
  now: () => performance.now(),
  defer: (fn) => {
    setImmediate(fn);
  },
};

type Limits = Pick<
  AdmissionLimits,
  'handshakeQueueMax' | 'handshakeQueuePerPeer' | 'maxQueueDelayMs' | 'handshakeSliceMs'
>;

export class HandshakeQueueStats {
  ran = 0;
  /** Refused at submit (the peer's share or a full queue against the newcomer). */
  refused = 0;
  /** Queued, then given up for a newcomer of a lighter peer. */
  shedFull = 0;
  shedDelay = 0;
  /** The longest wait of a handshake that ran, in ms. */
  maxWaitMs = 0;
}

export class HandshakeQueue {
  readonly #limits: Limits;
  readonly #clock: QueueClock;
  readonly #onJobError: (err: unknown) => void;
  /** Insertion order is the round-robin order: a peer served goes to the back. */
  readonly #byPeer = new Map<string, QueuedHandshake[]>();
  #size = 0;
  #scheduled = false;
  readonly stats = new HandshakeQueueStats();

  constructor(
    limits: Limits,
    clock: QueueClock = eventLoopClock,
    onJobError: (err: unknown) => void = () => {},
  ) {
    this.#limits = limits;
    this.#clock = clock;
    this.#onJobError = onJobError;
  }

  get size(): number {
    return this.#size;
  }

  queuedBy(peer: string): number {
    return this.#byPeer.get(peer)?.length ?? 0;
  }

  /** Queues `job`; undefined when it was refused at once (its shed() has been called). */
  submit(job: HandshakeJob): QueuedHandshake | undefined {
    const l = this.#limits;
    const mine = this.queuedBy(job.peer);
    if (mine >= l.handshakeQueuePerPeer) return this.#refuse(job, 'HANDSHAKE_QUEUE_PEER');
    if (this.#size >= l.handshakeQueueMax) {
      // The peer holding the most gives up its newest; ties go against the newcomer.
      let heaviest: QueuedHandshake[] | undefined;
      let most = mine + 1;
      for (const q of this.#byPeer.values()) {
        if (q.length > most) {
          most = q.length;
          heaviest = q;
        }
      }
      const victim = heaviest?.pop();
      if (victim === undefined) return this.#refuse(job, 'HANDSHAKE_QUEUE_FULL');
      this.#size--;
      if (heaviest!.length === 0) this.#byPeer.delete(victim.job.peer);
      victim.done = true;
      this.stats.shedFull++;
      victim.job.shed('HANDSHAKE_QUEUE_FULL');
    }
    const entry: QueuedHandshake = { job, at: this.#clock.now(), done: false };
    const q = this.#byPeer.get(job.peer);
    if (q === undefined) this.#byPeer.set(job.peer, [entry]);
    else q.push(entry);
    this.#size++;
    this.#schedule();
    return entry;
  }

  /** Takes a job out without running or shedding it (its circuit went away). */
  cancel(entry: QueuedHandshake): void {
    if (entry.done) return;
    entry.done = true;
    const q = this.#byPeer.get(entry.job.peer);
    const i = q?.indexOf(entry) ?? -1;
    if (q === undefined || i < 0) return;
    q.splice(i, 1);
    this.#size--;
    if (q.length === 0) this.#byPeer.delete(entry.job.peer);
  }

  /** Drops every queued job without running or shedding it (the relay stops). */
  clear(): void {
    for (const q of this.#byPeer.values()) for (const e of q) e.done = true;
    this.#byPeer.clear();
    this.#size = 0;
  }

  #refuse(job: HandshakeJob, reason: ShedReason): undefined {
    this.stats.refused++;
    job.shed(reason);
    return undefined;
  }

  #schedule(): void {
    if (this.#scheduled || this.#size === 0) return;
    this.#scheduled = true;
    this.#clock.defer(() => this.#drain());
  }

  /** One slice: round robin over the peers until the slice's time is spent or the queue is empty. */
  #drain(): void {
    this.#scheduled = false;
    const start = this.#clock.now();
    while (this.#size > 0) {
      const first = this.#byPeer.entries().next().value;
      if (first === undefined) break;
      const [peer, q] = first;
      const entry = q.shift()!;
      this.#size--;
      this.#byPeer.delete(peer);
      if (q.length > 0) this.#byPeer.set(peer, q);
      entry.done = true;
      const now = this.#clock.now();
      const waited = now - entry.at;
      if (waited > this.#limits.maxQueueDelayMs) {
        this.stats.shedDelay++;
        entry.job.shed('HANDSHAKE_QUEUE_DELAY');
        continue;
      }
      this.stats.ran++;
      if (waited > this.stats.maxWaitMs) this.stats.maxWaitMs = waited;
      try {
        entry.job.run();
      } catch (err) {
        this.#onJobError(err);
      }
      if (this.#clock.now() - start >= this.#limits.handshakeSliceMs) break;
    }
    this.#schedule();
  }
}
