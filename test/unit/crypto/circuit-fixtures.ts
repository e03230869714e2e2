// Helpers for circuit tests: relays with identities and onion keys, and circuits built through the
// real handshake (no network): a ClientCircuitCrypto and the RelayHopCrypto of every hop.
import { createHandshakeClient, respondHandshake } from '../../../src/crypto/circuit-handshake.ts';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { generateOnionKeyPair, type OnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../../../src/crypto/relay-crypto.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';

export interface TestRelay {
  readonly identity: Uint8Array;
  readonly onionKeys: readonly OnionKeyPair[];
}

export function testRelay(): TestRelay {
  return {
    identity: generateIdentity().publicKey,
    onionKeys: [generateOnionKeyPair(0 as UnixMillis, 1 as UnixMillis)],
  };
}

export function publicOnionKey(relay: TestRelay): { x25519: Uint8Array; mlkem768: Uint8Array } {
  const k = relay.onionKeys[0]!;
  return { x25519: k.x25519Public, mlkem768: k.mlkemPublic };
}

export interface TestCircuit {
  readonly client: ClientCircuitCrypto;
  readonly relays: readonly RelayHopCrypto[];
}

/** A circuit through `hops` fresh relays (or the ones given), built with real handshakes. */
export function buildCircuit(hops = 3, relays: readonly TestRelay[] = []): TestCircuit {
  const client = new ClientCircuitCrypto();
  const hopCrypto: RelayHopCrypto[] = [];
  for (let i = 0; i < hops; i++) {
    const relay = relays[i] ?? testRelay();
    const hs = createHandshakeClient(relay.identity, publicOnionKey(relay));
    const r = respondHandshake(hs.message, relay.identity, relay.onionKeys);
    if ('error' in r) throw new Error(`handshake refused: ${r.error}`);
    client.addHop(hs.finish(r.reply));
    hopCrypto.push(new RelayHopCrypto(r.keys));
  }
  return { client, relays: hopCrypto };
}

/**
 * Carries a forward body through the relays as the circuit layer would: each hop removes its layer,
 * stops at the first that recognizes it. Returns that hop's index, or -1 when it falls off the end.
 * `tamper(hop, body)` runs just before hop `hop` sees the body.
 */
export function deliverForward(
  c: TestCircuit,
  body: Uint8Array,
  tamper?: (hop: number, body: Uint8Array) => void,
): number {
  for (let i = 0; i < c.relays.length; i++) {
    tamper?.(i, body);
    if (c.relays[i]!.forward(body)) return i;
  }
  return -1;
}

/** Originates a backward body at hop `from`, adds the layers of hops from-1..0. */
export function sendBackward(
  c: TestCircuit,
  body: Uint8Array,
  from: number,
  tamper?: (hop: number, body: Uint8Array) => void,
): void {
  c.relays[from]!.backwardOriginate(body);
  for (let i = from - 1; i >= 0; i--) {
    tamper?.(i, body);
    c.relays[i]!.backwardRelay(body);
  }
  tamper?.(-1, body);
}
