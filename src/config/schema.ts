// The daemon's configuration: one zod schema validates the config file, the environment and the flags,
// so a bad value is refused at start with the field it came from named.
import { z } from 'zod';
import { defaultAdmissionLimits as relayLimit } from '../circuit/admission-limits.ts';
import { defaultPathLimits } from '../circuit/path-selection.ts';
import { DEFAULT_POW_DIFFICULTY } from '../crypto/pow.ts';
import { defaultRelayProberOptions } from '../directory/prober.ts';
import { defaultRelayViewLimits } from '../directory/relay-view.ts';
import { defaultConnectionLimits } from '../p2p/connection-limits.ts';
import { defaultExitLimits } from '../stream/exit-limits.ts';

const multiaddr = z
  .string()
  .regex(/^\/(ip4|ip6|dns|dns4|dns6)\//, 'must be a multiaddr such as /ip4/1.2.3.4/tcp/4950');
const duration = z.number().int().positive();

/** What one relay lets its neighbours hold and spend on circuits (src/circuit/admission-limits.ts). */
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
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    dataDir: z.string().min(1),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
    p2p: z
      .object({
        listen: z.array(multiaddr).default(['/ip4/0.0.0.0/tcp/4950', '/ip4/0.0.0.0/udp/4950/quic-v1']),
        bootstrap: z
          .array(multiaddr.regex(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/, 'must end in /p2p/<peer id>'))
          .default([]),
        transports: z
          .array(z.enum(['tcp', 'quic']))
          .min(1)
          .default(['tcp', 'quic']),
        /** The peer keeper dials known relays while fewer than this many are connected. */
        minPeers: z.number().int().min(0).max(1000).default(20),
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
        allowPrivateAddresses: z.boolean().default(false),
        /** New inbound connections accepted per remote host per second (a local testnet needs more). */
        inboundPerHostPerSecond: z.number().int().min(1).max(10_000).default(5),
        nat: z
          .object({
            autonat: z.boolean().default(true),
            dcutr: z.boolean().default(true),
            relayClient: z.boolean().default(true),
            relayServer: z.boolean().default(true),
            upnp: z.boolean().default(true),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    relay: z
      .object({
        roles: z.array(z.enum(['relay', 'exit', 'validator'])).default(['relay']),
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
        hops: z.number().int().min(1).max(8).default(3),
        /** Clean circuits built ahead so a new request does not wait for a build. */
        prebuilt: z.number().int().min(0).max(32).default(2),
        buildTimeoutMs: duration.default(15_000),
        guards: z.number().int().min(1).max(10).default(3),
        /** Allow two relays of one circuit in one /16 (a network on loopback needs this). */
        allowSameSubnet: z.boolean().default(false),
        /** A relay's claimed bandwidth weighs at most this many times the median claim (docs/security.md 10). */
        unmeasuredWeightCap: z.number().min(1).max(100).default(defaultPathLimits.unmeasuredWeightCap),
      })
      .strict()
      .prefault({}),
    channels: z
      .object({
        /**
         * Memory for the cells queued on all channels together, in MiB (Tor's MaxMemInQueues); above
         * it the circuits holding the most queued cells are closed until 10% is free again.
         */
        maxQueuedMiB: z.number().int().min(1).max(1_048_576).default(512),
        /**
         * Cells one circuit may queue towards one neighbour: flow control keeps an honest circuit
         * under 1000 DATA cells plus a few control cells, so more means it cheats and it is closed.
         */
        maxCircuitQueueCells: z.number().int().min(1_200).max(1_000_000).default(2_000),
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
        host: z.string().default('127.0.0.1'),
        /** SOCKS5/SOCKS4a port; null turns the proxy off. */
        socksPort: z.number().int().min(0).max(65535).nullable().default(9050),
        /** HTTP proxy port; null turns it off. */
        httpPort: z.number().int().min(0).max(65535).nullable().default(8118),
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
        maxDescriptorLifetimeMs: duration.default(24 * 60 * 60 * 1000),
        maxClockSkewMs: duration.default(5 * 60 * 1000),
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
        probeIntervalMs: z.number().int().min(0).default(defaultRelayProberOptions.intervalMs),
      })
      .strict()
      .prefault({}),
    ledger: z
      .object({
        /** The network's genesis document (JSON); without one the node runs no ledger. */
        genesis: z.string().min(1).nullable().default(null),
        /** Base round timeout; each later round of one height waits timeoutDeltaMs longer. */
        timeoutProposeMs: duration.default(3_000),
        timeoutDeltaMs: duration.default(500),
        /** Mempool admission (unset: the defaults of src/consensus/mempool.ts). */
        mempool: z
          .object({
            maxTxs: z.number().int().min(1).max(1_000_000).optional(),
            maxBytes: z.number().int().min(4096).optional(),
            maxPerSender: z.number().int().min(1).max(10_000).optional(),
            /** Queued per sender while an earlier nonce is missing. */
            maxGappedPerSender: z.number().int().min(0).max(10_000).optional(),
            maxGappedTxs: z.number().int().min(0).max(1_000_000).optional(),
            /** Claims of starting credits, outside maxTxs. */
            maxClaims: z.number().int().min(1).max(1_000_000).optional(),
          })
          .strict()
          .prefault({}),
        /** What one ledger peer may send and ask (unset: src/consensus/net/ledger-net.ts, ledger-limits.ts). */
        peerLimits: z
          .object({
            framesPerSecond: z.number().int().min(1).optional(),
            bytesPerSecond: z.number().int().min(1024).optional(),
            totalFramesPerSecond: z.number().int().min(1).optional(),
            totalBytesPerSecond: z.number().int().min(1024).optional(),
            syncAnswersPerSecond: z.number().min(0.01).optional(),
            totalSyncAnswersPerSecond: z.number().min(0.01).optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
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
