// The node's status (status.json, the API's GetStatus, the testnet supervisor): assembled from the
// piece each subsystem owns, by one pure function.
import type { RelayStatus } from '../circuit/relay-subsystem.ts';
import type { LedgerNodeStatus } from '../consensus/ledger-node.ts';
import type { ProgressEvent } from '../daemon/progress.ts';
import type { WalletStatus } from '../daemon/wallet-subsystem.ts';
import type { DirectoryStatus } from '../directory/directory-subsystem.ts';
import type { DiscoveryStatus } from '../directory/discovery-subsystem.ts';
import type { EconomyStatus } from '../economy/economy-subsystem.ts';
import type { RegistrationStatus } from '../economy/registration.ts';
import type { P2pStatus } from '../p2p/p2p-subsystem.ts';
import type { ProxyStatus } from '../proxy/proxy-subsystem.ts';
import type { ExitStatus } from '../stream/exit-subsystem.ts';
import { VERSION } from '../version.ts';

export interface NodeStatus extends P2pStatus, DirectoryStatus, DiscoveryStatus, ProxyStatus, RelayStatus {
  readonly version: string;
  readonly pid: number;
  readonly peerId: string;
  readonly roles: readonly string[];
  readonly startedAt: number;
  readonly uptimeMs: number;
  readonly bootstrap: ProgressEvent;
  readonly descriptorsPublished: number;
  readonly api: string | undefined;
  readonly circuitsOpen: number;
  /** Exit sockets and lookups held now, and refusals by code (src/stream/exit.ts). */
  readonly exit: ExitStatus;
  /** Present when the node runs the ledger (a genesis document is configured). */
  readonly ledger?: LedgerNodeStatus;
  /** Link receipts, claims and audits (docs/economy.md); present with a ledger. */
  readonly economy?: EconomyStatus;
  /** This node's wallet account (64 hex): shown only here and in the local API, never published. */
  readonly wallet: string;
  /** A relay's registration on the ledger (absent on a client and without a ledger). */
  readonly registration?: RegistrationStatus;
}

/** Each subsystem's piece of the status, read now. */
export interface StatusPieces {
  readonly version: string;
  readonly pid: number;
  readonly peerId: string;
  readonly roles: readonly string[];
  readonly startedAt: number;
  readonly now: number;
  readonly bootstrap: ProgressEvent;
  readonly p2p: P2pStatus;
  readonly directory: DirectoryStatus;
  readonly discovery: DiscoveryStatus;
  readonly descriptorsPublished: number;
  readonly proxies: ProxyStatus;
  readonly api: { readonly api: string | undefined };
  readonly client: { readonly circuitsOpen: number };
  readonly relay: RelayStatus;
  readonly exit: ExitStatus;
  readonly ledger: { readonly ledger?: LedgerNodeStatus };
  readonly economy: { readonly economy?: EconomyStatus };
  readonly wallet: WalletStatus;
  readonly registration: { readonly registration?: RegistrationStatus };
}

/** The fields in the order status.json has always had them. */
export function nodeStatus(p: StatusPieces): NodeStatus {
  return {
    version: p.version,
    pid: p.pid,
    peerId: p.peerId,
    roles: p.roles,
    startedAt: p.startedAt,
    uptimeMs: p.now - p.startedAt,
    bootstrap: p.bootstrap,
    peers: p.p2p.peers,
    relaysKnown: p.directory.relaysKnown,
    relays: p.directory.relays,
    descriptorsPublished: p.descriptorsPublished,
    dhtLookups: p.discovery.dhtLookups,
    directFetches: p.discovery.directFetches,
    refusals: p.directory.refusals,
    relayView: p.directory.relayView,
    listen: p.p2p.listen,
    socks: p.proxies.socks,
    http: p.proxies.http,
    api: p.api.api,
    circuitsOpen: p.client.circuitsOpen,
    relayedCircuits: p.relay.relayedCircuits,
    links: p.relay.links,
    cellQueues: p.relay.cellQueues,
    connections: p.p2p.connections,
    exit: p.exit,
    ...p.ledger,
    ...p.economy,
    wallet: p.wallet.wallet,
    ...p.registration,
  };
}

/** Where each piece of the status is read, at the moment the status is asked for. */
export interface StatusSources {
  readonly roles: readonly string[];
  readonly startedAt: number;
  readonly now: () => number;
  readonly progress: { readonly current: ProgressEvent };
  readonly p2p: { readonly peerId: string; status(): P2pStatus };
  readonly directory: { status(): DirectoryStatus };
  readonly discovery: { status(): DiscoveryStatus };
  readonly publishing: { readonly published: number };
  readonly proxies: { status(): ProxyStatus };
  readonly api: { status(): { readonly api: string | undefined } };
  readonly client: { status(): { readonly circuitsOpen: number } };
  readonly relay: { status(): RelayStatus };
  readonly exit: { status(): ExitStatus };
  readonly ledger: { status(): { readonly ledger?: LedgerNodeStatus } };
  readonly economy: { status(): { readonly economy?: EconomyStatus } };
  readonly wallet: { status(): WalletStatus };
  readonly registration: { status(): { readonly registration?: RegistrationStatus } };
}

export function readNodeStatus(s: StatusSources): NodeStatus {
  return nodeStatus({
    version: VERSION,
    pid: process.pid,
    peerId: s.p2p.peerId,
    roles: s.roles,
    startedAt: s.startedAt,
    now: s.now(),
    bootstrap: s.progress.current,
    p2p: s.p2p.status(),
    directory: s.directory.status(),
    discovery: s.discovery.status(),
    descriptorsPublished: s.publishing.published,
    proxies: s.proxies.status(),
    api: s.api.status(),
    client: s.client.status(),
    relay: s.relay.status(),
    exit: s.exit.status(),
    ledger: s.ledger.status(),
    economy: s.economy.status(),
    wallet: s.wallet.status(),
    registration: s.registration.status(),
  });
}
