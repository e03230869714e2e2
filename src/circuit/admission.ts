// Whether a relay takes one more circuit: its slots in total, the share of one previous-hop peer and of
// one address group (ip-group.ts), and the CREATE rate of that peer and of everyone (token buckets).
// Caps are checked before rates, so a refused CREATE spends no token. A pure state machine: time is
// passed in, the caller answers a refusal with DESTROY RESOURCELIMIT and releases what it admitted.
import type { AdmissionLimits } from './admission-limits.ts';
import { TokenBucket } from './token-bucket.ts';

export type AdmissionRefusal =
  | 'CIRCUIT_LIMIT'
  | 'CIRCUIT_PEER_SHARE'
  | 'CIRCUIT_IP_SHARE'
  | 'CREATE_RATE_PEER'
  | 'CREATE_RATE_GLOBAL';

/** One admitted circuit's claim on the shares; give it back with release(). */
export interface AdmissionTicket {
  readonly peer: string;
  readonly ipGroup: string | undefined;
}

type Limits = Pick<
  AdmissionLimits,
  | 'maxCircuits'
  | 'maxCircuitsPerPeer'
  | 'maxCircuitsPerIp'
  | 'createRatePerPeer'
  | 'createBurstPerPeer'
  | 'createRateGlobal'
  | 'createBurstGlobal'
>;

export class CircuitAdmission {
  readonly #limits: Limits;
  readonly #perPeer = new Map<string, number>();
  readonly #perIp = new Map<string, number>();
  readonly #peerRates = new Map<string, TokenBucket>();
  readonly #globalRate: TokenBucket;
  #total = 0;

  constructor(limits: Limits, now: number) {
    this.#limits = limits;
    this.#globalRate = new TokenBucket(limits.createRateGlobal, limits.createBurstGlobal, now);
  }

  get total(): number {
    return this.#total;
  }

  heldByPeer(peer: string): number {
    return this.#perPeer.get(peer) ?? 0;
  }

  heldByIp(group: string): number {
    return this.#perIp.get(group) ?? 0;
  }

  /** Peers with a rate bucket in memory (pruned when full: see prune). */
  get trackedPeers(): number {
    return this.#peerRates.size;
  }

  admit(peer: string, ipGroup: string | undefined, now: number): AdmissionTicket | AdmissionRefusal {
    const l = this.#limits;
    if (this.#total >= l.maxCircuits) return 'CIRCUIT_LIMIT';
    if (ipGroup !== undefined && this.heldByIp(ipGroup) >= l.maxCircuitsPerIp) return 'CIRCUIT_IP_SHARE';
    if (this.heldByPeer(peer) >= l.maxCircuitsPerPeer) return 'CIRCUIT_PEER_SHARE';
    let bucket = this.#peerRates.get(peer);
    if (bucket === undefined) {
      bucket = new TokenBucket(l.createRatePerPeer, l.createBurstPerPeer, now);
      this.#peerRates.set(peer, bucket);
    }
    if (!bucket.has(now)) return 'CREATE_RATE_PEER';
    if (!this.#globalRate.take(now)) return 'CREATE_RATE_GLOBAL';
    bucket.take(now);
    this.#total++;
    this.#perPeer.set(peer, this.heldByPeer(peer) + 1);
    if (ipGroup !== undefined) this.#perIp.set(ipGroup, this.heldByIp(ipGroup) + 1);
    return { peer, ipGroup };
  }

  release(t: AdmissionTicket): void {
    this.#total = Math.max(0, this.#total - 1);
    decrement(this.#perPeer, t.peer);
    if (t.ipGroup !== undefined) decrement(this.#perIp, t.ipGroup);
  }

  /** Forgets the rate buckets that are full again (a fresh one is the same): memory follows activity. */
  prune(now: number): void {
    for (const [peer, bucket] of this.#peerRates) if (bucket.full(now)) this.#peerRates.delete(peer);
  }
}

function decrement(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 0) - 1;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}

/** Refusals and expiries of the relay's circuit admission, each with what an operator can do. */
export const ADMISSION_MESSAGES = {
  CIRCUIT_LIMIT: 'refused a circuit: this relay carries its maximum of circuits (relay.limits.maxCircuits)',
  CIRCUIT_PEER_SHARE:
    'refused a circuit: one neighbour holds its share of circuit slots (relay.limits.maxCircuitsPerPeer)',
  CIRCUIT_IP_SHARE:
    'refused a circuit: the neighbours at one address hold their share of circuit slots (relay.limits.maxCircuitsPerIp)',
  CREATE_RATE_PEER:
    'refused a CREATE: a neighbour creates circuits faster than its rate (relay.limits.createRatePerPeer)',
  CREATE_RATE_GLOBAL:
    "refused a CREATE: circuits are created faster than this relay's rate (relay.limits.createRateGlobal)",
  HANDSHAKE_QUEUE_PEER:
    'refused a CREATE: one neighbour has its share of the handshake queue waiting (relay.limits.handshakeQueuePerPeer)',
  HANDSHAKE_QUEUE_FULL:
    'refused a CREATE: the handshake queue is full and the neighbour holding the most gave way (relay.limits.handshakeQueueMax)',
  HANDSHAKE_QUEUE_DELAY:
    'refused a CREATE that waited longer than relay.limits.maxQueueDelayMs for its handshake: this relay is short of CPU',
  CIRCUIT_UNUSED:
    'closed a circuit that carried no cell after CREATED (relay.limits.unusedCircuitTimeoutMs): a client that takes slots it does not use, or an old client',
  CIRCUIT_IDLE: 'closed a circuit that carried no cell for relay.limits.idleCircuitTimeoutMs',
} as const;

export type AdmissionCode = keyof typeof ADMISSION_MESSAGES;
