// The relay prober against real libp2p hosts (src/directory/prober.ts, probe-dial.ts): a relay that
// answers at the addresses it claims is verified in the network of the connection, a descriptor
// whose addresses nobody answers on ranks lowest afterwards, a relay that lists a far-away first
// address is still put in the network it answered from.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import { generateIdentity, type Identity } from '../../src/crypto/identity.ts';
import { buildOwnDescriptor } from '../../src/directory/build-descriptor.ts';
import { identityKeyOfPeerId } from '../../src/directory/dht-records.ts';
import { parseExitPolicy } from '../../src/directory/exit-policy.ts';
import { probeRelay } from '../../src/directory/probe-dial.ts';
import { RelayProber } from '../../src/directory/prober.ts';
import { RelayView, relaySubnets, standingTier } from '../../src/directory/relay-view.ts';
import { verifyDescriptor } from '../../src/directory/verify-descriptor.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { UnixMillis } from '../../src/wire/descriptor-types.ts';
import { peerIdOf } from '../unit/directory/relay-view-helpers.ts';
import { freshOnionKeyPair, type MiniNet, startMiniNet } from './lib/mini-net.ts';

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });
let net: MiniNet;

before(async () => {
  net = await startMiniNet([{}, {}]);
});
after(async () => {
  await net?.stop();
});

function descriptorBytes(identity: Identity, addresses: Uint8Array[]): Uint8Array {
  return buildOwnDescriptor({
    identity,
    powNonce: 0n,
    onionKeys: [freshOnionKeyPair()],
    addresses,
    roles: ['relay'],
    bandwidth: 1_000_000,
    exitPolicy: parseExitPolicy(['reject *:*']),
    now: Date.now(),
    lifetimeMs: HOUR,
  }).bytes;
}

function view(): RelayView {
  return new RelayView({
    now: Date.now,
    verify: (bytes, peerId) => {
      const expectedIdentity = identityKeyOfPeerId(peerId);
      if (expectedIdentity === undefined) return { ok: false, code: 'IDENTITY_MISMATCH', reason: 'bad id' };
      return verifyDescriptor(bytes, {
        now: Date.now() as UnixMillis,
        powDifficulty: 0,
        maxLifetimeMs: 24 * HOUR,
        maxClockSkewMs: 60_000,
        expectedIdentity,
      });
    },
  });
}

const real = (i: number) => net.relays[i]!.host.getMultiaddrs().map((ma) => ma.decapsulateCode(421).bytes);

describe('RelayProber with probeRelay', () => {
  it('verifies relays that answer and fails those that do not', async () => {
    const v = view();
    const honest = net.relays[0]!;
    const liar = net.relays[1]!;
    const ghost = generateIdentity();
    const ghostId = peerIdOf(ghost.publicKey);
    v.offer(honest.peerId, descriptorBytes(honest.identity, real(0)));
    // The liar's first address is in 10.99/16, where it is not; it answers on loopback.
    v.offer(
      liar.peerId,
      descriptorBytes(liar.identity, [multiaddr('/ip4/10.99.0.1/tcp/4950').bytes, ...real(1)]),
    );
    // Nothing listens on port 1 of loopback.
    v.offer(ghostId, descriptorBytes(ghost, [multiaddr('/ip4/127.0.0.1/tcp/1').bytes]));
    assert.equal(v.size, 3);

    const prober = new RelayProber({
      view: v,
      selfId: 'self',
      now: Date.now,
      log,
      options: { intervalMs: 1, timeoutMs: 3_000, retryBaseMs: 60_000 },
      probe: (id, addresses, signal) => probeRelay(net.client, id, addresses, signal),
    });
    for (let i = 0; i < 3; i++) {
      const next = prober.next(Date.now());
      assert.ok(next, 'three relays to probe');
      await prober.probeOnce(next);
    }
    assert.equal(prober.next(Date.now()), undefined, 'nothing is due: failed ones wait for their retry');
    assert.deepEqual(v.get(honest.peerId)?.standing.verifiedSubnets, ['v4:127.0']);
    assert.deepEqual(v.get(liar.peerId)?.standing.verifiedSubnets, ['v4:127.0']);
    assert.deepEqual(relaySubnets(v.get(liar.peerId)!).sort(), ['v4:10.99', 'v4:127.0']);
    assert.equal(v.get(ghostId)?.standing.probeFailures, 1);
    assert.equal(standingTier(v.get(ghostId)!.standing), 0);
    assert.deepEqual([prober.probes, prober.verified, prober.failed], [3, 2, 1]);
  });

  it('runs by itself once started, and stops', async () => {
    const v = view();
    const honest = net.relays[0]!;
    v.offer(honest.peerId, descriptorBytes(honest.identity, real(0)));
    const prober = new RelayProber({
      view: v,
      selfId: 'self',
      now: Date.now,
      log,
      options: { intervalMs: 20, timeoutMs: 3_000, retryBaseMs: 60_000 },
      probe: (id, addresses, signal) => probeRelay(net.client, id, addresses, signal),
    });
    prober.start();
    for (let i = 0; i < 100 && prober.verified === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await prober.stop();
    assert.equal(prober.verified, 1);
    assert.deepEqual(v.get(honest.peerId)?.standing.verifiedSubnets, ['v4:127.0']);
  });
});
