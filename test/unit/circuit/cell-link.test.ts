// CellLink over a real in-memory libp2p stream pair (@libp2p/utils streamPair): bytes that arrive in
// chunks cut anywhere (yamux cuts its frames at its send window, not at cell boundaries) come out as
// whole cells, in order, that the relay crypto still recognizes. Regression: the link glued a partial
// cell to the next chunk with Buffer.concat, and relay-crypto's digest check rejected every cell
// handed over as a Buffer (Buffer#slice is a view), so a relay tore a good circuit down (PROTOCOL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { streamPair } from '@libp2p/utils';
import { CellLink } from '../../../src/circuit/cell-link.ts';
import type { HopKeys } from '../../../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../../../src/crypto/relay-crypto.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  type CircuitId,
  decodeRelayBody,
  encodeRelayCell,
  RelayCommand,
} from '../../../src/wire/cell.ts';

/** One hop's keys twice: the client and the relay each take (and wipe) their own copy. */
function keyPair(): [HopKeys, HopKeys] {
  const k = {
    forwardKey: randomBytes(32),
    backwardKey: randomBytes(32),
    forwardDigestSeed: randomBytes(32),
    backwardDigestSeed: randomBytes(32),
  };
  const copy = (x: HopKeys): HopKeys => ({
    forwardKey: Uint8Array.from(x.forwardKey),
    backwardKey: Uint8Array.from(x.backwardKey),
    forwardDigestSeed: Uint8Array.from(x.forwardDigestSeed),
    backwardDigestSeed: Uint8Array.from(x.backwardDigestSeed),
  });
  return [copy(k), copy(k)];
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('cells split across chunks arrive whole, in order, and pass the relay digest check', async () => {
  const [outbound, inbound] = await streamPair();
  const link = new CellLink(inbound);
  const [clientKeys, relayKeys] = keyPair();
  const client = new ClientCircuitCrypto();
  client.addHop(clientKeys);
  const relay = new RelayHopCrypto(relayKeys);

  const received: Uint8Array[] = [];
  link.onCell = (cell) => received.push(cell);

  // Five cells from the client to hop 0, sent as three chunks that end mid-cell.
  const N = 5;
  const wire = new Uint8Array(N * CELL_BYTES);
  for (let i = 0; i < N; i++) {
    const cell = encodeRelayCell(7 as CircuitId, 1, RelayCommand.DATA, Buffer.from(`cell ${i}`));
    client.encryptForward(cell.subarray(CELL_HEADER_BYTES), 0);
    wire.set(cell, i * CELL_BYTES);
  }
  const cuts = [0, CELL_BYTES + 700, 3 * CELL_BYTES + 1500, wire.length];
  for (let i = 0; i + 1 < cuts.length; i++) {
    outbound.send(wire.slice(cuts[i], cuts[i + 1]));
    // Wait for this chunk to be taken (its whole cells out) before the next one, so the link really
    // holds a partial cell when the next chunk arrives.
    const whole = Math.floor(cuts[i + 1]! / CELL_BYTES);
    await until(() => received.length === whole, `${whole} cells`);
  }

  assert.equal(received.length, N);
  for (const [i, cell] of received.entries()) {
    assert.equal(cell.length, CELL_BYTES);
    const body = cell.subarray(CELL_HEADER_BYTES);
    assert.ok(relay.forward(body), `cell ${i} is recognized by its hop`);
    const m = decodeRelayBody(body);
    assert.ok(m.kind === 'ok');
    assert.equal(Buffer.from(m.value.data).toString(), `cell ${i}`);
  }
  link.close();
  await outbound.close().catch(() => {});
});
