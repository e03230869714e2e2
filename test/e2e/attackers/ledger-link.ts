// The attacker's side of `/anonnet/ledger/1.0.0`, written by hand as an attacker would from
// docs/protocol.md: `length u32 | envelope` frames on a stream the attacker opens, and (to hear what a
// victim sends and relays) a handler for the streams victims open to it. The envelopes themselves come
// from the project's pure codecs (src/wire/), as a real attacker would use them to sign transactions.
import type { Libp2p, Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { openProtocol } from './attacker-host.ts';

export const LEDGER_PROTOCOL = '/anonnet/ledger/1.0.0';

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Dials `address` (three tries: a loaded victim may be slow to finish the handshake). */
export async function dialRetrying(host: Libp2p, address: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await host.dial(multiaddr(address), { signal: AbortSignal.timeout(20_000) });
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/** Splits a byte stream into frame payloads. */
export class Frames {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: Uint8Array[] = [];
    while (this.#buf.length >= 4) {
      const len = this.#buf.readUInt32BE(0);
      if (this.#buf.length < 4 + len) break;
      out.push(new Uint8Array(this.#buf.subarray(4, 4 + len)));
      this.#buf = this.#buf.subarray(4 + len);
    }
    return out;
  }
}

export interface LedgerLink {
  readonly stream: Stream;
  /** Payload bytes sent so far (frame headers included). */
  readonly sent: () => number;
  /** Sends one frame, waiting while the stream's buffer is full. */
  send(payload: Uint8Array): Promise<void>;
  /** Waits (up to `ms`) until everything sent has left this process. */
  flush(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens our sending stream to the victim at `address` (three tries: a loaded victim may be slow). */
export async function openLedgerLink(host: Libp2p, address: string): Promise<LedgerLink> {
  let stream: Stream | undefined;
  for (let attempt = 1; stream === undefined; attempt++) {
    try {
      stream = await openProtocol(host, address, LEDGER_PROTOCOL);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  const opened = stream;
  let sent = 0;
  return {
    stream: opened,
    sent: () => sent,
    async send(payload) {
      const f = frame(payload);
      sent += f.length;
      if (!opened.send(f)) await opened.onDrain({ signal: AbortSignal.timeout(30_000) });
    },
    async flush(ms = 60_000) {
      const end = Date.now() + ms;
      while (opened.writeBufferLength > 0 && opened.status === 'open' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await opened.close().catch(() => opened.abort(new Error('closed')));
    },
  };
}

/**
 * Accepts the streams victims open to us (a node opens one to every peer that speaks the protocol)
 * and hands over every frame they send: what they broadcast and what they relay.
 */
export async function listenLedger(
  host: Libp2p,
  onFrame: (from: string, payload: Uint8Array) => void,
): Promise<void> {
  await host.handle(
    LEDGER_PROTOCOL,
    (stream, conn) => {
      const frames = new Frames();
      const from = conn.remotePeer.toString();
      stream.addEventListener('message', (evt) => {
        for (const f of frames.push(evt.data.subarray())) onFrame(from, f);
      });
    },
    { maxInboundStreams: 64, runOnLimitedConnection: false },
  );
}
