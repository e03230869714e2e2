// A random walk takes at most `perResponder` ids from each DHT server's answer (src/p2p/dht-client.ts):
// a server that names 20 made-up peers in every answer (the Sybil flood's DHT server, as in
// test/e2e/attackers/sybil-flood.ts) adds no more to discovery's queue than any honest server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PeerId, PeerInfo } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { dhtClient } from '../../src/p2p/dht-client.ts';
import { createHost, type Host } from '../../src/p2p/host.ts';
import { DHT_PROTOCOL, defaultP2pOptions, type P2pOptions } from '../../src/p2p/options.ts';

const options: P2pOptions = {
  ...defaultP2pOptions,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  transports: ['tcp'],
  allowPrivateAddresses: true,
  inboundPerHostPerSecond: 1000,
  nat: { autonat: false, dcutr: false, relayClient: false, relayServer: false, upnp: false },
  dhtProtocol: DHT_PROTOCOL,
};
const start = () =>
  createHost({ identitySeed: randomBytes(32), options, validators: {}, selectors: {}, agentVersion: 'test' });

let client: Host;
let flooder: Host;
const fakes: PeerId[] = [];

before(async () => {
  client = await start();
  flooder = await start();
  for (let i = 0; i < 20; i++) fakes.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')));
  type Offline = { getClosestPeersOffline(key: Uint8Array, options?: unknown): Promise<PeerInfo[]> };
  const routing = (flooder.services.dht as unknown as { peerRouting: Offline }).peerRouting;
  routing.getClosestPeersOffline = async () =>
    fakes.map((id) => ({ id, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] }));
  await client.dial(flooder.getMultiaddrs());
  // The client's routing table takes the flooder once identify has run.
  const table = (client.services.dht as unknown as { routingTable: { size: number } }).routingTable;
  for (let i = 0; i < 100 && table.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
});

after(async () => {
  await client?.stop();
  await flooder?.stop();
});

describe('dhtClient.randomWalk', () => {
  it('takes at most perResponder ids from one server', async () => {
    const dht = dhtClient(client.services.dht);
    const fakeIds = new Set(fakes.map(String));
    const capped = await dht.randomWalk({ perResponder: 4, signal: AbortSignal.timeout(20_000) });
    const cappedFakes = capped.filter((id) => fakeIds.has(id));
    assert.ok(cappedFakes.length > 0, 'the flooder was asked');
    assert.ok(cappedFakes.length <= 4, `${cappedFakes.length} made-up ids taken`);
    const all = await dht.randomWalk({ signal: AbortSignal.timeout(20_000) });
    assert.equal(all.filter((id) => fakeIds.has(id)).length, 20, 'without a share, all twenty');
  });
});
