// A RelayView of a mini network's relays (test/integration/lib/mini-net.ts): each relay's signed
// descriptor, verified as a daemon's view verifies descriptors from the DHT, every relay an exit.
import assert from 'node:assert/strict';
import { buildOwnDescriptor } from '../../../src/directory/build-descriptor.ts';
import { identityKeyOfPeerId } from '../../../src/directory/dht-records.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { RelayView } from '../../../src/directory/relay-view.ts';
import { verifyDescriptor } from '../../../src/directory/verify-descriptor.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import type { MiniNet } from './mini-net.ts';

const HOUR = 3_600_000;

export function miniRelayView(net: MiniNet): RelayView {
  const v = new RelayView({
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
  for (const r of net.relays) {
    const signed = buildOwnDescriptor({
      identity: r.identity,
      powNonce: 0n,
      onionKeys: [r.onionKeys],
      addresses: r.host.getMultiaddrs().map((ma) => ma.decapsulateCode(421).bytes),
      roles: ['relay', 'exit'],
      bandwidth: 1_000_000,
      exitPolicy: parseExitPolicy(['accept *:*']),
      now: Date.now(),
      lifetimeMs: HOUR,
    });
    assert.equal(v.offer(r.peerId, signed.bytes), 'added');
  }
  return v;
}
