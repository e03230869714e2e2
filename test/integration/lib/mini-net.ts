// An in-process AnonNet for circuit and stream tests: real libp2p hosts over TCP on 127.0.0.1, each
// relay with its identity, one onion key, a RelayService and an Exit, plus one client host. No DHT
// records and no descriptors: every relay finds the others through one shared directory (identity key
// → multiaddrs), and tests build paths from `hop` values directly.

import type { Multiaddr } from '@multiformats/multiaddr';
import type { PathHop } from '../../../src/circuit/client-circuit.ts';
import { type RelayLimits, RelayService } from '../../../src/circuit/relay-service.ts';
import { generateIdentity, type Identity } from '../../../src/crypto/identity.ts';
import { generateOnionKeyPair, type OnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { type CircuitEconomy, receiptSigner, throwawaySigner } from '../../../src/economy/circuit-economy.ts';
import { ReceiptBook } from '../../../src/economy/receipt-book.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createHost, type Host } from '../../../src/p2p/host.ts';
import { defaultP2pOptions, type P2pOptions } from '../../../src/p2p/options.ts';
import { Exit } from '../../../src/stream/exit.ts';
import type { OnionKey, UnixMillis } from '../../../src/wire/descriptor-types.ts';

/** Changes the cell in place, or answers 'drop' to have the relay not pass it on. */
export type TamperFn = (cell: Uint8Array, direction: 'forward' | 'backward') => unknown;

export interface RelaySpec {
  /** Whether this relay's exit is enabled (default false). */
  readonly exit?: boolean;
  /** Exit policy lines (default accept *:*). */
  readonly exitPolicy?: readonly string[];
  readonly limits?: Partial<RelayLimits>;
  /** Link receipts at a fixed ledger epoch (docs/economy.md): the relay keeps its own in `book`. */
  readonly receipts?: boolean;
}

export interface MiniRelay {
  readonly identity: Identity;
  readonly peerId: string;
  readonly onionKeys: OnionKeyPair;
  readonly host: Host;
  readonly service: RelayService;
  readonly exit: Exit;
  /** This relay as a hop of a path (its current onion key and dialable addresses). */
  readonly hop: PathHop;
  /** Armed by tests: called on every RELAY cell this relay passes on. */
  tamper: TamperFn | undefined;
  /** The receipts for this relay's own cells (with RelaySpec.receipts). */
  readonly book: ReceiptBook;
}

/** The ledger epoch mini-net receipts are signed in. */
export const MINI_NET_EPOCH = 1;

export interface MiniNet {
  readonly relays: readonly MiniRelay[];
  readonly client: Host;
  /** The hops of relays[i] for each index given, in order. */
  path(...indexes: number[]): PathHop[];
  /** Starts one more relay in the same network. */
  addRelay(spec?: RelaySpec): Promise<MiniRelay>;
  /** Starts one more plain host (a second client, on its own connections). */
  addClient(): Promise<Host>;
  stop(): Promise<void>;
}

const HOUR = 3_600_000;
const log = createLogger({ level: 'silent' });

/** libp2p options for in-process hosts that all live on 127.0.0.1 (this net, the ledger-node test). */
export const loopbackHostOptions: P2pOptions = {
  ...defaultP2pOptions,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  transports: ['tcp'],
  bootstrap: [],
  allowPrivateAddresses: true,
  // Every host of this net is 127.0.0.1: the per-host accept rate and per-IP caps are for a real
  // network (a burst of dials between them was reset by libp2p's per-host rate limit, ECONNRESET).
  inboundPerHostPerSecond: 10_000,
  maxConnectionsPerIp: 10_000,
  maxPendingConnectionsPerIp: 10_000,
  nat: { autonat: false, dcutr: false, relayClient: false, relayServer: false, upnp: false },
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function startHost(seed: Uint8Array): Promise<Host> {
  return createHost({
    identitySeed: seed,
    options: loopbackHostOptions,
    validators: {},
    selectors: {},
    agentVersion: 'anonnet-mini-net',
  });
}

/** The public half of an onion key pair, as a descriptor (and a PathHop) carries it. */
export function publicOnionKey(pair: OnionKeyPair): OnionKey {
  return {
    x25519: pair.x25519Public,
    mlkem768: pair.mlkemPublic,
    validFrom: pair.validFrom,
    validUntil: pair.validUntil,
  };
}

export function freshOnionKeyPair(): OnionKeyPair {
  const now = Date.now();
  return generateOnionKeyPair((now - HOUR) as UnixMillis, (now + 24 * HOUR) as UnixMillis);
}

/** Starts `specs.length` relays (exit on the last unless a spec says otherwise) and a client host. */
export async function startMiniNet(specs: readonly RelaySpec[]): Promise<MiniNet> {
  const directory = new Map<string, readonly Multiaddr[]>();
  const relays: MiniRelay[] = [];
  const extraHosts: Host[] = [];

  const addRelay = async (spec: RelaySpec = {}): Promise<MiniRelay> => {
    const identity = generateIdentity();
    const onionKeys = freshOnionKeyPair();
    const host = await startHost(identity.seed);
    const exit = new Exit({
      enabled: spec.exit ?? false,
      policy: parseExitPolicy(spec.exitPolicy ?? ['accept *:*']),
      allowLoopback: true,
      connectTimeoutMs: 5_000,
    });
    const addresses = host.getMultiaddrs();
    const book = new ReceiptBook(identity.publicKey);
    const economy: CircuitEconomy = {
      signer: receiptSigner(identity, () => MINI_NET_EPOCH),
      accept: (bytes) => void book.accept(bytes, MINI_NET_EPOCH),
      throwawaySigner: () => throwawaySigner(() => MINI_NET_EPOCH),
    };
    const relay: MiniRelay = {
      book,
      identity,
      peerId: host.peerId.toString(),
      onionKeys,
      host,
      exit,
      service: new RelayService({
        host,
        identityKey: identity.publicKey,
        onionKeys: () => [onionKeys],
        lookupRelay: (key) => directory.get(hex(key)),
        exit,
        log,
        ...(spec.limits === undefined ? {} : { limits: spec.limits }),
        tamper: (cell, direction) => (relay.tamper?.(cell, direction) === 'drop' ? 'drop' : undefined),
        ...(spec.receipts === true ? { economy } : {}),
      }),
      hop: {
        peerId: host.peerId.toString(),
        identityKey: identity.publicKey,
        onionKey: publicOnionKey(onionKeys),
        addresses,
      },
      tamper: undefined,
    };
    await relay.service.start();
    directory.set(hex(identity.publicKey), addresses);
    relays.push(relay);
    return relay;
  };

  const client = await startHost(generateIdentity().seed);
  try {
    for (const [i, spec] of specs.entries())
      await addRelay({ ...spec, exit: spec.exit ?? i === specs.length - 1 });
  } catch (err) {
    await Promise.allSettled([client.stop(), ...relays.map((r) => r.host.stop())]);
    throw err;
  }

  return {
    relays,
    client,
    path: (...indexes) =>
      indexes.map((i) => {
        const r = relays[i];
        if (r === undefined) throw new Error(`no relay ${i}`);
        return r.hop;
      }),
    addRelay,
    addClient: async () => {
      const h = await startHost(generateIdentity().seed);
      extraHosts.push(h);
      return h;
    },
    stop: async () => {
      await Promise.allSettled(relays.map((r) => r.service.stop()));
      await Promise.allSettled([client, ...extraHosts, ...relays.map((r) => r.host)].map((h) => h.stop()));
    },
  };
}
