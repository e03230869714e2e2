// The daemon's side of the control API: `ApiSource` over the node's subsystems. It belongs to the
// composition (node.ts builds it), so the API itself reads the node only through that narrow interface.
import { ledgerApiSource } from '../api/ledger-source.ts';
import type {
  ApiSource,
  ConfigSource,
  JsonObject,
  JsonValue,
  LedgerSource,
  NodeEconomyInit,
  PeerInfo,
  StatusInit,
} from '../api/source.ts';
import type { CircuitManager } from '../circuit/circuit-manager.ts';
import type { NodeConfig } from '../config/schema.ts';
import type { LedgerNode } from '../consensus/ledger-node.ts';
import type { RelayView } from '../directory/relay-view.ts';
import type { EconomyStatus } from '../economy/economy-subsystem.ts';
import type { IdentityTxs } from '../economy/identity-txs.ts';
import type { Logger } from '../log/logger.ts';
import type { BandwidthMeter } from '../metrics/bandwidth.ts';
import type { Host } from '../p2p/host.ts';
import { Role } from '../wire/descriptor-types.ts';
import { isRelay } from './options.ts';
import type { NodeStatus } from './status.ts';

export interface NodeParts {
  readonly status: () => NodeStatus;
  readonly client: { readonly circuits: CircuitManager; setPrebuilt(count: number): void };
  readonly view: RelayView;
  readonly host: Host;
  readonly feeds: { readonly bandwidth: BandwidthMeter };
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly now: () => number;
  readonly ledger: { readonly node: LedgerNode | undefined };
  /** The node identity: a client-only node sends no transaction it signed. */
  readonly identityKey: Uint8Array;
  /** The node identity's transaction queue (with a ledger): what ProposeParam and VoteParam sign with. */
  readonly identityTxs: Pick<IdentityTxs, 'send'> | undefined;
}

export function roleNames(bits: number): string[] {
  return Object.entries(Role)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name);
}

function transportOf(addr: string): string {
  if (addr.includes('/p2p-circuit')) return 'relayed';
  if (addr.includes('/quic')) return 'quic';
  if (addr.includes('/tcp/')) return 'tcp';
  return 'other';
}

function setPath(obj: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split('.');
  let at: JsonObject = obj;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) at[p] = {};
    at = at[p] as JsonObject;
  }
  at[parts.at(-1)!] = value;
}

export function nodeApiSource(parts: NodeParts): ApiSource {
  const { view, host, now } = parts;
  const { circuits } = parts.client;
  const client = !isRelay(parts.config);
  const txs = parts.identityTxs;
  const ledger: LedgerSource | undefined =
    parts.ledger.node !== undefined
      ? ledgerApiSource(
          parts.ledger.node,
          client
            ? { refuseSender: parts.identityKey }
            : txs === undefined
              ? {}
              : { signer: { key: parts.identityKey, send: (body, signal) => txs.send(body, signal) } },
        )
      : undefined;
  return {
    status: () => {
      const s = parts.status();
      const node = parts.ledger.node;
      const walletBalance = node === undefined ? undefined : (node.account(s.wallet)?.balance ?? 0n);
      return statusOf(s, ledger !== undefined, parts.identityKey, walletBalance);
    },
    circuits: () =>
      circuits.list().map((c) => ({
        id: c.id,
        state: c.state,
        hops: c.path.map((h) => h.peerId),
        ageMs: now() - c.createdAt,
        streams: c.streams.streams.size,
        bytesIn: c.streams.bytesIn,
        bytesOut: c.streams.bytesOut,
      })),
    relays: () =>
      view.list().map((e) => ({
        peerId: e.peerId,
        roles: roleNames(e.signed.descriptor.roles),
        bandwidth: e.signed.descriptor.bandwidth,
        expiresAt: e.signed.descriptor.expiresAt,
      })),
    peers: (): PeerInfo[] =>
      host.getConnections().map((c) => {
        const addr = c.remoteAddr.toString();
        return {
          peerId: c.remotePeer.toString(),
          direction: c.direction,
          transport: transportOf(addr),
          remoteAddr: addr,
        };
      }),
    streams: () =>
      circuits.list().flatMap((c) =>
        [...c.streams.streams.values()].map((s) => ({
          circuitId: c.id,
          streamId: s.streamId,
          bytesRead: s.bytesRead,
          bytesWritten: s.bytesWritten,
        })),
      ),
    bandwidth: () => parts.feeds.bandwidth.snapshot(),
    buildCircuit: async (signal) => {
      const { circuit, buildMs } = await circuits.buildNow(signal);
      return { id: circuit.id, buildMs, hops: circuit.path.map((h) => h.peerId) };
    },
    closeCircuit: (id) => circuits.closeCircuit(id),
    config: liveConfig(parts),
    ...(ledger !== undefined ? { ledger } : {}),
  };
}

/** The node's status as the API answers it. */
function statusOf(
  s: NodeStatus,
  ledger: boolean,
  identityKey: Uint8Array,
  walletBalance: bigint | undefined,
): StatusInit {
  return {
    version: s.version,
    pid: s.pid,
    peerId: s.peerId,
    roles: [...s.roles],
    startedAt: s.startedAt,
    uptimeMs: s.uptimeMs,
    bootstrap: s.bootstrap,
    peers: s.peers,
    relaysKnown: s.relaysKnown,
    circuitsOpen: s.circuitsOpen,
    relayedCircuits: s.relayedCircuits,
    listen: [...s.listen],
    ...(s.socks !== undefined ? { socks: s.socks } : {}),
    ...(s.http !== undefined ? { http: s.http } : {}),
    ...(s.api !== undefined ? { api: s.api } : {}),
    ledger,
    wallet: s.wallet,
    ...(walletBalance !== undefined ? { walletBalance: walletBalance.toString() } : {}),
    identityKey: Buffer.from(identityKey).toString('hex'),
    ...(s.registration !== undefined
      ? {
          registration: s.registration.state,
          registrationDetail: {
            failures: s.registration.failures,
            lastFailure: s.registration.lastFailure ?? '',
            registeredAt: BigInt(s.registration.registeredAt ?? 0),
            payoutIsWallet: s.registration.payoutIsWallet,
          },
        }
      : {}),
    ...(s.economy !== undefined ? { economy: economyOf(s.economy) } : {}),
  };
}

/** The economy's status counters as the API answers them. */
export function economyOf(e: EconomyStatus): NodeEconomyInit {
  const { accepted, refused, cellsThisEpoch } = e.receipts;
  const c = e.claims;
  return {
    ...(e.epoch !== null ? { epoch: e.epoch } : {}),
    receipts: { accepted, refused: { ...refused }, cellsThisEpoch },
    claims: {
      submitted: c.claimsSubmitted,
      refused: c.claimsRefused,
      auditsAnswered: c.auditsAnswered,
      auditsRefused: c.auditsRefused,
      ...(c.last !== null ? { last: { ...c.last } } : {}),
    },
    audits: { ...e.audits },
    measurements: { ...e.measurements },
  };
}

/** The config as the API shows it: the effective one, with the changes made through the API. */
function liveConfig(parts: NodeParts): ConfigSource {
  const { log } = parts;
  const live = JSON.parse(JSON.stringify(parts.config)) as JsonObject;
  return {
    effective: () => live,
    apply: (path, value) => {
      if (path === 'logLevel' && typeof value === 'string') log.level = value;
      else if (path === 'circuits.prebuilt' && typeof value === 'number') {
        parts.client.setPrebuilt(value);
      } else return;
      setPath(live, path, value);
      log.info({ field: path }, 'configuration changed through the control API');
    },
  };
}
