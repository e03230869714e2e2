// Connection floods against a real AnonNet host (hardening issue, class 6), in one process: stock libp2p
// attacker hosts open many connections from one identity, then from many identities on one address
// (127.0.0.2: every 127/8 address is this machine's), then fill the node from several addresses. The
// per-peer and per-IP caps hold, the pruner keeps room, and a fresh peer still connects every time.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Libp2p } from '@libp2p/interface';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { RefusalLog } from '../../../src/log/refusals.ts';
import { PRUNE_GRACE_MS } from '../../../src/p2p/connection-pruner.ts';
import { createHost, type Host } from '../../../src/p2p/host.ts';
import { defaultP2pOptions, type P2pOptions } from '../../../src/p2p/options.ts';
import { createAttackerHost } from '../../e2e/attackers/attacker-host.ts';

const attackers: Libp2p[] = [];
const victims: Host[] = [];

async function victim(limits: Partial<P2pOptions>): Promise<{ host: Host; refusals: RefusalLog }> {
  const refusals = new RefusalLog(createLogger({ level: 'silent' }));
  const host = await createHost({
    identitySeed: generateIdentity().seed,
    options: {
      ...defaultP2pOptions,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      transports: ['tcp'],
      allowPrivateAddresses: true,
      inboundPerHostPerSecond: 10_000,
      nat: { autonat: false, dcutr: false, relayClient: false, relayServer: false, upnp: false },
      ...limits,
    },
    validators: {},
    selectors: {},
    agentVersion: 'victim',
    refusals,
  });
  victims.push(host);
  return { host, refusals };
}

async function attacker(dialFrom?: string): Promise<Libp2p> {
  const h = await createAttackerHost({ listen: false, ...(dialFrom ? { dialFrom } : {}) });
  attackers.push(h);
  return h;
}

/** Dials `n` times with force, one after the other (concurrent dials of one peer are merged). */
async function flood(from: Libp2p, to: Host, n: number): Promise<number> {
  let opened = 0;
  for (let i = 0; i < n; i++) {
    try {
      await from.dial(to.getMultiaddrs(), { force: true, signal: AbortSignal.timeout(10_000) });
      opened++;
    } catch {
      // refused
    }
  }
  return opened;
}

/** A fresh peer connects and its connection carries a stream (identify ran over it). */
async function freshPeerConnects(to: Host): Promise<void> {
  const fresh = await attacker();
  const conn = await fresh.dial(to.getMultiaddrs(), { signal: AbortSignal.timeout(10_000) });
  assert.equal(conn.status, 'open');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(conn.status, 'open', 'the fresh peer stays connected');
  assert.ok(to.getConnections(fresh.peerId).length >= 1, 'the victim holds the fresh peer');
  await fresh.hangUp(to.peerId);
}

after(async () => {
  await Promise.allSettled([...attackers, ...victims].map((h) => h.stop()));
});

test('one identity cannot hold more than maxConnectionsPerPeer connections', async () => {
  const { host, refusals } = await victim({ maxConnectionsPerPeer: 4, maxConnections: 50 });
  const a = await attacker();
  const dialled = await flood(a, host, 40);
  await new Promise((r) => setTimeout(r, 200));
  const held = host.getConnections(a.peerId).length;
  const attackerHolds = a.getConnections(host.peerId).filter((c) => c.status === 'open').length;
  console.log(
    JSON.stringify({ figure: 'connections-one-identity', attempted: 40, dialled, held, attackerHolds }),
  );
  assert.ok(held <= 4, `the victim holds ${held} connections of one identity`);
  assert.ok(refusals.count('P2P_PEER_CONNECTIONS') >= 30, 'the others were refused');
  await freshPeerConnects(host);
});

test('many identities from one address hold at most maxConnectionsPerIp', async () => {
  const { host, refusals } = await victim({ maxConnectionsPerIp: 8, maxConnections: 50 });
  const hosts = await Promise.all(Array.from({ length: 24 }, () => attacker('127.0.0.2')));
  const dialled = (await Promise.all(hosts.map((h) => flood(h, host, 1)))).reduce((a, b) => a + b, 0);
  await new Promise((r) => setTimeout(r, 200));
  const held = host.getConnections().filter((c) => c.remoteAddr.toString().includes('/127.0.0.2/')).length;
  console.log(JSON.stringify({ figure: 'connections-one-ip', identities: 24, dialled, held }));
  assert.ok(held <= 8, `the victim holds ${held} connections from 127.0.0.2`);
  assert.ok(refusals.count('P2P_IP_CONNECTIONS') + refusals.count('P2P_IP_HANDSHAKES') >= 16);
  // From another address (127.0.0.1), a fresh peer is accepted.
  await freshPeerConnects(host);
});

test('filled from several addresses, the pruner makes room for a newcomer', async () => {
  const { host, refusals } = await victim({ maxConnections: 12, maxConnectionsPerIp: 8 });
  // 4 addresses x 4 identities: libp2p accepts 12 and refuses the rest.
  const hosts = await Promise.all(
    ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].flatMap((ip) =>
      Array.from({ length: 4 }, () => attacker(ip)),
    ),
  );
  await Promise.all(hosts.map((h) => flood(h, host, 1)));
  const full = host.getConnections().length;
  assert.ok(full >= 11, `the victim is full (${full} connections)`);
  // Once they are older than the grace period, idle connections are pruned down to nine tenths.
  await new Promise((r) => setTimeout(r, PRUNE_GRACE_MS + PRUNE_GRACE_MS / 2 + 500));
  const after = host.getConnections().length;
  console.log(
    JSON.stringify({ figure: 'connections-pruned', full, after, pruned: refusals.count('P2P_PRUNED') }),
  );
  assert.ok(after <= 10, `pruned to ${after}`);
  assert.ok(refusals.count('P2P_PRUNED') >= 1);
  await freshPeerConnects(host);
});
