// `/anonnet/ledger/1.0.0`: how validators and followers exchange consensus messages, transactions,
// committed blocks and sync requests. Each peer pair uses two one-way streams: each side opens one
// stream to send on (when libp2p's topology reports that the peer speaks the protocol) and reads the
// stream the other side opened. No tie-breaking is needed and a half-dead pair heals when either side
// reconnects. Payloads are opaque here (src/wire/consensus-msg.ts); what to forward is the caller's call.
//
// Every peer's inbound frames pass two token buckets, frames and bytes (token-bucket.ts): each peer's
// rate is its share of a total, min(perPeer, total / peers), so no peer (nor many) can take all the
// work of reading, decoding and verifying. A frame over its peer's budget is dropped unread (the
// senders re-gossip what matters) and reported through onRefused.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { FRAME_HEADER_BYTES, type FrameLimits, FrameReader, FrameSender } from './frame-link.ts';
import { SharedBuckets } from './token-bucket.ts';

export const LEDGER_PROTOCOL = '/anonnet/ledger/1.0.0';

export const defaultFrameLimits: FrameLimits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxQueuedBytes: 32 * 1024 * 1024,
};

/** What one ledger peer may send us, and all of them together (per second). */
export interface LedgerPeerLimits {
  readonly framesPerSecond: number;
  readonly bytesPerSecond: number;
  readonly totalFramesPerSecond: number;
  readonly totalBytesPerSecond: number;
  /** A peer's buckets hold this many seconds of its rate (its burst). */
  readonly burstSeconds: number;
}

/**
 * Far above what honest peers send (a validator of 21 floods a few hundred votes per block; the ledger
 * benchmark's 2000 transfers arrive in bursts of about a thousand frames per second), far below what
 * one process can verify if every frame were a signature check of a hostile peer's choosing.
 */
export const defaultLedgerPeerLimits: LedgerPeerLimits = {
  framesPerSecond: 2000,
  bytesPerSecond: 16 * 1024 * 1024,
  totalFramesPerSecond: 20_000,
  totalBytesPerSecond: 64 * 1024 * 1024,
  burstSeconds: 2,
};

export interface LedgerNetOptions {
  readonly limits?: FrameLimits;
  /** Inbound ledger streams accepted per connection. */
  readonly maxInboundStreams?: number;
  readonly peerLimits?: Partial<LedgerPeerLimits>;
  readonly now?: () => number;
}

export type MessageHandler = (from: string, payload: Uint8Array) => void;

/** Stable codes of what the link refuses (RefusalLog codes). */
export type LedgerNetRefusal = 'LEDGER_PEER_RATE' | 'LEDGER_FRAMING' | 'LEDGER_HANDLER';

export class LedgerNet {
  readonly #host: Libp2p;
  readonly #limits: FrameLimits;
  readonly #maxInbound: number;
  readonly #senders = new Map<string, FrameSender>();
  readonly #opening = new Set<string>();
  readonly #frames: SharedBuckets;
  readonly #bytes: SharedBuckets;
  /** Open inbound streams per peer: a peer's budget and claims go when its last one closes. */
  readonly #inbound = new Map<string, number>();
  #topologyId: string | undefined;
  #stopped = false;
  /** Frames dropped for being over their peer's budget, since start. */
  droppedFrames = 0;
  onMessage: MessageHandler = () => {};
  /** A peer's send stream has opened (a good moment to tell it our height). */
  onPeer: (peer: string) => void = () => {};
  /** A peer disconnected: forget what it claimed. */
  onPeerGone: (peer: string) => void = () => {};
  /** Why inbound bytes were refused (never includes payloads). */
  onRefused: (peer: string, code: LedgerNetRefusal, reason: string) => void = () => {};

  constructor(host: Libp2p, opts: LedgerNetOptions = {}) {
    this.#host = host;
    this.#limits = opts.limits ?? defaultFrameLimits;
    this.#maxInbound = opts.maxInboundStreams ?? 4;
    const l = { ...defaultLedgerPeerLimits, ...opts.peerLimits };
    const now = opts.now ?? Date.now;
    this.#frames = new SharedBuckets(
      { perPeer: l.framesPerSecond, total: l.totalFramesPerSecond, burstSeconds: l.burstSeconds },
      now,
    );
    this.#bytes = new SharedBuckets(
      {
        perPeer: l.bytesPerSecond,
        total: l.totalBytesPerSecond,
        burstSeconds: l.burstSeconds,
        // One largest frame always fits a bucket (in debt, then the peer waits).
        minCapacity: this.#limits.maxFrameBytes + FRAME_HEADER_BYTES,
      },
      now,
    );
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#host.handle(
      LEDGER_PROTOCOL,
      (stream, conn) => this.#read(stream, conn.remotePeer.toString()),
      {
        maxInboundStreams: this.#maxInbound,
        runOnLimitedConnection: false,
      },
    );
    this.#topologyId = await this.#host.register(
      LEDGER_PROTOCOL,
      {
        onConnect: (peerId) => this.#openSender(peerId),
        onDisconnect: (peerId) => this.#gone(peerId.toString()),
      },
      signal ? { signal } : {},
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#topologyId !== undefined) this.#host.unregister(this.#topologyId);
    for (const s of this.#senders.values()) s.close();
    this.#senders.clear();
    await this.#host.unhandle(LEDGER_PROTOCOL).catch(() => {});
  }

  /** Peers we can send to now. */
  peers(): string[] {
    return [...this.#senders.keys()];
  }

  /** Sends to one peer; false when no open link to it. */
  send(peer: string, payload: Uint8Array): boolean {
    return this.#senders.get(peer)?.send(payload) ?? false;
  }

  /** Sends to every connected ledger peer except `except`; answers how many took it. */
  broadcast(payload: Uint8Array, except?: string): number {
    let n = 0;
    for (const [peer, s] of this.#senders) if (peer !== except && s.send(payload)) n++;
    return n;
  }

  #openSender(peerId: PeerId): void {
    const key = peerId.toString();
    if (this.#stopped || this.#senders.has(key) || this.#opening.has(key)) return;
    this.#opening.add(key);
    this.#host
      .dialProtocol(peerId, LEDGER_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      .then((stream) => {
        this.#opening.delete(key);
        if (this.#stopped) {
          stream.abort(new Error('stopped'));
          return;
        }
        const sender = new FrameSender(stream, this.#limits);
        sender.onClose = () => {
          if (this.#senders.get(key) === sender) this.#senders.delete(key);
        };
        // The stream is send-only: anything the peer writes back is ignored.
        this.#senders.set(key, sender);
        this.onPeer(key);
      })
      .catch(() => {
        this.#opening.delete(key);
      });
  }

  #gone(key: string): void {
    const s = this.#senders.get(key);
    this.#senders.delete(key);
    s?.close();
    this.#forget(key);
  }

  #forget(key: string): void {
    this.#frames.forget(key);
    this.#bytes.forget(key);
    this.onPeerGone(key);
  }

  /** True when `peer` may hand us one more frame of `size` bytes now. */
  #withinBudget(peer: string, size: number): boolean {
    return this.#frames.take(peer, 1) && this.#bytes.take(peer, size + FRAME_HEADER_BYTES);
  }

  #read(stream: Stream, peer: string): void {
    const reader = new FrameReader(this.#limits.maxFrameBytes);
    this.#inbound.set(peer, (this.#inbound.get(peer) ?? 0) + 1);
    stream.addEventListener('close', () => {
      const n = (this.#inbound.get(peer) ?? 1) - 1;
      if (n > 0) {
        this.#inbound.set(peer, n);
        return;
      }
      this.#inbound.delete(peer);
      // A peer that never spoke the protocol to libp2p's topology gets no onDisconnect: its streams
      // closing is the end of it. One we still send to goes with the topology's onDisconnect.
      if (!this.#senders.has(peer)) this.#forget(peer);
    });
    stream.addEventListener('message', (evt) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(evt.data.subarray());
      } catch (err) {
        this.onRefused(peer, 'LEDGER_FRAMING', (err as Error).message);
        stream.abort(err as Error);
        return;
      }
      for (const f of frames) {
        if (!this.#withinBudget(peer, f.length)) {
          this.droppedFrames++;
          this.onRefused(peer, 'LEDGER_PEER_RATE', `frame of ${f.length} bytes over the peer's budget`);
          continue;
        }
        try {
          this.onMessage(peer, f);
        } catch (err) {
          // A handler that throws on a peer's frame closes that peer's stream, never the process.
          this.onRefused(peer, 'LEDGER_HANDLER', `frame handler failed: ${(err as Error).message}`);
          stream.abort(err as Error);
          return;
        }
      }
    });
    // A peer that reconnected opens a new send stream; make sure we also send to it again.
    if (!this.#senders.has(peer)) {
      const conn = this.#host.getConnections().find((c) => c.remotePeer.toString() === peer);
      if (conn) this.#openSender(conn.remotePeer);
    }
  }
}
