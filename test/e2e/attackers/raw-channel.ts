// An attacker's circuit channel: a libp2p stream on `/anonnet/circuit/2.0.0` written and read cell by
// cell, with CREATE cells crafted as a real attacker would: garbage handshakes (the victim's onion key
// id and random bytes: they cost nothing to make, and the victim cannot tell them from real ones before
// its X25519 and ML-KEM work) or valid ones made with the project's own handshake code (a valid circuit
// can then be kept alive with DROP cells). Used by the attack scripts here and by integration tests.
import { randomBytes } from 'node:crypto';
import type { Libp2p, Stream } from '@libp2p/interface';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { createHandshakeClient, onionKeyId } from '../../../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto } from '../../../src/crypto/relay-crypto.ts';
import { fetchPeerDescriptor } from '../../../src/directory/descriptor-protocol.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  type CircuitId,
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  encodeCell,
  encodeRelayCell,
  LinkCommand,
  RelayCommand,
} from '../../../src/wire/cell.ts';
import { decodeDescriptor } from '../../../src/wire/descriptor.ts';
import type { OnionKey } from '../../../src/wire/descriptor-types.ts';

/** What a CREATE for the victim needs: what its descriptor publishes. */
export interface VictimKeys {
  readonly identityKey: Uint8Array;
  readonly onionKey: OnionKey;
}

/** The victim's keys from its own descriptor (`/anonnet/descriptor/1.0.0`: public to everyone). */
export async function fetchVictimKeys(host: Libp2p, peerId: string): Promise<VictimKeys> {
  const bytes = await fetchPeerDescriptor(host, peerId, AbortSignal.timeout(10_000));
  const d = decodeDescriptor(bytes);
  if (d.kind !== 'ok') throw new Error(`the victim's descriptor does not decode: ${d.kind}`);
  const now = Date.now();
  const descriptor = d.value.descriptor;
  const onionKey =
    descriptor.onionKeys.find((k) => k.validFrom <= now && now < k.validUntil) ?? descriptor.onionKeys[0];
  if (onionKey === undefined) throw new Error('the victim publishes no onion key');
  return { identityKey: descriptor.identityKey, onionKey };
}

/** A CREATE message that names the victim's onion key and is random after that: free to make. */
export function garbageCreate(keys: VictimKeys): Uint8Array {
  const m = randomBytes(CREATE_MESSAGE_BYTES);
  m.set(onionKeyId(keys.onionKey.x25519), 0);
  return m;
}

/** A valid CREATE (X25519 + ML-KEM encapsulation, ~0.1 ms) and what finishes it into hop crypto. */
export function validCreate(keys: VictimKeys): {
  message: Uint8Array;
  finish(created: Uint8Array): ClientCircuitCrypto;
} {
  const hs = createHandshakeClient(keys.identityKey, keys.onionKey);
  return {
    message: hs.message,
    finish(created) {
      const crypto = new ClientCircuitCrypto();
      crypto.addHop(hs.finish(created.subarray(0, CREATED_MESSAGE_BYTES)));
      return crypto;
    },
  };
}

export function createCell(id: number, message: Uint8Array): Uint8Array {
  return encodeCell({ circuitId: id as CircuitId, command: LinkCommand.CREATE, body: message });
}

export function destroyCell(id: number): Uint8Array {
  return encodeCell({ circuitId: id as CircuitId, command: LinkCommand.DESTROY, body: Uint8Array.of(0) });
}

/** A DROP cell to the one hop of a circuit made with validCreate: it counts as use at the relay. */
export function dropCell(id: number, crypto: ClientCircuitCrypto): Uint8Array {
  const cell = encodeRelayCell(id as CircuitId, 0, RelayCommand.DROP, new Uint8Array(0));
  crypto.encryptForward(cell.subarray(CELL_HEADER_BYTES), 0);
  return cell;
}

export interface Reply {
  readonly id: number;
  readonly command: number;
  /** DESTROY's reason byte. */
  readonly reason: number | undefined;
  readonly body: Uint8Array;
}

/** One circuit channel to the victim, cell by cell. */
export class RawChannel {
  readonly #stream: Stream;
  #rest = new Uint8Array(0);
  #closed = false;
  readonly closed: Promise<void>;
  onReply: (r: Reply) => void = () => {};

  constructor(stream: Stream) {
    this.#stream = stream;
    this.closed = new Promise((resolve) =>
      stream.addEventListener(
        'close',
        () => {
          this.#closed = true;
          resolve();
        },
        { once: true },
      ),
    );
    stream.addEventListener('message', (evt) => this.#receive(evt.data.subarray()));
  }

  static async open(host: Libp2p, address: Parameters<Libp2p['dialProtocol']>[0]): Promise<RawChannel> {
    const stream = await host.dialProtocol(address, CIRCUIT_PROTOCOL, {
      signal: AbortSignal.timeout(10_000),
      runOnLimitedConnection: false,
    });
    return new RawChannel(stream);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Sends one cell; waits while the stream's buffer is full (false once the channel closed). */
  async send(cell: Uint8Array): Promise<boolean> {
    if (this.#closed) return false;
    try {
      if (this.#stream.send(cell)) return true;
    } catch {
      return false;
    }
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.#stream.addEventListener('drain', done, { once: true });
      this.#stream.addEventListener('close', done, { once: true });
    });
    return !this.#closed;
  }

  close(): void {
    this.#stream.abort(new Error('attacker done'));
  }

  #receive(chunk: Uint8Array): void {
    const buf = new Uint8Array(this.#rest.length + chunk.length);
    buf.set(this.#rest);
    buf.set(chunk, this.#rest.length);
    let off = 0;
    for (; buf.length - off >= CELL_BYTES; off += CELL_BYTES) {
      const c = buf.subarray(off, off + CELL_BYTES);
      const id = ((c[0]! << 24) | (c[1]! << 16) | (c[2]! << 8) | c[3]!) >>> 0;
      const command = c[4]!;
      this.onReply({
        id,
        command,
        reason: command === LinkCommand.DESTROY ? c[5] : undefined,
        body: c.subarray(CELL_HEADER_BYTES),
      });
    }
    this.#rest = buf.slice(off);
  }
}
