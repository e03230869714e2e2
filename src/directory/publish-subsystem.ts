// This node's own descriptor: built from its keys, addresses, roles and exit policy, served to peers
// that ask directly and published in the DHT; rebuilt when the onion keys rotate or addresses change.
// A node without the relay role is a client only and publishes nothing about itself: no descriptor, no
// DHT record, no answer to a descriptor request (docs/economy.md, "Roles and keys").
import type { Libp2p } from '@libp2p/interface';
import { isLoopback, isPrivate } from '@libp2p/utils';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Identity } from '../crypto/identity.ts';
import type { OnionKeyPair } from '../crypto/onion-keys.ts';
import { PHASES } from '../daemon/progress.ts';
import type { Logger } from '../log/logger.ts';
import { RefusalLog } from '../log/refusals.ts';
import type { DhtClient } from '../p2p/dht-client.ts';
import type { SignedDescriptor } from '../wire/descriptor-types.ts';
import { buildOwnDescriptor, type RoleName } from './build-descriptor.ts';
import { serveOwnDescriptor } from './descriptor-protocol.ts';
import { identityKeyOfPeerId } from './dht-records.ts';
import { parseExitPolicy } from './exit-policy.ts';
import { DescriptorPublisher } from './publisher.ts';
import type { RelayView } from './relay-view.ts';

export interface PublishOptions {
  readonly roles: readonly RoleName[];
  /** Advertised bandwidth in bytes per second. */
  readonly bandwidth: number;
  readonly exitPolicy: readonly string[];
  /** PeerIds of the other relays this operator runs. */
  readonly family: readonly string[];
  readonly descriptorLifetimeMs: number;
  /** Publish private and loopback addresses too (local test networks). */
  readonly allowPrivateAddresses: boolean;
}

export interface PublishDeps {
  readonly log: Logger;
  readonly now: () => number;
  readonly host: Libp2p;
  readonly dht: DhtClient;
  readonly view: RelayView;
  readonly keys: {
    readonly identity: Identity;
    readonly powNonce: bigint;
    onionKeys(): readonly OnionKeyPair[];
    onRotated(listener: () => void): () => void;
  };
  readonly progress: { reach(phase: 'dht', percent?: number, summary?: string): void };
}

export interface PublishSubsystem {
  /** Descriptors published in the DHT so far (always 0 on a client). */
  readonly published: number;
  /** The descriptor built last (undefined before the first, and always on a client). */
  descriptor(): SignedDescriptor | undefined;
  republishSoon(): void;
  start(): void;
  stop(): void;
}

function familyKeys(family: readonly string[]): Uint8Array[] {
  return family.map((id) => {
    const key = identityKeyOfPeerId(id);
    if (key === undefined) throw new Error(`relay.family: ${id} is not an Ed25519 PeerId`);
    return key;
  });
}

/** A client's side: nothing to publish; it has joined the DHT (as a client) once it has a peer to ask. */
function clientOnly(deps: Pick<PublishDeps, 'host' | 'progress'>): PublishSubsystem {
  const { host, progress } = deps;
  const joined = () => {
    if (host.getPeers().length > 0)
      progress.reach('dht', PHASES.dht.percent, 'Joined the DHT as a client (nothing published)');
  };
  return {
    published: 0,
    descriptor: () => undefined,
    republishSoon: () => {},
    start: () => {
      host.addEventListener('peer:connect', joined);
      joined();
    },
    stop: () => host.removeEventListener('peer:connect', joined),
  };
}

export async function createPublishing(opts: PublishOptions, deps: PublishDeps): Promise<PublishSubsystem> {
  if (!opts.roles.includes('relay')) return clientOnly(deps);
  const { host, view, keys, now } = deps;
  const peerId = host.peerId.toString();
  const exitPolicy = parseExitPolicy(opts.exitPolicy);
  const family = familyKeys(opts.family);
  const publishable = (ma: Multiaddr) => opts.allowPrivateAddresses || !(isPrivate(ma) || isLoopback(ma));
  const ownAddresses = () =>
    host
      .getMultiaddrs()
      .map((ma) => ma.decapsulateCode(421 /* p2p */))
      .filter(publishable)
      .map((ma) => ma.bytes);

  let ownDescriptor: SignedDescriptor | undefined;
  await serveOwnDescriptor(host, () => ownDescriptor?.bytes, new RefusalLog(deps.log));
  const publisher = new DescriptorPublisher({
    dht: deps.dht,
    peerId,
    lifetimeMs: opts.descriptorLifetimeMs,
    log: deps.log,
    build: () =>
      buildOwnDescriptor({
        identity: keys.identity,
        powNonce: keys.powNonce,
        onionKeys: keys.onionKeys(),
        addresses: ownAddresses(),
        roles: opts.roles,
        bandwidth: opts.bandwidth,
        exitPolicy,
        family,
        now: now(),
        lifetimeMs: opts.descriptorLifetimeMs,
      }),
    onBuilt: (signed) => {
      ownDescriptor = signed;
      view.offer(peerId, signed.bytes);
    },
    onPublished: () => deps.progress.reach('dht'),
  });
  const republish = () => publisher.republishSoon();
  host.addEventListener('self:peer:update', republish);
  const offRotated = keys.onRotated(republish);
  return {
    get published() {
      return publisher.published;
    },
    descriptor: () => ownDescriptor,
    republishSoon: republish,
    start: () => publisher.start(),
    stop: () => {
      offRotated();
      host.removeEventListener('self:peer:update', republish);
      publisher.stop();
    },
  };
}
