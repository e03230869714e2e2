// The composition root: builds one AnonNet daemon from the layers below and owns its lifecycle.
import { join } from 'node:path';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Connection } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { isLoopback, isPrivate } from '@libp2p/utils';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { BandwidthMeter } from './api/bandwidth.ts';
import { registerDashboardRoutes } from './api/dashboard-route.ts';
import { EventBus } from './api/events.ts';
import { ledgerApiSource } from './api/ledger-source.ts';
import { registerMetricsRoute } from './api/metrics-route.ts';
import { publishNodeEvents } from './api/node-events.ts';
import { nodeApiSource } from './api/node-source.ts';
import { buildApi } from './api/server.ts';
import { createApiToken } from './api/token.ts';
import { linkCounters } from './circuit/cell-link.ts';
import { configureChannels } from './circuit/channel-pool.ts';
import { CircuitManager } from './circuit/circuit-manager.ts';
import { tampererFromEnv } from './circuit/fault-injection.ts';
import { GuardSet } from './circuit/guards.ts';
import { RelayService } from './circuit/relay-service.ts';
import type { NodeConfig } from './config/schema.ts';
import { channelLimitsOf, proxiesOptionsOf } from './config/subsystem-options.ts';
import type { LedgerNodeStatus } from './consensus/ledger-node.ts';
import { ledgerStatus, startLedger } from './consensus/start-ledger.ts';
import type { OnionKeyPair } from './crypto/onion-keys.ts';
import { writeFileAtomic } from './daemon/atomic-file.ts';
import { files, lockDataDir, prepareDataDir } from './daemon/data-dir.ts';
import { loadOrCreateIdentity } from './daemon/identity-file.ts';
import { loadOnionKeys, rotateOnionKeys, saveOnionKeys } from './daemon/onion-key-file.ts';
import { BootstrapProgress, PHASES, type ProgressEvent } from './daemon/progress.ts';
import { buildOwnDescriptor } from './directory/build-descriptor.ts';
import { fetchPeerDescriptor, serveOwnDescriptor } from './directory/descriptor-protocol.ts';
import {
  identityKeyOfPeerId,
  RELAY_NAMESPACE,
  relayRecordValidator,
  selectNewestDescriptor,
} from './directory/dht-records.ts';
import { RelayDiscovery } from './directory/discovery.ts';
import { parseExitPolicy } from './directory/exit-policy.ts';
import { directSubnet, probeRelay } from './directory/probe-dial.ts';
import { RelayProber } from './directory/prober.ts';
import { DescriptorPublisher } from './directory/publisher.ts';
import { dialAddresses, RelayView, type VerifyFn } from './directory/relay-view.ts';
import { RelayViewStore } from './directory/relay-view-store.ts';
import { verifyDescriptor } from './directory/verify-descriptor.ts';
import { type Logger, redactId } from './log/logger.ts';
import { RefusalLog } from './log/refusals.ts';
import { createMetrics, type Metrics } from './metrics/registry.ts';
import { dhtClient } from './p2p/dht-client.ts';
import { createHost, type Host } from './p2p/host.ts';
import { DHT_PROTOCOL } from './p2p/options.ts';
import { PeerKeeper } from './p2p/peer-keeper.ts';
import { circuitOpener } from './proxy/circuit-opener.ts';
import { startProxies } from './proxy/index.ts';
import { Exit } from './stream/exit.ts';
import { VERSION } from './version.ts';
import { CELL_BYTES } from './wire/cell.ts';
import type { UnixMillis } from './wire/descriptor-types.ts';

export interface NodeStatus {
  readonly version: string;
  readonly pid: number;
  readonly peerId: string;
  readonly roles: readonly string[];
  readonly startedAt: number;
  readonly uptimeMs: number;
  readonly bootstrap: ProgressEvent;
  readonly peers: number;
  readonly relaysKnown: number;
  readonly relays: readonly string[];
  readonly descriptorsPublished: number;
  readonly dhtLookups: number;
  readonly directFetches: number;
  readonly refusals: Record<string, number>;
  /** Relays that lost their place in the view to a higher-ranked one, by bound; probes made. */
  readonly relayView: {
    readonly evictions: Record<string, number>;
    readonly probes: number;
    readonly probeFailures: number;
  };
  readonly listen: readonly string[];
  readonly socks: string | undefined;
  readonly http: string | undefined;
  readonly api: string | undefined;
  readonly circuitsOpen: number;
  readonly relayedCircuits: number;
  readonly links: typeof linkCounters;
  /** Cells queued on this node's channels now, and circuits closed for what they queued. */
  readonly cellQueues: {
    readonly bytes: number;
    readonly overflowClosed: number;
    readonly oomClosed: number;
  };
  /** Connections open and refused or pruned, by refusal code (src/p2p/connection-limits.ts). */
  readonly connections: { readonly open: number; readonly refused: Record<string, number> };
  /** Exit sockets and lookups held now, and refusals by code (src/stream/exit.ts). */
  readonly exit: {
    readonly sockets: number;
    readonly lookups: number;
    readonly refused: Record<string, number>;
  };
  /** Present when the node runs the ledger (a genesis document is configured). */
  readonly ledger?: LedgerNodeStatus;
}

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

const TICK_MS = 1_000;
const STATUS_EVERY_TICKS = 2;

export async function startNode(config: NodeConfig, deps: NodeDeps): Promise<AnonNode> {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const dir = config.dataDir;
  const progress = new BootstrapProgress();
  const metrics = createMetrics();
  progress.onChange((e) =>
    log.info({ percent: e.percent, phase: e.phase }, `Bootstrapped ${e.percent}% (${e.phase}): ${e.summary}`),
  );

  prepareDataDir(dir);
  const unlock = lockDataDir(dir);
  const cleanups: Array<() => void | Promise<void>> = [unlock];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'error during shutdown');
      }
    }
  };

  try {
    const d = config.directory;
    const { identity, powNonce, created } = await loadOrCreateIdentity(
      join(dir, files.identity),
      d.powDifficulty,
      {
        ...(deps.signal ? { signal: deps.signal } : {}),
      },
    );
    if (created) log.info('created a new node identity');
    progress.reach('identity');

    const onionPath = join(dir, files.onionKeys);
    let onionKeys: OnionKeyPair[] = loadOnionKeys(onionPath);
    const rotated = rotateOnionKeys(onionKeys, now(), d.onionKeyLifetimeMs, d.maxClockSkewMs);
    onionKeys = rotated.keys;
    if (rotated.changed) saveOnionKeys(onionPath, onionKeys);

    const verify: VerifyFn = (bytes, peerId) => {
      const expectedIdentity = identityKeyOfPeerId(peerId);
      if (expectedIdentity === undefined)
        return { ok: false, code: 'IDENTITY_MISMATCH', reason: 'not an Ed25519 peer id' };
      return verifyDescriptor(bytes, {
        now: now() as UnixMillis,
        powDifficulty: d.powDifficulty,
        maxLifetimeMs: d.maxDescriptorLifetimeMs,
        maxClockSkewMs: d.maxClockSkewMs,
        expectedIdentity,
      });
    };
    const store = new RelayViewStore(join(dir, files.relayView));
    cleanups.push(() => store.close());

    const p2pRefusals = new RefusalLog(log);
    const host = await createHost({
      refusals: p2pRefusals,
      identitySeed: identity.seed,
      options: { ...config.p2p, dhtProtocol: DHT_PROTOCOL },
      validators: { [RELAY_NAMESPACE]: relayRecordValidator(verify) },
      selectors: { [RELAY_NAMESPACE]: selectNewestDescriptor },
      agentVersion: `anonnet/${VERSION}`,
    });
    cleanups.push(() => host.stop());
    const peerId = host.peerId.toString();
    log.info({ listening: host.getMultiaddrs().length }, 'listening');
    progress.reach('listening');

    // The relay view ranks relays by what this node saw of them (src/directory/relay-view.ts): a
    // direct connection verifies a relay's network, a circuit through it shows it works.
    const view = new RelayView({
      verify,
      now,
      store,
      log,
      selfId: host.peerId.toString(),
      limits: { maxRelays: d.maxRelays, maxPerSubnet: d.maxRelaysPerSubnet },
      connectedSubnet: (id) =>
        directSubnet(host.getConnections().filter((c) => c.remotePeer.toString() === id)),
    });
    const restored = view.load();
    if (restored > 0) log.info({ relays: restored }, 'relay view restored from disk');
    const onConnectionOpen = (evt: CustomEvent<Connection>) => {
      const subnet = directSubnet([evt.detail]);
      if (subnet !== undefined) view.markConnected(evt.detail.remotePeer.toString(), subnet);
    };
    host.addEventListener('connection:open', onConnectionOpen);
    cleanups.push(() => host.removeEventListener('connection:open', onConnectionOpen));
    const prober = new RelayProber({
      view,
      selfId: peerId,
      now,
      log,
      options: {
        intervalMs: d.probeIntervalMs,
        timeoutMs: d.probeTimeoutMs,
        retryBaseMs: d.probeRetryBaseMs,
      },
      probe: (id, addresses, signal) => probeRelay(host, id, addresses, signal),
    });
    cleanups.push(() => prober.stop());

    const dht = dhtClient(host.services.dht, metrics);
    const exitPolicy = parseExitPolicy(config.relay.exitPolicy);
    const family = config.relay.family.map((id) => {
      const key = identityKeyOfPeerId(id);
      if (key === undefined) throw new Error(`relay.family: ${id} is not an Ed25519 PeerId`);
      return key;
    });
    const publishable = (ma: Multiaddr) =>
      config.p2p.allowPrivateAddresses || !(isPrivate(ma) || isLoopback(ma));
    const ownAddresses = () =>
      host
        .getMultiaddrs()
        .map((ma) => ma.decapsulateCode(421 /* p2p */))
        .filter(publishable)
        .map((ma) => ma.bytes);

    let ownDescriptor: Uint8Array | undefined;
    await serveOwnDescriptor(host, () => ownDescriptor, new RefusalLog(log));
    const publisher = new DescriptorPublisher({
      dht,
      peerId,
      lifetimeMs: d.descriptorLifetimeMs,
      log,
      build: () =>
        buildOwnDescriptor({
          identity,
          powNonce,
          onionKeys,
          addresses: ownAddresses(),
          roles: config.relay.roles,
          bandwidth: config.relay.bandwidth,
          exitPolicy,
          family,
          now: now(),
          lifetimeMs: d.descriptorLifetimeMs,
        }),
      onBuilt: (signed) => {
        ownDescriptor = signed.bytes;
        view.offer(peerId, signed.bytes);
      },
      onPublished: () => progress.reach('dht'),
    });
    cleanups.push(() => publisher.stop());

    const discovery = new RelayDiscovery({
      dht,
      view,
      selfId: peerId,
      connectedPeers: () => host.getPeers().map((p) => p.toString()),
      isConnected: (id) =>
        host.getConnections().some((c) => c.remotePeer.toString() === id && c.status === 'open'),
      fetchDirect: (id, signal) => fetchPeerDescriptor(host, id, signal),
      walkIntervalMs: d.walkIntervalMs,
      now,
      log,
    });
    cleanups.push(() => discovery.stop());

    // Bootstrap peers stay dial candidates: libp2p's bootstrap module tries them only once.
    const bootstrapCandidates = config.p2p.bootstrap.flatMap((a) => {
      try {
        const ma = multiaddr(a);
        const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
        return id === undefined || id === peerId ? [] : [{ peerId: id, addresses: [ma] }];
      } catch {
        return [];
      }
    });
    const keeper = new PeerKeeper({
      host,
      minPeers: config.p2p.minPeers,
      log,
      candidates: () => [
        ...bootstrapCandidates,
        ...view
          .list()
          .filter((e) => e.peerId !== peerId)
          .map((e) => ({ peerId: e.peerId, addresses: dialAddresses(e) })),
      ],
    });
    cleanups.push(() => keeper.stop());

    // ---- circuits: the relay side, the exit, and this client's circuits ----
    // Every channel of this node (ours to guards and next hops, and neighbours' to us) queues its
    // circuits' cells under one bound.
    const cellQueues = configureChannels(host, {
      limits: channelLimitsOf(config.channels),
      log,
    });
    const { allowLoopback, connectTimeoutMs, ...exitLimits } = config.exit;
    const exit = new Exit(
      {
        enabled: config.relay.roles.includes('exit'),
        policy: exitPolicy,
        allowLoopback,
        connectTimeoutMs,
        limits: exitLimits,
      },
      { log },
    );
    // Test-only fault injection (src/circuit/fault-injection.ts); refused outside loopback testnets.
    const tamperer = tampererFromEnv(
      process.env,
      config.p2p.allowPrivateAddresses && config.circuits.allowSameSubnet && config.exit.allowLoopback,
    );
    if (tamperer) {
      log.warn({}, 'test-only cell fault injection is armed');
      cleanups.push(() => tamperer.stop());
    }
    const relayService = new RelayService({
      ...(tamperer ? { tamper: tamperer.tamper } : {}),
      host,
      identityKey: identity.publicKey,
      onionKeys: () => onionKeys,
      exit,
      log,
      // On a test network (private addresses allowed) all nodes may share 127.0.0.1: loopback peers
      // are then held to their per-peer share only (src/circuit/ip-group.ts).
      limits: { ...config.relay.limits, exemptLoopbackFromIpShare: config.p2p.allowPrivateAddresses },
      lookupRelay: (identityKey) => {
        let id: string;
        try {
          id = peerIdFromPublicKey(publicKeyFromRaw(identityKey)).toString();
        } catch {
          return undefined;
        }
        const entry = view.get(id);
        return entry && dialAddresses(entry);
      },
    });
    await relayService.start();
    cleanups.push(() => relayService.stop());
    const guards = new GuardSet(join(dir, files.guards), {
      count: config.circuits.guards,
      lifetimeMs: config.circuits.guardLifetimeMs,
    });
    // Mutable: the control API may change `prebuilt` while running.
    const circuitOptions = {
      hops: config.circuits.hops,
      prebuilt: config.circuits.prebuilt,
      buildTimeoutMs: config.circuits.buildTimeoutMs,
      buildAttempts: config.circuits.buildAttempts,
      maxDirtyMs: config.circuits.maxDirtyMs,
      allowSameSubnet: config.circuits.allowSameSubnet,
      unmeasuredWeightCap: config.circuits.unmeasuredWeightCap,
    };
    const circuits = new CircuitManager({
      host,
      view,
      guards,
      selfId: peerId,
      log,
      options: circuitOptions,
      metrics,
    });
    cleanups.push(() => circuits.stop());
    cleanups.push(
      circuits.onEvent((event, c) => {
        if (event === 'built') for (const hop of c.path) view.markCircuitBuilt(hop.peerId);
      }),
    );
    const proxies = await startProxies({
      ...proxiesOptionsOf(config.proxy),
      opener: circuitOpener(circuits),
      log,
    });
    cleanups.push(() => proxies.close());

    const updateRelayProgress = () => {
      if (progress.current.percent < PHASES.dht.percent) return;
      const known = view.size;
      const share = Math.min(1, known / d.minRelays);
      if (share >= 1) {
        progress.reach('done');
        if (config.proxy.socksPort !== null || config.proxy.httpPort !== null) circuits.maintain();
      } else
        progress.reach(
          'relays',
          PHASES.relays.percent + share * (100 - PHASES.relays.percent) - 1,
          `Learning relays (${known}/${d.minRelays})`,
        );
    };
    view.onChange((event, id) => {
      log.debug({ peer: id, event }, 'relay view changed');
      updateRelayProgress();
    });

    const onConnect = (evt: CustomEvent) => {
      if (host.getPeers().length > 0) progress.reach('peers');
      // A first peer means the DHT can take our descriptor now rather than after the back-off.
      if (publisher.published === 0) publisher.republishSoon();
      discovery.want(String(evt.detail));
      discovery.walkSoon();
    };
    host.addEventListener('peer:connect', onConnect);
    cleanups.push(() => host.removeEventListener('peer:connect', onConnect));
    const onSelfUpdate = () => publisher.republishSoon();
    host.addEventListener('self:peer:update', onSelfUpdate);
    cleanups.push(() => host.removeEventListener('self:peer:update', onSelfUpdate));

    const status = (): NodeStatus => ({
      version: VERSION,
      pid: process.pid,
      peerId,
      roles: config.relay.roles,
      startedAt,
      uptimeMs: now() - startedAt,
      bootstrap: progress.current,
      peers: host.getPeers().length,
      relaysKnown: view.size,
      relays: view.list().map((e) => e.peerId),
      descriptorsPublished: publisher.published,
      dhtLookups: discovery.lookups,
      directFetches: discovery.direct,
      refusals: Object.fromEntries(view.refusals),
      relayView: {
        evictions: Object.fromEntries(view.evictions),
        probes: prober.probes,
        probeFailures: prober.failed,
      },
      listen: host.getMultiaddrs().map(String),
      socks: proxies.socksAddress ? `${proxies.socksAddress.host}:${proxies.socksAddress.port}` : undefined,
      http: proxies.httpAddress ? `${proxies.httpAddress.host}:${proxies.httpAddress.port}` : undefined,
      api: apiAddress,
      circuitsOpen: circuits.list().filter((c) => c.state === 'open').length,
      relayedCircuits: relayService.circuits.size,
      links: { ...linkCounters },
      cellQueues: {
        bytes: cellQueues.bytes,
        overflowClosed: cellQueues.stats.overflowClosed,
        oomClosed: cellQueues.stats.oomClosed,
      },
      connections: { open: host.getConnections().length, refused: Object.fromEntries(p2pRefusals.counts) },
      exit: {
        sockets: exit.socketsInUse,
        lookups: exit.lookupsInFlight,
        refused: Object.fromEntries(exit.refusals.counts),
      },
      ...(ledger !== undefined ? { ledger: ledgerStatus(ledger) } : {}),
    });
    const apiToken = createApiToken(dir);
    const events = new EventBus({ now });
    cleanups.push(() => events.close());
    cleanups.push(publishNodeEvents(events, { progress, circuits, peerCount: () => host.getPeers().length }));
    // Every cell on a link is CELL_BYTES long: cells counted are bytes on the wire (before Noise/Yamux).
    const bandwidth = new BandwidthMeter(() => ({
      read: linkCounters.cellsIn * CELL_BYTES,
      written: linkCounters.cellsOut * CELL_BYTES,
    }));
    // Read when /metrics is scraped: the relay's cell path keeps its own counters, no extra work per cell.
    metrics.bind({
      circuitsOpen: () => circuits.list().filter((c) => c.state === 'open').length,
      streamsOpen: () => circuits.list().reduce((n, c) => n + c.streams.streams.size, 0),
      peersConnected: () => host.getPeers().length,
      relaysKnown: () => view.size,
      bootstrapPercent: () => progress.current.percent,
      relay: () => ({ ...relayService.stats, circuitsOpen: relayService.circuits.size }),
      links: () => linkCounters,
      cellQueues: () => ({ bytes: cellQueues.bytes, ...cellQueues.stats }),
    });
    const ledger = await startLedger(config, { host, identity, log, now, dir });
    if (ledger !== undefined) {
      cleanups.push(() => ledger.stop());
      ledger.onCommit((e) => {
        metrics.ledger.observeBlock(e.height, e.intervalSeconds);
        events.publish({
          case: 'blockCommitted',
          value: { height: BigInt(e.height), hash: Buffer.from(e.hash).toString('hex'), transactions: e.txs },
        });
      });
      ledger.start();
    }
    let apiAddress: string | undefined;
    if (config.api.port !== null) {
      const api = buildApi(
        nodeApiSource({
          status,
          circuits,
          view,
          host,
          bandwidth,
          config,
          log,
          circuitOptions,
          now,
          ...(ledger !== undefined ? { ledger: ledgerApiSource(ledger) } : {}),
        }),
        apiToken,
        {
          bus: events,
          log,
          extraRoutes: (app) => {
            registerMetricsRoute(app, metrics);
            registerDashboardRoutes(app);
          },
        },
      );
      if (
        !['127.0.0.1', '::1', 'localhost'].includes(config.api.host) &&
        !config.api.host.startsWith('127.')
      ) {
        log.warn(
          { host: config.api.host },
          'the control API listens on a non-loopback address: anyone who can reach it and has the token controls this node',
        );
      }
      apiAddress = await api.listen({ host: config.api.host, port: config.api.port });
      cleanups.push(() => api.close());
    }

    const statusPath = join(dir, files.status);
    let ticks = 0;
    let lastRotation = now();
    const tick = setInterval(() => {
      try {
        const gone = view.sweep();
        if (gone.length > 0)
          log.info({ expired: gone.length, peer: gone.map(redactId) }, 'relay descriptors expired');
        if (host.getPeers().length > 0) progress.reach('peers');
        updateRelayProgress();
        if (now() - lastRotation > Math.min(60_000, d.onionKeyLifetimeMs / 8)) {
          lastRotation = now();
          const r = rotateOnionKeys(onionKeys, now(), d.onionKeyLifetimeMs, d.maxClockSkewMs);
          if (r.changed) {
            onionKeys = r.keys;
            saveOnionKeys(onionPath, onionKeys);
            publisher.republishSoon();
          }
        }
        bandwidth.sample(now());
        if (++ticks % STATUS_EVERY_TICKS === 0)
          writeFileAtomic(statusPath, `${JSON.stringify(status())}\n`, 0o600);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'maintenance tick failed');
      }
    }, TICK_MS);
    cleanups.push(() => clearInterval(tick));

    publisher.start();
    discovery.start();
    keeper.start();
    prober.start();
    updateRelayProgress();

    let stopping: Promise<void> | undefined;
    return {
      peerId,
      circuits,
      apiToken,
      events,
      metrics,
      host,
      view,
      progress,
      status,
      stop: () => {
        stopping ??= cleanup();
        return stopping;
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
