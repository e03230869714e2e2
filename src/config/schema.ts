// The daemon's configuration: one zod schema validates the config file, the environment and the flags,
// so a bad value is refused at start with the field it came from named. A subsystem's default is
// written once, in its `defaultX` beside it; the schema takes it from there. Only values that belong
// to the daemon alone (roles, ports, lifetimes of what it publishes) have their default here.
import { z } from 'zod';
import { defaultChannelLimits as channel } from '../circuit/channel-limits.ts';
import { defaultCircuitManagerOptions as circuit } from '../circuit/circuit-manager.ts';
import { defaultGuardOptions } from '../circuit/guards.ts';
import { defaultRelayLimits as relayLimit } from '../circuit/relay-service.ts';
import { defaultTimeouts } from '../consensus/engine.ts';
import { defaultHeightClaimOptions as heightClaim } from '../consensus/height-claims.ts';
import {
  defaultRelayLimits as ledgerRelay,
  defaultSyncAnswerLimits as sync,
} from '../consensus/ledger-limits.ts';
import { defaultMempoolOptions as mempool } from '../consensus/mempool.ts';
import { defaultLedgerPeerLimits as ledgerPeer } from '../consensus/net/ledger-net.ts';
import { DEFAULT_POW_DIFFICULTY } from '../crypto/pow.ts';
import { defaultRelayProberOptions as prober } from '../directory/prober.ts';
import { defaultRelayViewLimits } from '../directory/relay-view.ts';
import { defaultDescriptorTimeLimits } from '../directory/verify-descriptor.ts';
import { defaultConnectionLimits } from '../p2p/connection-limits.ts';
import { defaultP2pOptions as p2p } from '../p2p/options.ts';
import { defaultHttpProxyOptions } from '../proxy/http-proxy.ts';
import { defaultSocksServerOptions } from '../proxy/socks-server.ts';
import { defaultExitLimits } from '../stream/exit-limits.ts';

const MiB = 1024 * 1024;

const multiaddr = z
  .string()
  .regex(/^\/(ip4|ip6|dns|dns4|dns6)\//, 'must be a multiaddr such as /ip4/1.2.3.4/tcp/4950');
const duration = z.number().int().positive();

/** What one relay lets its neighbours hold and spend on circuits (RelayLimits, src/circuit/relay-service.ts). */
const relayLimits = z
  .object({
    maxCircuits: z.number().int().min(1).max(1_000_000).default(relayLimit.maxCircuits),
    maxCircuitsPerPeer: z.number().int().min(1).max(1_000_000).default(relayLimit.maxCircuitsPerPeer),
    maxCircuitsPerIp: z.number().int().min(1).max(1_000_000).default(relayLimit.maxCircuitsPerIp),
    ipv4PrefixBits: z.number().int().min(8).max(32).default(relayLimit.ipv4PrefixBits),
    ipv6PrefixBits: z.number().int().min(16).max(128).default(relayLimit.ipv6PrefixBits),
    createRatePerPeer: z.number().positive().max(100_000).default(relayLimit.createRatePerPeer),
    createBurstPerPeer: z.number().int().min(1).max(100_000).default(relayLimit.createBurstPerPeer),
    createRateGlobal: z.number().positive().max(1_000_000).default(relayLimit.createRateGlobal),
    createBurstGlobal: z.number().int().min(1).max(1_000_000).default(relayLimit.createBurstGlobal),
    /** At least 5 s: an honest client's first cell follows CREATED within one round trip. */
    unusedCircuitTimeoutMs: duration.min(5_000).default(relayLimit.unusedCircuitTimeoutMs),
    /** At least 10 min: clients keep idle circuits alive with a DROP cell every 4 minutes. */
    idleCircuitTimeoutMs: duration.min(600_000).default(relayLimit.idleCircuitTimeoutMs),
    handshakeQueueMax: z.number().int().min(1).max(100_000).default(relayLimit.handshakeQueueMax),
    handshakeQueuePerPeer: z.number().int().min(1).max(100_000).default(relayLimit.handshakeQueuePerPeer),
    maxQueueDelayMs: duration.default(relayLimit.maxQueueDelayMs),
    handshakeSliceMs: duration.max(1_000).default(relayLimit.handshakeSliceMs),
    maxChannelsPerConnection: z.number().int().min(1).max(1_024).default(relayLimit.maxChannelsPerConnection),
    /** Streams one circuit may open at this relay when it is the circuit's exit. */
    maxStreamsPerCircuit: z.number().int().min(1).max(65_535).default(relayLimit.maxStreamsPerCircuit),
    /** A circuit that has sent no CREATE this long after it opened is dropped; an EXTEND gives up after extendTimeoutMs. */
    createTimeoutMs: duration.default(relayLimit.createTimeoutMs),
    extendTimeoutMs: duration.default(relayLimit.extendTimeoutMs),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    dataDir: z.string().min(1),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
    p2p: z
      .object({
        listen: z.array(multiaddr).default(() => [...p2p.listen]),
        bootstrap: z
          .array(multiaddr.regex(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/, 'must end in /p2p/<peer id>'))
          .default(() => [...p2p.bootstrap]),
        transports: z
          .array(z.enum(['tcp', 'quic']))
          .min(1)
          .default(() => [...p2p.transports]),
        /** The peer keeper dials known relays while fewer than this many are connected. */
        minPeers: z.number().int().min(0).max(1000).default(p2p.minPeers),
        // Connections accepted are another number than peers kept (src/p2p/connection-limits.ts).
        /** Connections held at most, both directions; new inbound ones are refused past it. */
        maxConnections: z.number().int().min(1).max(100_000).default(defaultConnectionLimits.maxConnections),
        /** Inbound handshakes in progress at once. */
        maxPendingConnections: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(defaultConnectionLimits.maxPendingConnections),
        /** Connections one peer identity may hold. */
        maxConnectionsPerPeer: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(defaultConnectionLimits.maxConnectionsPerPeer),
        /** Inbound connections from one IP address (IPv6: a /64), handshakes included; loopback too. */
        maxConnectionsPerIp: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(defaultConnectionLimits.maxConnectionsPerIp),
        /** Inbound handshakes in progress from one IP address. */
        maxPendingConnectionsPerIp: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(defaultConnectionLimits.maxPendingConnectionsPerIp),
        allowPrivateAddresses: z.boolean().default(p2p.allowPrivateAddresses),
        /** New inbound connections accepted per remote host per second (a local testnet needs more). */
        inboundPerHostPerSecond: z.number().int().min(1).max(10_000).default(p2p.inboundPerHostPerSecond),
        nat: z
          .object({
            autonat: z.boolean().default(p2p.nat.autonat),
            dcutr: z.boolean().default(p2p.nat.dcutr),
            relayClient: z.boolean().default(p2p.nat.relayClient),
            relayServer: z.boolean().default(p2p.nat.relayServer),
            upnp: z.boolean().default(p2p.nat.upnp),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    relay: z
      .object({
        /**
         * What this node does for others. Without 'relay' it is a client only: it publishes nothing
         * about itself, accepts no circuits and queries the DHT without serving it (--client-only).
         */
        roles: z.array(z.enum(['relay', 'exit', 'validator'])).default(['relay']),
        /**
         * The ledger account a relay's earnings go to (64 hex digits); null: this node's wallet.
         * Naming another account keeps the wallet a relay operator spends from apart from the relay.
         */
        payout: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be an account: 64 hex digits')
          .nullable()
          .default(null),
        /** Advertised bandwidth in bytes per second. */
        bandwidth: z
          .number()
          .int()
          .min(0)
          .max(0xffffffff)
          .default(10 * 1024 * 1024),
        /** Tor-style rules, first match wins: "accept *:443", "reject 10.0.0.0/8:*", "accept [::]/0:80-81". */
        exitPolicy: z.array(z.string()).default(['reject *:25', 'accept *:*']),
        /** PeerIds of the other relays this operator runs; counts only where they list us too. */
        family: z.array(z.string()).max(16).default([]),
        /** Circuit slots, CREATE rates, the handshake queue, idle circuits (docs/security.md, 5). */
        limits: relayLimits,
      })
      .strict()
      .prefault({}),
    circuits: z
      .object({
        hops: z.number().int().min(1).max(8).default(circuit.hops),
        /** Clean circuits built ahead so a new request does not wait for a build. */
        prebuilt: z.number().int().min(0).max(32).default(circuit.prebuilt),
        buildTimeoutMs: duration.default(circuit.buildTimeoutMs),
        /** Paths tried for one circuit before its request fails. */
        buildAttempts: z.number().int().min(1).max(20).default(circuit.buildAttempts),
        /** A circuit takes no new streams after this age. */
        maxDirtyMs: duration.default(circuit.maxDirtyMs),
        /** Persistent entry guards, and how long one is kept after it was chosen. */
        guards: z.number().int().min(1).max(10).default(defaultGuardOptions.count),
        guardLifetimeMs: duration.default(defaultGuardOptions.lifetimeMs),
        /** Allow two relays of one circuit in one /16 (a network on loopback needs this). */
        allowSameSubnet: z.boolean().default(circuit.allowSameSubnet),
        /** A relay's claimed bandwidth weighs at most this many times the median claim (docs/security.md 10). */
        unmeasuredWeightCap: z.number().min(1).max(100).default(circuit.unmeasuredWeightCap),
      })
      .strict()
      .prefault({}),
    channels: z
      .object({
        /**
         * Memory for the cells queued on all channels together, in MiB (Tor's MaxMemInQueues); above
         * it the circuits holding the most queued cells are closed until 10% is free again.
         */
        maxQueuedMiB: z
          .number()
          .int()
          .min(1)
          .max(1_048_576)
          .default(channel.maxQueuedBytes / MiB),
        /**
         * Cells one circuit may queue towards one neighbour: flow control keeps an honest circuit
         * under 1000 DATA cells plus a few control cells, so more means it cheats and it is closed.
         */
        maxCircuitQueueCells: z
          .number()
          .int()
          .min(1_200)
          .max(1_000_000)
          .default(channel.maxCircuitQueueCells),
        /** Queued cells at which the streams this node feeds into a circuit wait, and resume (channel-limits.ts). */
        circuitHighWaterCells: z.number().int().min(2).max(1_000).default(channel.circuitHighWaterCells),
        circuitLowWaterCells: z.number().int().min(1).max(1_000).default(channel.circuitLowWaterCells),
        /** Half-life of a circuit's recent cell count, by which the quietest circuit is sent first. */
        ewmaHalfLifeMs: duration.default(channel.ewmaHalfLifeMs),
        /** Cells handed to the stream in one write. */
        batchCells: z.number().int().min(1).max(4_096).default(channel.batchCells),
        /** Channel-level cells queued for a peer that is not reading. */
        maxControlCells: z.number().int().min(1).max(100_000).default(channel.maxControlCells),
      })
      .strict()
      .prefault({}),
    exit: z
      .object({
        /** Let exit streams reach 127.0.0.0/8 and ::1 (local test networks only). */
        allowLoopback: z.boolean().default(false),
        connectTimeoutMs: duration.default(10_000),
        // What circuits may make this exit hold (src/stream/exit-limits.ts; docs/security.md, section 9).
        /** Exit sockets the process may hold at once (its file-descriptor budget for exits). */
        maxSockets: z.number().int().min(1).max(1_000_000).default(defaultExitLimits.maxSockets),
        /** One circuit's share of maxSockets. */
        maxSocketsPerCircuit: z.number().int().min(1).default(defaultExitLimits.maxSocketsPerCircuit),
        /** A circuit's share once three quarters of maxSockets are in use. */
        busySocketsPerCircuit: z.number().int().min(1).default(defaultExitLimits.busySocketsPerCircuit),
        /** BEGINs and RESOLVEs a circuit may send at once, then per second. */
        beginBurst: z.number().int().min(1).default(defaultExitLimits.beginBurst),
        beginsPerSecond: z.number().positive().default(defaultExitLimits.beginsPerSecond),
        /** Refusals of its own making after which a circuit is closed. */
        maxRefusalsPerCircuit: z.number().int().min(0).default(defaultExitLimits.maxRefusalsPerCircuit),
        /** Name lookups in flight, in the process and per circuit. */
        maxLookups: z.number().int().min(1).default(defaultExitLimits.maxLookups),
        maxLookupsPerCircuit: z.number().int().min(1).default(defaultExitLimits.maxLookupsPerCircuit),
        /** Bytes one circuit's streams may buffer at the exit, both ways together. */
        maxBufferedPerCircuit: z.number().int().min(65_536).default(defaultExitLimits.maxBufferedPerCircuit),
      })
      .strict()
      .prefault({}),
    proxy: z
      .object({
        host: z.string().default(defaultSocksServerOptions.host),
        /** SOCKS5/SOCKS4a port; null turns the proxy off. */
        socksPort: z.number().int().min(0).max(65535).nullable().default(defaultSocksServerOptions.port),
        /** HTTP proxy port; null turns it off. */
        httpPort: z.number().int().min(0).max(65535).nullable().default(defaultHttpProxyOptions.port),
        /** Client connections each proxy holds at once; more are closed at accept. */
        maxConnections: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(defaultSocksServerOptions.maxConnections),
        /** A client that has not finished its request by then is closed. */
        handshakeTimeoutMs: duration.default(defaultSocksServerOptions.handshakeTimeoutMs),
        /** From a request to an open stream through a circuit. */
        openTimeoutMs: duration.default(defaultSocksServerOptions.openTimeoutMs),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        /** Control API and dashboard port; null turns it off. */
        port: z.number().int().min(0).max(65535).nullable().default(9080),
        /** Binding to a non-loopback address must be asked for explicitly. */
        allowNonLoopback: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    directory: z
      .object({
        /** How long a published descriptor stays valid; it is republished after a third of that. */
        descriptorLifetimeMs: duration.default(60 * 60 * 1000),
        /** Longest descriptor lifetime accepted from others. */
        maxDescriptorLifetimeMs: duration.default(defaultDescriptorTimeLimits.maxLifetimeMs),
        maxClockSkewMs: duration.default(defaultDescriptorTimeLimits.maxClockSkewMs),
        onionKeyLifetimeMs: duration.default(7 * 24 * 60 * 60 * 1000),
        /** Leading zero bits required of every identity's proof-of-work, ours and others' (docs/security.md 11). */
        powDifficulty: z.number().int().min(0).max(32).default(DEFAULT_POW_DIFFICULTY),
        /** Pause between random walks of the DHT that look for relays. */
        walkIntervalMs: duration.default(30_000),
        /** Relays to know before bootstrap reports 100%. */
        minRelays: z.number().int().min(1).default(3),
        /** Relays held in the view at most, and at most per network (IPv4 /16, IPv6 /32). */
        maxRelays: z.number().int().min(1).max(1_000_000).default(defaultRelayViewLimits.maxRelays),
        maxRelaysPerSubnet: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(defaultRelayViewLimits.maxPerSubnet),
        /** Pause between probes of relays known only from their descriptors; 0 turns probing off. */
        probeIntervalMs: z.number().int().min(0).default(prober.intervalMs),
        /** A probe that has not connected by then failed; a failed relay is probed again after the base, doubled per failure. */
        probeTimeoutMs: duration.default(prober.timeoutMs),
        probeRetryBaseMs: duration.default(prober.retryBaseMs),
      })
      .strict()
      .prefault({}),
    ledger: z
      .object({
        /** The network's genesis document (JSON); without one the node runs no ledger. */
        genesis: z.string().min(1).nullable().default(null),
        /** Base round timeout; each later round of one height waits timeoutDeltaMs longer. */
        timeoutProposeMs: duration.default(defaultTimeouts.proposeMs),
        timeoutDeltaMs: duration.default(defaultTimeouts.deltaMs),
        /** Mempool admission (src/consensus/mempool.ts). */
        mempool: z
          .object({
            maxTxs: z.number().int().min(1).max(1_000_000).default(mempool.maxTxs),
            maxBytes: z.number().int().min(4096).default(mempool.maxBytes),
            maxPerSender: z.number().int().min(1).max(10_000).default(mempool.maxPerSender),
            /** Queued per sender while an earlier nonce is missing. */
            maxGappedPerSender: z.number().int().min(0).max(10_000).default(mempool.maxGappedPerSender),
            maxGappedTxs: z.number().int().min(0).max(1_000_000).default(mempool.maxGappedTxs),
            /** Claims of starting credits, outside maxTxs. */
            maxClaims: z.number().int().min(1).max(1_000_000).default(mempool.maxClaims),
            /** Blocks a transaction may wait before it is dropped. */
            maxAgeBlocks: z.number().int().min(1).max(1_000_000).default(mempool.maxAgeBlocks),
            /** Committed or dropped transaction ids remembered for status queries. */
            recentMemory: z.number().int().min(0).max(10_000_000).default(mempool.recentMemory),
          })
          .strict()
          .prefault({}),
        /** What one ledger peer may send and ask (src/consensus/net/ledger-net.ts, ledger-limits.ts). */
        peerLimits: z
          .object({
            framesPerSecond: z.number().int().min(1).default(ledgerPeer.framesPerSecond),
            bytesPerSecond: z.number().int().min(1024).default(ledgerPeer.bytesPerSecond),
            totalFramesPerSecond: z.number().int().min(1).default(ledgerPeer.totalFramesPerSecond),
            totalBytesPerSecond: z.number().int().min(1024).default(ledgerPeer.totalBytesPerSecond),
            /** A peer's frame buckets hold this many seconds of its rate. */
            burstSeconds: z.number().positive().max(3_600).default(ledgerPeer.burstSeconds),
            syncAnswersPerSecond: z.number().min(0.01).default(sync.answersPerSecond),
            totalSyncAnswersPerSecond: z.number().min(0.01).default(sync.totalAnswersPerSecond),
            syncBytesPerSecond: z.number().int().min(1024).default(sync.bytesPerSecond),
            totalSyncBytesPerSecond: z.number().int().min(1024).default(sync.totalBytesPerSecond),
            syncBurstSeconds: z.number().positive().max(3_600).default(sync.burstSeconds),
            /** One sync answer stops before the block that would take it past this. */
            maxSyncAnswerBytes: z.number().int().min(65_536).default(sync.maxAnswerBytes),
          })
          .strict()
          .prefault({}),
        /** Heights peers claim to have (src/consensus/height-claims.ts). */
        heightClaims: z
          .object({
            ttlMs: duration.default(heightClaim.ttlMs),
            penaltyMs: duration.default(heightClaim.penaltyMs),
            maxPenaltyMs: duration.default(heightClaim.maxPenaltyMs),
            maxPeers: z.number().int().min(1).max(1_000_000).default(heightClaim.maxPeers),
          })
          .strict()
          .prefault({}),
        /** Relaying of verified proposals and votes (RelayLimits, src/consensus/ledger-limits.ts). */
        relay: z
          .object({
            maxRoundsAhead: z.number().int().min(0).max(1_000).default(ledgerRelay.maxRoundsAhead),
            maxSlots: z.number().int().min(1).max(10_000_000).default(ledgerRelay.maxSlots),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const roles = c.relay.roles;
    if (!roles.includes('relay') && roles.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay', 'roles'],
        message: `${roles.join(', ')} needs the relay role too (no roles at all: a client only)`,
      });
    }
    if (!roles.includes('relay') && c.relay.payout !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['relay', 'payout'],
        message: 'only a relay has a payout account (relay.roles has no relay)',
      });
    }
    if (c.p2p.minPeers > c.p2p.maxConnections) {
      ctx.addIssue({
        code: 'custom',
        path: ['p2p', 'minPeers'],
        message: 'must not exceed p2p.maxConnections',
      });
    }
    const loopback = (h: string) =>
      h === '127.0.0.1' || h === '::1' || h === 'localhost' || h.startsWith('127.');
    if (!loopback(c.api.host) && !c.api.allowNonLoopback) {
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'host'],
        message:
          'not a loopback address: set api.allowNonLoopback (flag --api-allow-remote) to expose the API',
      });
    }
    if (!loopback(c.proxy.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['proxy', 'host'],
        message: 'the proxies listen on loopback only',
      });
    }
    if (c.channels.circuitLowWaterCells >= c.channels.circuitHighWaterCells) {
      ctx.addIssue({
        code: 'custom',
        path: ['channels', 'circuitLowWaterCells'],
        message: 'must be below channels.circuitHighWaterCells',
      });
    }
    if (c.directory.descriptorLifetimeMs > c.directory.maxDescriptorLifetimeMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['directory', 'descriptorLifetimeMs'],
        message: 'must not exceed directory.maxDescriptorLifetimeMs',
      });
    }
  });

export type NodeConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
