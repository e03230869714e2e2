// Keeps the node connected to at least `minPeers` of the peers the layers above know (relays of the
// view, bootstrap peers): when below, it dials candidates a few at a time. Only those count: a crowd
// of unknown identities connected to us (an attacker's) must not make the keeper think it has peers.
// Connections accepted are bounded elsewhere (connection-limits.ts).
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../log/logger.ts';

export interface DialCandidate {
  readonly peerId: string;
  readonly addresses: readonly Multiaddr[];
}

/** The two things the keeper needs of the libp2p host (a `Host` is one). */
export interface KeeperHost {
  getConnections(): readonly { readonly remotePeer: { toString(): string } }[];
  dial(addresses: Multiaddr[], options: { signal: AbortSignal }): Promise<unknown>;
}

export interface PeerKeeperInit {
  readonly host: KeeperHost;
  readonly minPeers: number;
  readonly candidates: () => DialCandidate[];
  readonly log: Logger;
  readonly intervalMs?: number;
}

const DIALS_PER_ROUND = 4;
const DIAL_TIMEOUT_MS = 5_000;

export class PeerKeeper {
  readonly #init: PeerKeeperInit;
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(init: PeerKeeperInit) {
    this.#init = init;
  }

  start(): void {
    void this.round();
    this.#timer = setInterval(() => void this.round(), this.#init.intervalMs ?? 5_000);
    this.#timer.unref();
  }

  stop(): void {
    this.#stop.abort();
    clearInterval(this.#timer);
  }

  async round(): Promise<void> {
    if (this.#busy || this.#stop.signal.aborted) return;
    const { host } = this.#init;
    const connected = new Set(host.getConnections().map((c) => c.remotePeer.toString()));
    const candidates = this.#init.candidates();
    const kept = new Set(candidates.filter((c) => connected.has(c.peerId)).map((c) => c.peerId)).size;
    const missing = this.#init.minPeers - kept;
    if (missing <= 0) return;
    this.#busy = true;
    try {
      const pool = candidates.filter((c) => !connected.has(c.peerId) && c.addresses.length > 0);
      // Random order: every node dialling the same "first" relays would make them hot spots.
      for (let i = pool.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      const batch = pool.slice(0, Math.min(missing, DIALS_PER_ROUND));
      await Promise.allSettled(
        batch.map((c) =>
          host.dial([...c.addresses], {
            signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]),
          }),
        ),
      );
    } catch (err) {
      this.#init.log.debug({ err: (err as Error).message }, 'peer keeper round failed');
    } finally {
      this.#busy = false;
    }
  }
}
