// The cost of a channel's send path in one process (src/circuit/channel.ts over the real yamux on
// @libp2p/utils' in-memory connection pair): `--mib` MiB of cells sent on `--circuits` circuits of one
// channel, each circuit kept at most one flow-control window (1000 cells) ahead of what the other end
// received, as flow control keeps a real circuit. Reports MiB/s and CPU-µs per cell; the same script
// runs against an older tree (only Channel, ChannelCircuit.send and CellLink are used), so a change
// to the hot path is measured before and after on the same machine, back to back.
//
//   node bench/channel-throughput.ts [--mib 200] [--circuits 1,8] [--runs 3] [--json]

import { parseArgs } from 'node:util';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream } from '@libp2p/interface';
import { multiaddrConnectionPair } from '@libp2p/utils';
import { CellLink } from '../src/circuit/cell-link.ts';
import { Channel } from '../src/circuit/channel.ts';
import { CELL_BYTES, type CircuitId, encodeCell, LinkCommand } from '../src/wire/cell.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '200' },
    circuits: { type: 'string', default: '1,8' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const WINDOW = 1000;

async function pair(): Promise<{ outbound: Stream; inbound: Stream; close(): void }> {
  const [oc, ic] = multiaddrConnectionPair();
  const om = yamux({ enableKeepAlive: false })().createStreamMuxer(oc);
  const im = yamux({ enableKeepAlive: false })().createStreamMuxer(ic);
  const inbound = new Promise<Stream>((resolve) =>
    im.addEventListener('stream', (e) => resolve(e.detail), { once: true }),
  );
  const outbound = await om.createStream();
  return {
    outbound,
    inbound: await inbound,
    close() {
      oc.abort(new Error('done'));
      ic.abort(new Error('done'));
    },
  };
}

async function once(mib: number, circuits: number): Promise<{ mibs: number; cpuUsPerCell: number }> {
  const p = await pair();
  const near = new Channel(new CellLink(p.outbound));
  const far = new Channel(new CellLink(p.inbound));
  const received = new Array<number>(circuits).fill(0);
  const ids = Array.from({ length: circuits }, (_, i) => (i + 1) as CircuitId);
  far.onUnknown = (id) => {
    received[id - 1]!++;
  };
  const links = ids.map((id) => near.attach(id));
  const template = ids.map((id) =>
    encodeCell({ circuitId: id, command: LinkCommand.RELAY, body: new Uint8Array(498) }),
  );
  const total = Math.floor((mib * 1024 * 1024) / CELL_BYTES);
  const perCircuit = Math.ceil(total / circuits);
  const sent = new Array<number>(circuits).fill(0);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      let done = true;
      for (let i = 0; i < circuits; i++) {
        // At most 32 cells a circuit a turn (a chunk's worth), at most a window ahead of the reader.
        let n = 0;
        while (sent[i]! < perCircuit && sent[i]! - received[i]! < WINDOW && n < 32) {
          // A fresh cell each time, as a relay forwards cells cut from what it read.
          links[i]!.send(template[i]!.slice());
          sent[i]!++;
          n++;
        }
        if (received[i]! < perCircuit) done = false;
      }
      if (done) resolve();
      else setImmediate(pump);
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  p.close();
  const cells = perCircuit * circuits;
  return {
    mibs: (cells * CELL_BYTES) / 1024 / 1024 / seconds,
    cpuUsPerCell: (cpu.user + cpu.system) / cells,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { mibs: number; cpuUsPerCell: number; runs: number[] }> = {};
for (const k of values.circuits.split(',').map(Number)) {
  await once(16, k); // warm-up
  const runs: Array<{ mibs: number; cpuUsPerCell: number }> = [];
  for (let r = 0; r < Number(values.runs); r++) runs.push(await once(Number(values.mib), k));
  results[`circuits=${k}`] = {
    mibs: Number(median(runs.map((x) => x.mibs)).toFixed(1)),
    cpuUsPerCell: Number(median(runs.map((x) => x.cpuUsPerCell)).toFixed(2)),
    runs: runs.map((x) => Number(x.mibs.toFixed(1))),
  };
}
if (values.json) console.log(JSON.stringify(results));
else
  for (const [k, v] of Object.entries(results))
    console.log(`${k}: ${v.mibs} MiB/s (runs ${v.runs.join(', ')}), ${v.cpuUsPerCell} CPU-µs per cell`);
