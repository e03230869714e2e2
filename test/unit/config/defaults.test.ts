// The config's defaults are the subsystems' own (one source): an empty config gives every subsystem
// exactly its `defaultX`, and the values node.ts once wrote by hand are fields now.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultChannelLimits } from '../../../src/circuit/channel-limits.ts';
import { defaultCircuitManagerOptions } from '../../../src/circuit/circuit-manager.ts';
import { defaultGuardOptions } from '../../../src/circuit/guards.ts';
import { defaultRelayLimits as defaultRelayServiceLimits } from '../../../src/circuit/relay-service.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { channelLimitsOf, proxiesOptionsOf } from '../../../src/config/subsystem-options.ts';
import { defaultTimeouts } from '../../../src/consensus/engine.ts';
import { defaultHeightClaimOptions } from '../../../src/consensus/height-claims.ts';
import { defaultRelayLimits, defaultSyncAnswerLimits } from '../../../src/consensus/ledger-limits.ts';
import { defaultMempoolOptions } from '../../../src/consensus/mempool.ts';
import { defaultLedgerPeerLimits } from '../../../src/consensus/net/ledger-net.ts';
import { defaultRelayProberOptions } from '../../../src/directory/prober.ts';
import { defaultRelayViewLimits } from '../../../src/directory/relay-view.ts';
import { defaultDescriptorTimeLimits } from '../../../src/directory/verify-descriptor.ts';
import { defaultP2pOptions } from '../../../src/p2p/options.ts';
import { defaultHttpProxyOptions } from '../../../src/proxy/http-proxy.ts';
import { defaultSocksServerOptions } from '../../../src/proxy/socks-server.ts';
import { defaultExitLimits } from '../../../src/stream/exit-limits.ts';

const c = loadConfig({ flags: { dataDir: '/d' } });

describe('config defaults come from the subsystems', () => {
  it('p2p', () => {
    const { dhtProtocol: _, ...p2p } = defaultP2pOptions;
    assert.deepEqual(c.p2p, p2p);
  });

  it('relay limits, exit limits, channels', () => {
    const { exemptLoopbackFromIpShare: _, ...relayLimits } = defaultRelayServiceLimits;
    assert.deepEqual(c.relay.limits, relayLimits);
    const { allowLoopback: _a, connectTimeoutMs: _t, ...exit } = c.exit;
    assert.deepEqual(exit, defaultExitLimits);
    assert.deepEqual(channelLimitsOf(c.channels), defaultChannelLimits);
  });

  it('circuits and guards, including what node.ts once wrote by hand', () => {
    const { guards, guardLifetimeMs, ...circuits } = c.circuits;
    assert.deepEqual(circuits, defaultCircuitManagerOptions);
    assert.deepEqual({ count: guards, lifetimeMs: guardLifetimeMs }, defaultGuardOptions);
    assert.equal(c.circuits.buildAttempts, 3);
    assert.equal(c.circuits.maxDirtyMs, 10 * 60_000);
    assert.equal(c.circuits.guardLifetimeMs, 60 * 24 * 3600_000);
  });

  it('directory and proxies', () => {
    assert.equal(c.directory.maxDescriptorLifetimeMs, defaultDescriptorTimeLimits.maxLifetimeMs);
    assert.equal(c.directory.maxClockSkewMs, defaultDescriptorTimeLimits.maxClockSkewMs);
    assert.equal(c.directory.maxRelays, defaultRelayViewLimits.maxRelays);
    assert.equal(c.directory.maxRelaysPerSubnet, defaultRelayViewLimits.maxPerSubnet);
    assert.deepEqual(
      {
        intervalMs: c.directory.probeIntervalMs,
        timeoutMs: c.directory.probeTimeoutMs,
        retryBaseMs: c.directory.probeRetryBaseMs,
      },
      defaultRelayProberOptions,
    );
    assert.equal(c.proxy.host, defaultSocksServerOptions.host);
    assert.equal(c.proxy.socksPort, defaultSocksServerOptions.port);
    assert.equal(c.proxy.httpPort, defaultHttpProxyOptions.port);
    // One proxy section for both: the same values as each proxy's own defaults.
    const { socks, http } = proxiesOptionsOf(c.proxy);
    for (const [opts, own] of [
      [socks, defaultSocksServerOptions],
      [http, defaultHttpProxyOptions],
    ] as const) {
      for (const [k, v] of Object.entries(opts ?? {})) assert.equal(v, own[k as keyof typeof own], k);
    }
    const off = proxiesOptionsOf({ ...c.proxy, socksPort: null });
    assert.equal(off.socks, undefined);
    assert.equal(off.http?.port, defaultHttpProxyOptions.port);
  });

  it('ledger: timeouts, mempool, peers, sync, height claims, relaying', () => {
    assert.equal(c.ledger.timeoutProposeMs, defaultTimeouts.proposeMs);
    assert.equal(c.ledger.timeoutDeltaMs, defaultTimeouts.deltaMs);
    assert.deepEqual(c.ledger.mempool, defaultMempoolOptions);
    assert.deepEqual(c.ledger.heightClaims, defaultHeightClaimOptions);
    assert.deepEqual(c.ledger.relay, defaultRelayLimits);
    const p = c.ledger.peerLimits;
    assert.deepEqual(
      {
        framesPerSecond: p.framesPerSecond,
        bytesPerSecond: p.bytesPerSecond,
        totalFramesPerSecond: p.totalFramesPerSecond,
        totalBytesPerSecond: p.totalBytesPerSecond,
        burstSeconds: p.burstSeconds,
      },
      defaultLedgerPeerLimits,
    );
    assert.deepEqual(
      {
        answersPerSecond: p.syncAnswersPerSecond,
        totalAnswersPerSecond: p.totalSyncAnswersPerSecond,
        bytesPerSecond: p.syncBytesPerSecond,
        totalBytesPerSecond: p.totalSyncBytesPerSecond,
        burstSeconds: p.syncBurstSeconds,
        maxAnswerBytes: p.maxSyncAnswerBytes,
      },
      defaultSyncAnswerLimits,
    );
  });

  it('defaults are copies: changing one config does not change the next', () => {
    c.p2p.listen.push('/ip4/9.9.9.9/tcp/9');
    assert.deepEqual(loadConfig({ flags: { dataDir: '/d' } }).p2p.listen, defaultP2pOptions.listen);
  });

  it('channels: the low-water mark must be below the high-water mark', () => {
    assert.throws(
      () => loadConfig({ flags: { dataDir: '/d', channels: { circuitLowWaterCells: 128 } } }),
      /channels\.circuitLowWaterCells/,
    );
  });
});
