// Probe script (not an attack): what a node offers to any peer that connects to it. It connects, reads
// the protocols the node announces (identify), and tries to open the circuit protocol, fetch the node's
// own descriptor and open the DHT protocol. A relay offers all three; a client only none of them.
// Reports {announced: string[], circuit, descriptor, dht}: each "ok" or "refused: <message>".
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { fetchPeerDescriptor } from '../../../src/directory/descriptor-protocol.ts';
import { DHT_PROTOCOL } from '../../../src/p2p/options.ts';
import { attackArgs, createAttackerHost, openProtocol, report, stopAll } from './attacker-host.ts';

interface Args {
  /** The node's multiaddr, with /p2p/<id>. */
  readonly address: string;
}

const args = attackArgs<Args>();
const host = await createAttackerHost({ listen: false });
const peerId =
  multiaddr(args.address)
    .getComponents()
    .findLast((c) => c.name === 'p2p')?.value ?? '';
await host.dial(multiaddr(args.address), { signal: AbortSignal.timeout(10_000) });

/** Identify runs after the connection opens: wait until the peer store has the node's protocols. */
async function announced(): Promise<string[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      const p = await host.peerStore.get(peerIdFromString(peerId));
      if (p.protocols.length > 0 || Date.now() > end) return [...p.protocols].sort();
    } catch {
      if (Date.now() > end) return [];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function attempt(what: () => Promise<unknown>): Promise<string> {
  try {
    await what();
    return 'ok';
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
}

const protocols = await announced();
const circuit = await attempt(async () => {
  const s = await openProtocol(host, args.address, CIRCUIT_PROTOCOL);
  s.abort(new Error('probe done'));
});
const descriptor = await attempt(() => fetchPeerDescriptor(host, peerId, AbortSignal.timeout(10_000)));
const dht = await attempt(async () => {
  const s = await openProtocol(host, args.address, DHT_PROTOCOL);
  s.abort(new Error('probe done'));
});
report({ announced: protocols, circuit, descriptor, dht });
await stopAll([host]);
