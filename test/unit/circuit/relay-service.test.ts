// RelayService on its own: no libp2p node, no TCP between relays. Its direct collaborators are faked:
// the host is a small in-memory one (handle/unhandle, dialProtocol to another fake host), channels are
// real yamux streams in memory (lib/yamux-pair.ts), and the test speaks cells as a client would, with
// the real handshake and relay crypto. The exit is a real Exit towards a TCP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Connection, Libp2p, PeerId, Stream, StreamHandler } from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { CellLink } from '../../../src/circuit/cell-link.ts';
import { peerIdOfIdentity } from '../../../src/circuit/open-link.ts';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { type RelayLimits, RelayService } from '../../../src/circuit/relay-service.ts';
import { createHandshakeClient, type HandshakeClient } from '../../../src/crypto/circuit-handshake.ts';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.ts';
import { generateOnionKeyPair, type OnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { ClientCircuitCrypto } from '../../../src/crypto/relay-crypto.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { Exit } from '../../../src/stream/exit.ts';
import {
  type CircuitId,
  DestroyReason,
  decodeCell,
  decodeRelayBody,
  decodeRelayPayload,
  encodeCell,
  encodeRelayBody,
  encodeRelayPayload,
  LinkCommand,
  RelayCommand,
  type RelayMessage,
} from '../../../src/wire/cell.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import { type YamuxPair, yamuxPair } from './lib/yamux-pair.ts';

const log = createLogger({ level: 'silent' });
const HOUR = 3_600_000;

/** The part of a libp2p host the relay service and its channel pool use, in memory. */
class FakeHost {
  readonly peerId: PeerId;
  readonly address: Multiaddr;
  readonly handlers = new Map<string, StreamHandler>();
  readonly unhandled: string[] = [];
  readonly #net: Map<string, FakeHost>;
  readonly #pairs: YamuxPair[];

  constructor(identity: Identity, index: number, net: Map<string, FakeHost>, pairs: YamuxPair[]) {
    this.peerId = peerIdOfIdentity(identity.publicKey)!;
    this.address = multiaddr(`/ip4/198.51.100.${index}/tcp/4001`);
    this.#net = net;
    this.#pairs = pairs;
    net.set(this.address.toString(), this);
  }

  async handle(protocol: string, handler: StreamHandler): Promise<void> {
    this.handlers.set(protocol, handler);
  }

  async unhandle(protocol: string): Promise<void> {
    this.handlers.delete(protocol);
    this.unhandled.push(protocol);
  }

  getConnections(): Connection[] {
    return [];
  }

  /** Opens a stream to the fake host at the first address, which sees a connection from us. */
  async dialProtocol(addresses: Multiaddr[], protocol: string): Promise<Stream> {
    const target = this.#net.get(addresses[0]?.toString() ?? '');
    const handler = target?.handlers.get(protocol);
    if (target === undefined || handler === undefined) throw new Error('dial failed');
    const pair = await yamuxPair();
    this.#pairs.push(pair);
    await handler(pair.inbound, fakeConnection(this.peerId, this.address));
    return pair.outbound;
  }

  get asLibp2p(): Libp2p {
    return this as unknown as Libp2p;
  }
}

function fakeConnection(remotePeer: PeerId, remoteAddr: Multiaddr): Connection {
  return { remotePeer, remoteAddr } as unknown as Connection;
}

interface TestRelay {
  readonly identity: Identity;
  readonly onion: OnionKeyPair;
  readonly host: FakeHost;
  readonly service: RelayService;
  readonly exit: Exit;
}

/** Cells as a client (or a previous hop) sees them on one channel to a relay. */
class Neighbour {
  readonly #link: CellLink;
  readonly #cells: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  closed = false;

  constructor(stream: Stream) {
    this.#link = new CellLink(stream);
    this.#link.onCell = (cell) => {
      this.#cells.push(cell);
      this.#wake?.();
    };
    this.#link.onClose = () => {
      this.closed = true;
      this.#wake?.();
    };
  }

  send(cell: Uint8Array): void {
    this.#link.write(cell);
  }

  async next(timeoutMs = 5_000): Promise<Uint8Array> {
    const end = Date.now() + timeoutMs;
    while (this.#cells.length === 0) {
      if (this.closed || Date.now() > end) throw new Error('no cell came');
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.#cells.shift()!;
  }
}

/** One client circuit over a Neighbour: the handshakes and the layers of relay crypto. */
class TestCircuit {
  readonly id: CircuitId;
  readonly crypto = new ClientCircuitCrypto();
  readonly #n: Neighbour;

  constructor(n: Neighbour, id: number) {
    this.#n = n;
    this.id = id as CircuitId;
  }

  handshake(relay: TestRelay): HandshakeClient {
    return createHandshakeClient(relay.identity.publicKey, {
      x25519: relay.onion.x25519Public,
      mlkem768: relay.onion.mlkemPublic,
    });
  }

  /** Sends CREATE; answers the cell that came back (CREATED: the first hop is added). */
  async create(relay: TestRelay): Promise<{ command: number; body: Uint8Array }> {
    const hs = this.handshake(relay);
    this.#n.send(encodeCell({ circuitId: this.id, command: LinkCommand.CREATE, body: hs.message }));
    const reply = await this.#cell();
    if (reply.command === LinkCommand.CREATED) this.crypto.addHop(hs.finish(reply.body));
    return reply;
  }

  sendRelay(hop: number, streamId: number, m: RelayMessage, early = false): void {
    const command = m.kind === 'extend' ? RelayCommand.EXTEND : m.kind === 'begin' ? RelayCommand.BEGIN : -1;
    assert.ok(command > 0, 'only EXTEND and BEGIN are sent here');
    const body = encodeRelayBody(streamId, command, encodeRelayPayload(m));
    this.crypto.encryptForward(body, hop);
    const link = early ? LinkCommand.RELAY_EARLY : LinkCommand.RELAY;
    this.#n.send(encodeCell({ circuitId: this.id, command: link, body }));
  }

  /** The next relay message, with the hop that sent it; or the DESTROY reason. */
  async receive(): Promise<{ hop: number; streamId: number; message: RelayMessage } | { destroyed: number }> {
    const c = await this.#cell();
    if (c.command === LinkCommand.DESTROY) return { destroyed: c.body[0] ?? -1 };
    assert.equal(c.command, LinkCommand.RELAY);
    const hop = this.crypto.decryptBackward(c.body);
    assert.ok(hop >= 0, 'recognized by a hop of ours');
    const r = decodeRelayBody(c.body);
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') throw new Error('bad relay body');
    const m = decodeRelayPayload(r.value.command, r.value.data);
    if (m.kind !== 'ok') throw new Error('bad relay payload');
    return { hop, streamId: r.value.streamId, message: m.value };
  }

  async #cell(): Promise<{ command: number; body: Uint8Array }> {
    const bytes = await this.#n.next();
    const d = decodeCell(bytes);
    assert.equal(d.kind, 'ok');
    if (d.kind !== 'ok') throw new Error('bad cell');
    assert.equal(d.value.circuitId, this.id);
    return { command: d.value.command, body: Uint8Array.from(d.value.body) };
  }
}

const net = new Map<string, FakeHost>();
const pairs: YamuxPair[] = [];
const services: RelayService[] = [];
let destination: Server;
let destinationPort: number;
let accepted = 0;
let hosts = 0;

async function startRelay(limits: Partial<RelayLimits> = {}, directory = new Map<string, Multiaddr>()) {
  const identity = generateIdentity();
  const now = Date.now() as UnixMillis;
  const onion = generateOnionKeyPair((now - HOUR) as UnixMillis, (now + HOUR) as UnixMillis);
  const host = new FakeHost(identity, ++hosts, net, pairs);
  const exit = new Exit({
    enabled: true,
    policy: parseExitPolicy(['accept *:*']),
    allowLoopback: true,
    connectTimeoutMs: 5_000,
  });
  const service = new RelayService({
    host: host.asLibp2p,
    identityKey: identity.publicKey,
    onionKeys: () => [onion],
    lookupRelay: (key) => {
      const a = directory.get(Buffer.from(key).toString('hex'));
      return a === undefined ? undefined : [a];
    },
    exit,
    limits,
    log,
  });
  await service.start();
  services.push(service);
  const relay: TestRelay = { identity, onion, host, service, exit };
  directory.set(Buffer.from(identity.publicKey).toString('hex'), host.address);
  return relay;
}

/** A neighbour (client or previous hop) with its own peer id, connected to `relay` from `from`. */
async function connect(relay: TestRelay, from = '/ip4/203.0.113.7/tcp/5000'): Promise<Neighbour> {
  const handler = relay.host.handlers.get(CIRCUIT_PROTOCOL);
  assert.ok(handler !== undefined, 'the circuit protocol is handled');
  const pair = await yamuxPair();
  pairs.push(pair);
  const peer = peerIdOfIdentity(generateIdentity().publicKey)!;
  await handler(pair.inbound, fakeConnection(peer, multiaddr(from)));
  return new Neighbour(pair.outbound);
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  destination = createServer((s) => {
    accepted++;
    s.resume();
    s.on('error', () => {});
  });
  destination.listen(0, '127.0.0.1');
  await once(destination, 'listening');
  destinationPort = (destination.address() as { port: number }).port;
});

after(async () => {
  for (const s of services) await s.stop().catch(() => {});
  for (const p of pairs) p.close();
  destination.close();
});

describe('RelayService', () => {
  it('handles the circuit protocol from start() until stop()', async () => {
    const r = await startRelay();
    assert.ok(r.host.handlers.has(CIRCUIT_PROTOCOL));
    await r.service.stop();
    assert.deepEqual(r.host.unhandled, [CIRCUIT_PROTOCOL]);
    assert.ok(!r.host.handlers.has(CIRCUIT_PROTOCOL));
  });

  it('answers CREATE with CREATED whose keys the client shares; a BEGIN at the last hop reaches the exit', async () => {
    const r = await startRelay();
    const c = new TestCircuit(await connect(r), 7);
    assert.equal((await c.create(r)).command, LinkCommand.CREATED);
    assert.equal(r.service.stats.circuitsCreated, 1);
    assert.equal(r.service.circuits.size, 1);
    const before = accepted;
    c.sendRelay(0, 1, { kind: 'begin', host: '127.0.0.1', port: destinationPort, flags: 0 });
    const reply = await c.receive();
    assert.ok('message' in reply && reply.message.kind === 'connected', JSON.stringify(reply));
    assert.equal(reply.hop, 0);
    assert.equal(reply.streamId, 1);
    await until(() => accepted === before + 1, 'the exit connection');
    assert.equal(r.exit.stats.opened, 1);
  });

  it('a CREATE for an onion key it does not have gets DESTROY, and no circuit', async () => {
    const r = await startRelay();
    const other = await startRelay();
    const n = await connect(r);
    const c = new TestCircuit(n, 9);
    const hs = c.handshake(other);
    n.send(encodeCell({ circuitId: c.id, command: LinkCommand.CREATE, body: hs.message }));
    const reply = await c.receive();
    assert.ok('destroyed' in reply);
    await until(() => r.service.circuits.size === 0, 'the circuit to go');
    assert.equal(r.service.stats.circuitsCreated, 0);
  });

  it("admission: past a neighbour's share of circuits, CREATE is refused with RESOURCELIMIT", async () => {
    const r = await startRelay({ maxCircuitsPerPeer: 1 });
    const n = await connect(r);
    assert.equal((await new TestCircuit(n, 1).create(r)).command, LinkCommand.CREATED);
    const second = await new TestCircuit(n, 2).create(r);
    assert.equal(second.command, LinkCommand.DESTROY);
    assert.equal(second.body[0], DestroyReason.RESOURCELIMIT);
    assert.equal(r.service.stats.circuitsRefused, 1);
    assert.equal(r.service.admission.total, 1);
    assert.equal(r.service.refusals.count('CIRCUIT_PEER_SHARE'), 1);
    // Another neighbour still has its own share.
    const m = await connect(r, '/ip4/203.0.113.8/tcp/5000');
    assert.equal((await new TestCircuit(m, 1).create(r)).command, LinkCommand.CREATED);
    assert.equal(r.service.admission.total, 2);
  });

  it('a RELAY cell that is not ours and has nowhere to go destroys the circuit (integrity)', async () => {
    const r = await startRelay();
    const n = await connect(r);
    const c = new TestCircuit(n, 3);
    await c.create(r);
    const body = encodeRelayBody(
      1,
      RelayCommand.BEGIN,
      encodeRelayPayload({ kind: 'begin', host: 'a.example', port: 80, flags: 0 }),
    );
    body[100] = (body[100] ?? 0) ^ 1; // garbage the digest cannot vouch for, never encrypted for the hop
    n.send(encodeCell({ circuitId: c.id, command: LinkCommand.RELAY, body }));
    const reply = await c.receive();
    assert.ok('destroyed' in reply && reply.destroyed === DestroyReason.PROTOCOL);
    assert.equal(r.service.stats.integrityFailures, 1);
  });

  it('extends to the next relay through the host, and relays both ways', async () => {
    const directory = new Map<string, Multiaddr>();
    const a = await startRelay({}, directory);
    const b = await startRelay({}, directory);
    const c = new TestCircuit(await connect(a), 11);
    await c.create(a);
    const hs = c.handshake(b);
    c.sendRelay(0, 0, { kind: 'extend', identityKey: b.identity.publicKey, create: hs.message }, true);
    const extended = await c.receive();
    assert.ok('message' in extended && extended.message.kind === 'extended', JSON.stringify(extended));
    c.crypto.addHop(hs.finish(extended.message.created));
    assert.equal(b.service.stats.circuitsCreated, 1);
    c.sendRelay(1, 4, { kind: 'begin', host: '127.0.0.1', port: destinationPort, flags: 0 });
    const reply = await c.receive();
    assert.ok('message' in reply && reply.message.kind === 'connected' && reply.hop === 1);
    assert.ok(a.service.stats.cellsRelayed >= 2, 'the middle relay passed cells both ways');
    assert.equal(a.exit.stats.opened, 0, 'the middle relay opened nothing');
  });

  it('refuses an EXTEND to itself (TRUNCATED PROTOCOL, then DESTROY) and one outside RELAY_EARLY', async () => {
    const directory = new Map<string, Multiaddr>();
    const a = await startRelay({}, directory);
    const self = new TestCircuit(await connect(a), 12);
    await self.create(a);
    self.sendRelay(
      0,
      0,
      { kind: 'extend', identityKey: a.identity.publicKey, create: self.handshake(a).message },
      true,
    );
    const truncated = await self.receive();
    assert.ok('message' in truncated && truncated.message.kind === 'truncated');
    assert.equal(truncated.message.reason, DestroyReason.PROTOCOL);
    assert.ok('destroyed' in (await self.receive()));
    assert.equal(a.service.refusals.count('EXTEND_TO_SELF'), 1);

    const b = await startRelay({}, directory);
    const late = new TestCircuit(await connect(a), 13);
    await late.create(a);
    late.sendRelay(0, 0, {
      kind: 'extend',
      identityKey: b.identity.publicKey,
      create: late.handshake(b).message,
    });
    const reply = await late.receive();
    assert.ok('destroyed' in reply && reply.destroyed === DestroyReason.PROTOCOL);
    assert.equal(a.service.refusals.count('EXTEND_NOT_EARLY'), 1);
  });

  it('stop() destroys its circuits (FINISHED) and refuses new ones (HIBERNATING)', async () => {
    const r = await startRelay();
    const n = await connect(r);
    const c = new TestCircuit(n, 21);
    await c.create(r);
    await r.service.stop();
    const gone = await c.receive();
    assert.ok('destroyed' in gone && gone.destroyed === DestroyReason.FINISHED);
    assert.equal(r.service.circuits.size, 0);
    const late = await new TestCircuit(n, 22).create(r);
    assert.equal(late.command, LinkCommand.DESTROY);
    assert.equal(late.body[0], DestroyReason.HIBERNATING);
  });
});
