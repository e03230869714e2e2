// `anonnet node`: runs the daemon in the foreground until SIGINT/SIGTERM.

import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, defaultDataDir, loadConfig, mergeConfig } from '../config/load.ts';
import { configSchema } from '../config/schema.ts';
import { files } from '../daemon/data-dir.ts';
import { DaemonError } from '../daemon/errors.ts';
import { createLogger, type LogLevel } from '../log/logger.ts';
import { type AnonNode, startNode } from '../node.ts';
import { assertDeepConfig, configSummary } from './check-config.ts';
import { addConfigFieldOptions, configFromFieldFlags } from './config-flags.ts';
import { ProgressDisplay } from './progress-display.ts';

export interface NodeFlags {
  /** The generated flag of every config field (config-flags.ts), by commander attribute name. */
  [fieldFlag: string]: unknown;
  config?: string;
  checkConfig?: boolean;
  dataDir?: string;
  listen?: string[];
  bootstrap?: string[];
  transports?: string;
  minPeers?: number;
  maxConnections?: number;
  maxConnectionsPerPeer?: number;
  maxConnectionsPerIp?: number;
  maxPendingPerIp?: number;
  roles?: string;
  clientOnly?: boolean;
  payout?: string;
  bandwidth?: number;
  exitPolicy?: string[];
  family?: string;
  powDifficulty?: number;
  descriptorLifetime?: number;
  walkInterval?: number;
  minRelays?: number;
  allowPrivateAddresses?: boolean;
  inboundPerHost?: number;
  upnp?: boolean;
  nat?: boolean;
  logLevel?: string;
  logFile?: string;
  socksPort?: number;
  httpPort?: number;
  apiPort?: number;
  apiHost?: string;
  apiAllowRemote?: boolean;
  socks?: boolean;
  httpProxy?: boolean;
  api?: boolean;
  hops?: number;
  prebuilt?: number;
  allowSameSubnet?: boolean;
  allowLoopbackExit?: boolean;
  genesis?: string;
  timeoutPropose?: number;
}

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
};
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const csv = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

export function addNodeOptions(cmd: Command): Command {
  // The defaults shown come from the schema, which takes them from the subsystems.
  const d = configSchema.parse({ dataDir: defaultDataDir() });
  cmd
    .option('-c, --config <file>', 'config file (TOML or JSON); env ANONNET_CONFIG')
    .option('--check-config', 'validate the configuration (file, env, flags), print a summary and exit')
    .option('-d, --data-dir <dir>', 'data directory (default ~/.anonnet); env ANONNET_DATA_DIR')
    .option(
      '--listen <multiaddr>',
      'listen address, repeatable; env ANONNET_LISTEN (comma-separated)',
      collect,
    )
    .option(
      '--bootstrap <multiaddr>',
      'bootstrap peer (/.../p2p/<id>), repeatable; env ANONNET_BOOTSTRAP',
      collect,
    )
    .option('--transports <list>', 'transports in dial preference order, e.g. tcp,quic')
    .option('--min-peers <n>', 'dial known relays while fewer than this many are connected', int)
    .option('--max-connections <n>', `connections held at most (default ${d.p2p.maxConnections})`, int)
    .option(
      '--max-connections-per-peer <n>',
      `connections one peer may hold (default ${d.p2p.maxConnectionsPerPeer})`,
      int,
    )
    .option(
      '--max-connections-per-ip <n>',
      `inbound connections from one IP address (default ${d.p2p.maxConnectionsPerIp})`,
      int,
    )
    .option(
      '--max-pending-per-ip <n>',
      `inbound handshakes in progress from one IP address (default ${d.p2p.maxPendingConnectionsPerIp})`,
      int,
    )
    .option('--roles <list>', "roles: relay,exit,validator ('' = a client only)")
    .option(
      '--client-only',
      'no roles: relay nothing, publish nothing about this node, accept no circuits (same as --roles "")',
    )
    .option(
      '--payout <account>',
      "the ledger account (64 hex digits) a relay's earnings go to (default: this node's wallet)",
    )
    .option('--bandwidth <bytesPerSecond>', 'advertised relay bandwidth', int)
    .option('--family <peerIds>', 'comma-separated PeerIds of the other relays you run (relay family)')
    .option(
      '--exit-policy <rule>',
      'exit policy rule, repeatable, first match wins ("accept *:443")',
      collect,
    )
    .option('--pow-difficulty <bits>', 'identity proof-of-work difficulty required of every node', int)
    .option('--descriptor-lifetime <ms>', 'lifetime of our published descriptor', int)
    .option('--walk-interval <ms>', 'pause between DHT random walks', int)
    .option('--min-relays <n>', 'relays to know before bootstrap is 100%', int)
    .option('--allow-private-addresses', 'keep private/loopback addresses (local test networks)')
    .option('--inbound-per-host <n>', 'new inbound connections accepted per remote host per second', int)
    .option('--no-upnp', 'do not map ports with UPnP')
    .option('--no-nat', 'disable all NAT traversal (autonat, dcutr, circuit relay, UPnP)')
    .option(
      '--socks-port <port>',
      `SOCKS5/SOCKS4a proxy port on 127.0.0.1 (default ${d.proxy.socksPort})`,
      int,
    )
    .option('--http-port <port>', `HTTP proxy port on 127.0.0.1 (default ${d.proxy.httpPort})`, int)
    .option('--api-port <port>', `control API port on 127.0.0.1 (default ${d.api.port})`, int)
    .option('--api-host <host>', `control API address (default ${d.api.host})`)
    .option('--api-allow-remote', 'allow --api-host to be a non-loopback address (logged as a warning)')
    .option('--no-socks', 'no SOCKS proxy')
    .option('--no-http-proxy', 'no HTTP proxy')
    .option('--no-api', 'no control API')
    .option('--hops <n>', `relays per circuit (default ${d.circuits.hops})`, int)
    .option('--prebuilt <n>', `circuits built ahead of requests (default ${d.circuits.prebuilt})`, int)
    .option('--allow-same-subnet', 'allow two relays of a circuit in one /16 (local test networks)')
    .option('--allow-loopback-exit', 'let this exit reach 127.0.0.0/8 (local test networks)')
    .option('--genesis <file>', "the ledger's genesis document (JSON); without one, no ledger")
    .option(
      '--timeout-propose <ms>',
      `base consensus round timeout (default ${d.ledger.timeoutProposeMs})`,
      int,
    )
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent; env ANONNET_LOG_LEVEL')
    .option('--log-file <path>', 'write logs to this file instead of stderr');
  return addConfigFieldOptions(cmd);
}

/** --client-only is --roles '' (a client only): given with --roles that name a role, it is a mistake. */
function rolesOf(f: NodeFlags): string[] | undefined {
  const roles = csv(f.roles);
  if (f.clientOnly !== true) return roles;
  if (roles !== undefined && roles.length > 0)
    throw new ConfigError(`--client-only and --roles ${f.roles} contradict each other`);
  return [];
}

/** Flags shaped like the config file, with unset flags left out so they do not override it. */
export function flagsToConfig(f: NodeFlags): Record<string, unknown> {
  const nat =
    f.nat === false
      ? { autonat: false, dcutr: false, relayClient: false, relayServer: false, upnp: false }
      : f.upnp === false
        ? { upnp: false }
        : undefined;
  return {
    dataDir: f.dataDir,
    logLevel: f.logLevel,
    p2p: {
      listen: f.listen,
      bootstrap: f.bootstrap,
      transports: csv(f.transports),
      minPeers: f.minPeers,
      maxConnections: f.maxConnections,
      maxConnectionsPerPeer: f.maxConnectionsPerPeer,
      maxConnectionsPerIp: f.maxConnectionsPerIp,
      maxPendingConnectionsPerIp: f.maxPendingPerIp,
      allowPrivateAddresses: f.allowPrivateAddresses,
      inboundPerHostPerSecond: f.inboundPerHost,
      nat,
    },
    relay: {
      roles: rolesOf(f),
      payout: f.payout,
      bandwidth: f.bandwidth,
      exitPolicy: f.exitPolicy,
      family: csv(f.family),
    },
    proxy: {
      socksPort: f.socks === false ? null : f.socksPort,
      httpPort: f.httpProxy === false ? null : f.httpPort,
    },
    api: {
      port: f.api === false ? null : f.apiPort,
      host: f.apiHost,
      allowNonLoopback: f.apiAllowRemote,
    },
    circuits: { hops: f.hops, prebuilt: f.prebuilt, allowSameSubnet: f.allowSameSubnet },
    exit: { allowLoopback: f.allowLoopbackExit },
    directory: {
      powDifficulty: f.powDifficulty,
      descriptorLifetimeMs: f.descriptorLifetime,
      walkIntervalMs: f.walkInterval,
      minRelays: f.minRelays,
    },
    ledger: { genesis: f.genesis, timeoutProposeMs: f.timeoutPropose },
  };
}

/** In a testnet the parent listens on an IPC channel: report status there, and die with the parent. */
function attachParent(node: AnonNode, shutdown: () => void): void {
  const send = process.send?.bind(process);
  if (send === undefined) return;
  const report = () => {
    if (process.connected) send({ type: 'status', status: node.status() }, undefined, {}, () => {});
  };
  report();
  node.progress.onChange(report);
  node.view.onChange(report);
  setInterval(report, 1_000).unref();
  process.on('disconnect', shutdown);
}

/** The config from file, env and every flag (the named flags above win over the generated ones). */
export function loadNodeConfig(flags: NodeFlags, env: NodeJS.ProcessEnv): ReturnType<typeof loadConfig> {
  const fromFlags = mergeConfig(configFromFieldFlags(flags), flagsToConfig(flags));
  return loadConfig({ file: flags.config, env, flags: fromFlags });
}

export async function runNode(flags: NodeFlags): Promise<void> {
  const display = new ProgressDisplay();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadNodeConfig(flags, process.env);
    if (flags.checkConfig) assertDeepConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`anonnet: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (flags.checkConfig) {
    process.stdout.write(`${configSummary(config)}\n`);
    return;
  }
  // On a terminal the progress bar owns the screen and logs go to the data directory.
  const logFile = flags.logFile ?? (display.isTTY ? join(config.dataDir, files.log) : undefined);
  const log = createLogger({
    level: config.logLevel as LogLevel,
    ...(logFile ? { destination: logFile } : {}),
  });

  const abort = new AbortController();
  let node: AnonNode | undefined;
  let stopping = false;
  const shutdown = () => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    abort.abort();
    log.info('shutting down');
    void (node?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('unhandledRejection', (reason) => {
    // A failed network operation deep in a library must not take the daemon down.
    log.warn({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  });

  try {
    node = await startNode(config, { log, signal: abort.signal });
  } catch (err) {
    if (err instanceof DaemonError || err instanceof ConfigError) {
      process.stderr.write(`anonnet: ${err.message}\n`);
      process.exit(1);
    }
    if (abort.signal.aborted) process.exit(0);
    throw err;
  }
  if (!process.send) {
    display.show(node.progress.current);
    node.progress.onChange((e) => display.show(e));
    if (logFile) display.line(`AnonNet node ${node.peerId} (logs: ${logFile})`);
  }
  attachParent(node, shutdown);
}
