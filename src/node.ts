// The composition root: builds one AnonNet daemon from its subsystems, in order, and stops them in
// reverse. Wiring only: what each part does lives in its factory (src/*/…-subsystem.ts).

import { createApiFeeds, createApiServer } from './api/api-subsystem.ts';
import type { CircuitManager } from './circuit/circuit-manager.ts';
import { createClient } from './circuit/client-subsystem.ts';
import { createRelay } from './circuit/relay-subsystem.ts';
import type { NodeConfig } from './config/schema.ts';
import { type BlockFeed, createLedger } from './consensus/ledger-subsystem.ts';
import { createBootstrapProgress, createRelayProgress } from './daemon/bootstrap-subsystem.ts';
import { openDataDir } from './daemon/data-dir-subsystem.ts';
import type { EventBus } from './daemon/events.ts';
import { createIdentity } from './daemon/identity-subsystem.ts';
import type { BootstrapProgress } from './daemon/progress.ts';
import { Lifecycle } from './daemon/subsystem.ts';
import { createWallet } from './daemon/wallet-subsystem.ts';
import { descriptorVerifier, relayDhtRecords } from './directory/descriptor-checks.ts';
import { createDirectory } from './directory/directory-subsystem.ts';
import { createDiscovery } from './directory/discovery-subsystem.ts';
import { createPublishing } from './directory/publish-subsystem.ts';
import type { RelayView } from './directory/relay-view.ts';
import { createEconomy } from './economy/economy-subsystem.ts';
import type { Logger } from './log/logger.ts';
import { createMetrics, type Metrics } from './metrics/registry.ts';
import { nodeApiSource } from './node/api-source.ts';
import { subsystemOptions } from './node/options.ts';
import { createRelayRegistration } from './node/registration.ts';
import { type NodeStatus, readNodeStatus, type StatusSources } from './node/status.ts';
import { createStatusTicker } from './node/status-file.ts';
import type { Host } from './p2p/host.ts';
import { createP2p } from './p2p/p2p-subsystem.ts';
import { createProxies } from './proxy/proxy-subsystem.ts';
import { createExit } from './stream/exit-subsystem.ts';
import { clientStreams } from './stream/stream-table.ts';

export type { NodeStatus } from './node/status.ts';

export interface AnonNode {
  readonly peerId: string;
  readonly circuits: CircuitManager;
  /** The control API's bearer token (also in DATA_DIR/api-token). */
  readonly apiToken: string;
  /** The control API's event feed (the ledger publishes its blocks here). */
  readonly events: EventBus;
  /** Prometheus metrics (/metrics); the ledger reports blocks with `metrics.ledger.observeBlock`. */
  readonly metrics: Metrics;
  readonly host: Host;
  readonly view: RelayView;
  readonly progress: BootstrapProgress;
  status(): NodeStatus;
  stop(): Promise<void>;
}

export interface NodeDeps {
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export async function startNode(config: NodeConfig, deps: NodeDeps): Promise<AnonNode> {
  const o = subsystemOptions(config);
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const log = (module: string) => deps.log.child({ module });
  const metrics = createMetrics();
  const progress = createBootstrapProgress({ log: log('bootstrap') });
  const base = { now, metrics, progress };
  const life = new Lifecycle(deps.log);
  try {
    life.own(openDataDir(o.dataDir));
    const keys = life.own(
      await createIdentity(o.identity, { ...base, log: log('identity'), signal: deps.signal }),
    );
    const verify = descriptorVerifier(o.descriptors, now);
    const records = relayDhtRecords(verify);
    const p2p = life.own(
      await createP2p(o.p2p, { ...base, log: log('p2p'), identitySeed: keys.identity.seed, records }),
    );
    const { host, dht } = p2p;
    const dir = life.own(createDirectory(o.directory, { ...base, log: log('directory'), host, verify }));
    const { view } = dir;
    const publishing = life.own(
      await createPublishing(o.publishing, { ...base, log: log('publisher'), host, dht, view, keys }),
    );
    const discovery = life.own(
      createDiscovery(o.discovery, { ...base, log: log('discovery'), host, dht, view, publishing }),
    );
    // Blocks are announced on the API's event feed, which is made further down.
    let blockFeed: BlockFeed | undefined;
    const blocks: BlockFeed = { publish: (e) => blockFeed?.publish(e) };
    const ledger = life.own(
      await createLedger(config, { ...base, log: log('ledger'), host, keys, dataDir: o.dataDir, blocks }),
    );
    const economy = life.own(
      await createEconomy(o.economy, {
        log: log('economy'),
        host,
        identity: keys.identity,
        ledger: ledger.node,
      }),
    );
    const powDifficulty = ledger.node?.state.params.powDifficulty;
    const wallet = life.own(createWallet({ dataDir: o.dataDir }, { log: log('wallet'), powDifficulty }));
    const registration = life.own(
      createRelayRegistration(config, {
        log: log('registration'),
        now,
        ledger,
        keys,
        wallet,
        publishing,
        txs: economy.txs,
      }),
    );
    const exit = life.own(createExit(o.exit, { log: log('exit') }));
    const relay = life.own(
      await createRelay(o.relay, {
        ...base,
        log: log('relay'),
        host,
        keys,
        exit,
        view,
        economy: economy.circuit,
      }),
    );
    const client = life.own(
      createClient(o.client, {
        ...base,
        log: log('circuits'),
        host,
        view,
        streams: clientStreams,
        receipts: economy.receipts,
        ledger: ledger.node,
      }),
    );
    const { circuits } = client;
    economy.useMeasurement((key, signal) => client.measure(key, signal));
    const proxies = life.own(await createProxies(o.proxy, { log: log('proxy'), circuits }));
    const peerCount = () => host.getPeers().length;
    const relayProgress = life.own(
      createRelayProgress(
        { ...o.bootstrap, keepCircuits: proxies.enabled },
        { ...base, log: log('bootstrap'), view, circuits, peerCount },
      ),
    );
    const feeds = life.own(createApiFeeds(o, { ...base, circuits, peerCount }));
    blockFeed = feeds.events;
    const sources = { roles: config.relay.roles, startedAt, now, progress, p2p, directory: dir, discovery };
    const more = { publishing, proxies, client, relay, exit, ledger, economy, wallet, registration };
    const statusWith = (api: StatusSources['api']) => readNodeStatus({ ...sources, ...more, api });
    const identityKey = keys.identity.publicKey;
    const identityTxs = economy.txs;
    const apiParts = {
      client,
      view,
      host,
      feeds,
      config,
      now,
      ledger,
      identityKey,
      identityTxs,
      log: log('api'),
    };
    const api = life.own(
      await createApiServer(o.api, {
        log: log('api'),
        token: feeds.token,
        events: feeds.events,
        metrics,
        source: (server) => nodeApiSource({ ...apiParts, status: () => statusWith(server) }),
      }),
    );
    const status = () => statusWith(api);
    const steps = [dir, relayProgress, keys, feeds];
    life.own(createStatusTicker(o, { log: log('status'), steps, status }));
    await life.start();
    const { token: apiToken, events } = feeds;
    const stop = () => life.stop();
    return { peerId: p2p.peerId, circuits, apiToken, events, metrics, host, view, progress, status, stop };
  } catch (err) {
    await life.stop();
    throw err;
  }
}
