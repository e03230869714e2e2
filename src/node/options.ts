// Each subsystem's options, read from the node's configuration (as Lodestar's node/options.ts): the one
// place where a config field meets the subsystem that uses it.
import type { ApiServerOptions } from '../api/api-subsystem.ts';
import { type ClientOptions, defaultClientOptions } from '../circuit/client-subsystem.ts';
import type { RelaySubsystemOptions } from '../circuit/relay-subsystem.ts';
import type { NodeConfig } from '../config/schema.ts';
import { channelLimitsOf, proxiesOptionsOf } from '../config/subsystem-options.ts';
import type { RelayProgressOptions } from '../daemon/bootstrap-subsystem.ts';
import { files } from '../daemon/data-dir.ts';
import type { IdentityOptions } from '../daemon/identity-subsystem.ts';
import type { DescriptorCheckOptions } from '../directory/descriptor-checks.ts';
import type { DirectoryOptions } from '../directory/directory-subsystem.ts';
import type { DiscoveryOptions } from '../directory/discovery-subsystem.ts';
import type { PublishOptions } from '../directory/publish-subsystem.ts';
import type { EconomyOptions } from '../economy/economy-subsystem.ts';
import type { P2pSubsystemOptions } from '../p2p/p2p-subsystem.ts';
import type { ProxyOptions } from '../proxy/proxy-subsystem.ts';
import type { ExitSubsystemOptions } from '../stream/exit-subsystem.ts';
import { VERSION } from '../version.ts';

export interface SubsystemOptions {
  readonly dataDir: string;
  readonly identity: IdentityOptions;
  readonly descriptors: DescriptorCheckOptions;
  readonly p2p: P2pSubsystemOptions;
  readonly directory: DirectoryOptions;
  readonly publishing: PublishOptions;
  readonly discovery: DiscoveryOptions;
  readonly exit: ExitSubsystemOptions;
  readonly relay: RelaySubsystemOptions;
  readonly economy: EconomyOptions;
  readonly client: ClientOptions;
  readonly proxy: ProxyOptions;
  readonly bootstrap: Omit<RelayProgressOptions, 'keepCircuits'>;
  readonly api: ApiServerOptions;
}

/** Whether the node relays; without the relay role it is a client only (docs/economy.md, "Roles and keys"). */
export const isRelay = (config: Pick<NodeConfig, 'relay'>): boolean => config.relay.roles.includes('relay');

export function subsystemOptions(config: NodeConfig): SubsystemOptions {
  const { dataDir, directory: d, p2p, relay, circuits, exit } = config;
  const relays = isRelay(config);
  return {
    dataDir,
    identity: { ...d, dataDir },
    descriptors: d,
    p2p: {
      ...p2p,
      agentVersion: `anonnet/${VERSION}`,
      // A client serves neither the DHT nor libp2p's relaying of others' connections: both would
      // make it a visible piece of the network's infrastructure.
      dhtClientMode: !relays,
      nat: { ...p2p.nat, relayServer: p2p.nat.relayServer && relays },
    },
    directory: { ...d, dataDir, storeFile: files.relayView },
    publishing: {
      ...relay,
      descriptorLifetimeMs: d.descriptorLifetimeMs,
      allowPrivateAddresses: p2p.allowPrivateAddresses,
    },
    discovery: { walkIntervalMs: d.walkIntervalMs, minPeers: p2p.minPeers, bootstrap: p2p.bootstrap },
    exit: { ...exit, roles: relay.roles, exitPolicy: relay.exitPolicy },
    relay: {
      acceptCircuits: relays,
      channels: channelLimitsOf(config.channels),
      limits: relay.limits,
      allowPrivateAddresses: p2p.allowPrivateAddresses,
      allowSameSubnet: circuits.allowSameSubnet,
      allowLoopback: exit.allowLoopback,
    },
    economy: {
      relay: relay.roles.includes('relay'),
      dataDir,
      testnet: p2p.allowPrivateAddresses && circuits.allowSameSubnet && exit.allowLoopback,
    },
    client: { ...defaultClientOptions, ...circuits, dataDir, guardsFile: files.guards },
    proxy: proxiesOptionsOf(config.proxy),
    bootstrap: { minRelays: d.minRelays },
    api: config.api,
  };
}
