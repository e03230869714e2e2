// Circuit admission at a live relay (hardening issue, class 5), in one process with real libp2p hosts:
// an attacker host speaks the circuit protocol by hand (test/e2e/attackers/raw-channel.ts) with valid
// and garbage handshakes, and the test checks what the relay grants it (its peer share, its address
// group's share, its CREATE rate, its handshake queue share, slots it leaves unused or idle) and that an
// honest client still builds circuits through that relay and carries a stream on them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClientCircuit, type PathHop } from '../../../src/circuit/client-circuit.ts';
import type { RelayLimits } from '../../../src/circuit/relay-service.ts';
import type { ClientCircuitCrypto } from '../../../src/crypto/relay-crypto.ts';
import type { Host } from '../../../src/p2p/host.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import { DestroyReason, LinkCommand } from '../../../src/wire/cell.ts';
import {
  createCell,
  dropCell,
  garbageCreate,
  RawChannel,
  type VictimKeys,
  validCreate,
} from '../../e2e/attackers/raw-channel.ts';
import { startEchoServer } from '../lib/echo-server.ts';
import { type MiniNet, type MiniRelay, startMiniNet } from '../lib/mini-net.ts';

let net: MiniNet;
let echo: Awaited<ReturnType<typeof startEchoServer>>;

before(async () => {
  net = await startMiniNet([{}, {}, { exit: true }]);
  echo = await startEchoServer();
});

after(async () => {
  echo.server.close();
  await net.stop();
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A relay under test: an exit, with these limits over roomy rates (tests set what they test). */
function limitedRelay(limits: Partial<RelayLimits>): Promise<MiniRelay> {
  return net.addRelay({
    exit: true,
    limits: { createRatePerPeer: 1_000, createBurstPerPeer: 1_000, ...limits },
  });
}

function keysOf(relay: MiniRelay): VictimKeys {
  return { identityKey: relay.identity.publicKey, onionKey: relay.hop.onionKey };
}

interface Attack {
  readonly host: Host;
  readonly channel: RawChannel;
  /** Circuits the relay answered CREATED, with their hop crypto when the handshake was valid. */
  readonly created: Map<number, ClientCircuitCrypto | undefined>;
  /** Reasons of the DESTROYs that answered CREATEs. */
  readonly refused: number[];
  /** DESTROYs that came later for created circuits: id → reason. */
  readonly destroyedLater: Map<number, number>;
}

/** Sends `n` CREATEs to `relay` on one channel and waits for an answer to each. */
async function attack(
  relay: MiniRelay,
  n: number,
  opts: { kind: 'valid' | 'garbage'; host?: Host; oneWrite?: boolean },
): Promise<Attack> {
  const host = opts.host ?? (await net.addClient());
  const channel = await RawChannel.open(host, relay.host.getMultiaddrs());
  const keys = keysOf(relay);
  const pending = new Map<number, ReturnType<typeof validCreate> | undefined>();
  const a: Attack = { host, channel, created: new Map(), refused: [], destroyedLater: new Map() };
  channel.onReply = (r) => {
    if (pending.has(r.id)) {
      const hs = pending.get(r.id);
      pending.delete(r.id);
      if (r.command === LinkCommand.CREATED) a.created.set(r.id, hs?.finish(r.body));
      else if (r.command === LinkCommand.DESTROY) a.refused.push(r.reason ?? -1);
    } else if (r.command === LinkCommand.DESTROY && a.created.has(r.id)) {
      a.destroyedLater.set(r.id, r.reason ?? -1);
    }
  };
  const cells: Uint8Array[] = [];
  for (let id = 1; id <= n; id++) {
    const hs = opts.kind === 'valid' ? validCreate(keys) : undefined;
    pending.set(id, hs);
    cells.push(createCell(id, hs?.message ?? garbageCreate(keys)));
  }
  if (opts.oneWrite) await channel.send(Buffer.concat(cells));
  else for (const c of cells) await channel.send(c);
  await until(() => pending.size === 0, 'an answer to every CREATE');
  return a;
}

function build(path: PathHop[], opts: { host?: Host; keepaliveMs?: number } = {}): Promise<ClientCircuit> {
  return ClientCircuit.build(
    opts.host ?? net.client,
    path,
    AbortSignal.timeout(10_000),
    opts.keepaliveMs === undefined
      ? { streams: clientStreams }
      : { keepaliveMs: opts.keepaliveMs, streams: clientStreams },
  );
}

/** An honest 3-hop circuit through `relay` as its exit, and one echoed line on it. */
async function honestRoundTrip(
  relay: MiniRelay,
  opts: { keepaliveMs?: number } = {},
): Promise<ClientCircuit> {
  const circuit = await build([net.relays[0]!.hop, net.relays[1]!.hop, relay.hop], opts);
  await echoOn(circuit);
  return circuit;
}

async function echoOn(circuit: ClientCircuit): Promise<void> {
  const s = await circuit.openStream('127.0.0.1', echo.port, AbortSignal.timeout(10_000));
  const back = new Promise<string>((resolve, reject) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= 5) resolve(got);
    });
    s.once('error', reject);
  });
  s.write('hello');
  assert.equal(await back, 'hello');
  s.destroy();
}

const count = (xs: number[], v: number) => xs.filter((x) => x === v).length;

test('one peer holds at most its share of circuit slots; an honest client still builds and fetches', async () => {
  const relay = await limitedRelay({ maxCircuits: 12, maxCircuitsPerPeer: 4, maxCircuitsPerIp: 100 });
  const a = await attack(relay, 10, { kind: 'valid' });
  assert.equal(a.created.size, 4, 'the share: 4 circuits');
  assert.equal(count(a.refused, DestroyReason.RESOURCELIMIT), 6, 'the rest refused RESOURCELIMIT');
  assert.equal(relay.service.admission.heldByPeer(a.host.peerId.toString()), 4);
  assert.equal(relay.service.refusals.count('CIRCUIT_PEER_SHARE'), 6);
  // Garbage handshakes from a second identity are no better: same share.
  const b = await attack(relay, 10, { kind: 'garbage' });
  assert.equal(b.created.size, 4);
  const circuit = await honestRoundTrip(relay);
  assert.equal(relay.service.circuits.size, 9, '8 attacker circuits and the honest one');
  circuit.close();
  a.channel.close();
  b.channel.close();
  await until(() => relay.service.circuits.size === 0, 'the relay to forget every circuit');
  assert.equal(relay.service.admission.total, 0, 'every slot given back');
});

test('peers at one address share one quota; loopback is exempt only where configured', async () => {
  const strict = await limitedRelay({ maxCircuitsPerPeer: 4, maxCircuitsPerIp: 6 });
  const a = await attack(strict, 4, { kind: 'garbage' });
  const b = await attack(strict, 4, { kind: 'garbage' });
  assert.equal(a.created.size + b.created.size, 6, 'two identities on 127.0.0.1: 6 slots together');
  assert.equal(strict.service.refusals.count('CIRCUIT_IP_SHARE'), 2);
  // The honest client is on 127.0.0.1 too: the address of the connection decides, so it is refused.
  await assert.rejects(build([strict.hop]));
  a.channel.close();
  b.channel.close();

  const testnet = await limitedRelay({
    maxCircuitsPerPeer: 4,
    maxCircuitsPerIp: 6,
    exemptLoopbackFromIpShare: true,
  });
  const c = await attack(testnet, 4, { kind: 'garbage' });
  const d = await attack(testnet, 4, { kind: 'garbage' });
  assert.equal(c.created.size + d.created.size, 8, 'each loopback peer has its own share');
  const circuit = await honestRoundTrip(testnet);
  circuit.close();
  c.channel.close();
  d.channel.close();
});

test("a peer's CREATE rate is bounded; other peers are not held back by it", async () => {
  const relay = await limitedRelay({ createRatePerPeer: 1, createBurstPerPeer: 3 });
  const a = await attack(relay, 8, { kind: 'garbage' });
  assert.equal(a.created.size, 3, 'the burst');
  assert.equal(relay.service.refusals.count('CREATE_RATE_PEER'), 5);
  const circuit = await honestRoundTrip(relay);
  circuit.close();
  a.channel.close();
});

test("one peer's waiting handshakes are bounded; the queue drains", async () => {
  const relay = await limitedRelay({ handshakeQueuePerPeer: 4, maxCircuitsPerPeer: 1_000 });
  const a = await attack(relay, 60, { kind: 'garbage', oneWrite: true });
  const refusedAtQueue = relay.service.refusals.count('HANDSHAKE_QUEUE_PEER');
  assert.ok(refusedAtQueue > 0, 'CREATEs past the queue share were refused');
  assert.equal(a.created.size + a.refused.length, 60);
  assert.equal(count(a.refused, DestroyReason.RESOURCELIMIT), refusedAtQueue);
  assert.equal(relay.service.handshakes.size, 0);
  assert.ok(relay.service.handshakes.stats.ran >= a.created.size);
  const circuit = await honestRoundTrip(relay);
  circuit.close();
  a.channel.close();
});

test('circuits left unused or idle are closed; honest circuits kept alive by their client are not', async () => {
  // Keepalives come 5x as often as the unused timeout: an event loop slowed by a busy machine must not
  // make the honest circuit look unused.
  const relay = await limitedRelay({ unusedCircuitTimeoutMs: 1_000, idleCircuitTimeoutMs: 2_500 });
  const honest = await honestRoundTrip(relay, { keepaliveMs: 200 });
  const a = await attack(relay, 3, { kind: 'valid' });
  assert.equal(a.created.size, 3);
  // One of them is used once (a DROP), then left alone: idle, not unused.
  const [usedId, crypto] = [...a.created][0]!;
  await a.channel.send(dropCell(usedId, crypto!));
  await until(() => a.destroyedLater.size === 2, 'the two unused circuits to be closed', 10_000);
  for (const reason of a.destroyedLater.values()) assert.equal(reason, DestroyReason.TIMEOUT);
  assert.ok(!a.destroyedLater.has(usedId), 'the circuit that carried a cell is not unused');
  assert.equal(relay.service.refusals.count('CIRCUIT_UNUSED'), 2);
  await until(() => a.destroyedLater.has(usedId), 'the idle circuit to be closed', 10_000);
  assert.equal(relay.service.refusals.count('CIRCUIT_IDLE'), 1);
  // The honest circuit sat through both timeouts with keepalive DROPs only, and still works.
  await sleep(3_000);
  assert.equal(honest.state, 'open');
  await echoOn(honest);
  honest.close();
  a.channel.close();
});
