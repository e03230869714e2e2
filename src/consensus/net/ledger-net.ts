// `/anonnet/ledger/1.0.0`: how validators and followers exchange consensus messages, transactions,
// committed blocks and sync requests. Each peer pair uses two one-way streams: each side opens one
// stream to send on (when libp2p's topology reports that the peer speaks the protocol) and reads the
// stream the other side opened. No tie-breaking is needed and a half-dead pair heals when either side
// reconnects. Payloads are opaque here (src/wire/consensus-msg.ts); what to forward is the caller's call.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { type FrameLimits, FrameReader, FrameSender } from './frame-link.ts';

export const LEDGER_PROTOCOL = '/anonnet/ledger/1.0.0';

export const defaultFrameLimits: FrameLimits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxQueuedBytes: 32 * 1024 * 1024,
};

export interface LedgerNetOptions {
  readonly limits?: FrameLimits;
  /** Inbound ledger streams accepted per connection. */
  readonly maxInboundStreams?: number;
}

export type MessageHandler = (from: string, payload: Uint8Array) => void;

export class LedgerNet {
  readonly #host: Libp2p;
  readonly #limits: FrameLimits;
  readonly #maxInbound: number;
  readonly #senders = new Map<string, FrameSender>();
  readonly #opening = new Set<string>();
  #topologyId: string | undefined;
  #stopped = false;
  onMessage: MessageHandler = () => {};
  /** A peer's send stream has opened (a good moment to tell it our height). */
  onPeer: (peer: string) => void = () => {};
  /** Why inbound bytes were refused (for debug logs; never includes payloads). */
  onRefused: (peer: string, reason: string) => void = () => {};

  constructor(host: Libp2p, opts: LedgerNetOptions = {}) {
    this.#host = host;
    this.#limits = opts.limits ?? defaultFrameLimits;
    this.#maxInbound = opts.maxInboundStreams ?? 4;
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
        onDisconnect: (peerId) => this.#dropSender(peerId.toString()),
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

  #dropSender(key: string): void {
    const s = this.#senders.get(key);
    this.#senders.delete(key);
    s?.close();
  }

  #read(stream: Stream, peer: string): void {
    const reader = new FrameReader(this.#limits.maxFrameBytes);
    stream.addEventListener('message', (evt) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(evt.data.subarray());
      } catch (err) {
        this.onRefused(peer, (err as Error).message);
        stream.abort(err as Error);
        return;
      }
      for (const f of frames) {
        try {
          this.onMessage(peer, f);
        } catch (err) {
          // A handler that throws on a peer's frame closes that peer's stream, never the process.
          this.onRefused(peer, `frame handler failed: ${(err as Error).message}`);
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
