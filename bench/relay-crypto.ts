// Per-cell cost of the relay crypto (src/crypto/relay-crypto.ts) for cells of 1024, 2048 and 4096
// bytes (AnonNet uses 2048), against a baseline measured in the same run: one kept-alive
// AES-256-CTR update() over the same number of bytes.
//
//   client 3-layer encrypt   ClientCircuitCrypto.encryptForward(body, 2): digest + 3 layers
//   relay hop (pass on)      RelayHopCrypto.forward on a cell for a further hop: 1 layer
//   relay backward add       RelayHopCrypto.backwardRelay: 1 layer
//   edge recognize (exit)    RelayHopCrypto.forward on a cell for this hop: 1 layer + digest check
//   exit originate           RelayHopCrypto.backwardOriginate: digest + 1 layer
//   client 3-layer decrypt   ClientCircuitCrypto.decryptBackward of a cell from hop 2: 3 layers + checks
//
// Reports the median over --rounds rounds of --cells cells each: µs per cell, MiB/s of body bytes,
// and the cost relative to the baseline.
//
//   node bench/relay-crypto.ts [--cells 20000] [--rounds 5] [--sizes 1024,2048,4096] [--json]
import { createCipheriv, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { HopKeys } from '../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto, RelayHopCrypto } from '../src/crypto/relay-crypto.ts';
import { CELL_HEADER_BYTES } from '../src/wire/cell.ts';

const MiB = 1024 * 1024;

interface Row {
  readonly cellBytes: number;
  readonly op: string;
  /** CPU µs per cell. */
  readonly usPerCell: number;
  readonly wallUsPerCell: number;
  /** Body bytes per CPU second. */
  readonly mibPerS: number;
  /** CPU cost relative to the baseline. */
  readonly vsBaseline: number;
}

function parse() {
  const { values } = parseArgs({
    options: {
      cells: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '5' },
      sizes: { type: 'string', default: '1024,2048,4096' },
      json: { type: 'boolean', default: false },
    },
  });
  return {
    cells: Math.max(100, Number(values.cells)),
    rounds: Math.max(1, Number(values.rounds)),
    sizes: values.sizes.split(',').map((s) => Number(s.trim())),
    json: values.json,
  };
}

function keys(): HopKeys {
  return {
    forwardKey: new Uint8Array(randomBytes(32)),
    backwardKey: new Uint8Array(randomBytes(32)),
    forwardDigestSeed: new Uint8Array(randomBytes(32)),
    backwardDigestSeed: new Uint8Array(randomBytes(32)),
  };
}

function copy(k: HopKeys): HopKeys {
  return {
    forwardKey: k.forwardKey.slice(),
    backwardKey: k.backwardKey.slice(),
    forwardDigestSeed: k.forwardDigestSeed.slice(),
    backwardDigestSeed: k.backwardDigestSeed.slice(),
  };
}

/** A client and 3 relays sharing keys. */
function circuit(): { client: ClientCircuitCrypto; relays: RelayHopCrypto[] } {
  const client = new ClientCircuitCrypto();
  const relays: RelayHopCrypto[] = [];
  for (let i = 0; i < 3; i++) {
    const k = keys();
    relays.push(new RelayHopCrypto(copy(k)));
    client.addHop(k);
  }
  return { client, relays };
}

function bodies(n: number, bodyBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const b = new Uint8Array(bodyBytes);
    b[22] = 3; // a DATA command; the rest is zero padding
    out.push(b);
  }
  return out;
}

interface Timing {
  /** CPU time of this process per cell (user + system), ns: robust on a loaded machine. */
  readonly cpuNs: number;
  /** Wall-clock time per cell, ns. */
  readonly wallNs: number;
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Medians per cell over `rounds` rounds; `prepare` builds fresh inputs outside the timed part. */
function measure(rounds: number, prepare: () => Uint8Array[], run: (cells: Uint8Array[]) => void): Timing {
  const cpu: number[] = [];
  const wall: number[] = [];
  run(prepare()); // warm-up
  for (let r = 0; r < rounds; r++) {
    const cells = prepare();
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    run(cells);
    const w = Number(process.hrtime.bigint() - t);
    const used = process.cpuUsage(c);
    cpu.push(((used.user + used.system) * 1000) / cells.length);
    wall.push(w / cells.length);
  }
  return { cpuNs: median(cpu), wallNs: median(wall) };
}

function benchSize(cellBytes: number, n: number, rounds: number): Row[] {
  const bodyBytes = cellBytes - CELL_HEADER_BYTES;
  const rows: Row[] = [];
  const add = (op: string, t: Timing, b: Timing) =>
    rows.push({
      cellBytes,
      op,
      usPerCell: t.cpuNs / 1000,
      wallUsPerCell: t.wallNs / 1000,
      mibPerS: (bodyBytes / t.cpuNs / MiB) * 1e9,
      vsBaseline: t.cpuNs / b.cpuNs,
    });

  const aes = createCipheriv('aes-256-ctr', randomBytes(32), new Uint8Array(16));
  const random = () => Array.from({ length: n }, () => new Uint8Array(randomBytes(bodyBytes)));
  const base = measure(rounds, random, (cells) => {
    for (const c of cells) aes.update(c);
  });
  add('baseline: 1 AES-256-CTR update', base, base);

  const c1 = circuit();
  add(
    'client 3-layer encrypt',
    measure(
      rounds,
      () => bodies(n, bodyBytes),
      (cells) => {
        for (const c of cells) c1.client.encryptForward(c, 2);
      },
    ),
    base,
  );

  const c2 = circuit();
  const middle = c2.relays[1]!;
  add(
    'relay hop (pass on)',
    measure(rounds, random, (cells) => {
      for (const c of cells) middle.forward(c);
    }),
    base,
  );
  add(
    'relay backward add',
    measure(rounds, random, (cells) => {
      for (const c of cells) middle.backwardRelay(c);
    }),
    base,
  );

  // Edge recognize: cells the client sealed for hop 0 of a fresh circuit, in order.
  const c3 = circuit();
  add(
    'edge recognize (exit)',
    measure(
      rounds,
      () =>
        bodies(n, bodyBytes).map((b) => {
          c3.client.encryptForward(b, 0);
          return b;
        }),
      (cells) => {
        for (const c of cells) if (!c3.relays[0]!.forward(c)) throw new Error('not recognized');
      },
    ),
    base,
  );

  const c4 = circuit();
  add(
    'exit originate',
    measure(
      rounds,
      () => bodies(n, bodyBytes),
      (cells) => {
        for (const c of cells) c4.relays[2]!.backwardOriginate(c);
      },
    ),
    base,
  );

  const c5 = circuit();
  add(
    'client 3-layer decrypt',
    measure(
      rounds,
      () =>
        bodies(n, bodyBytes).map((b) => {
          c5.relays[2]!.backwardOriginate(b);
          c5.relays[1]!.backwardRelay(b);
          c5.relays[0]!.backwardRelay(b);
          return b;
        }),
      (cells) => {
        for (const c of cells) if (c5.client.decryptBackward(c) !== 2) throw new Error('not recognized');
      },
    ),
    base,
  );
  return rows;
}

const args = parse();
const rows = args.sizes.flatMap((s) => benchSize(s, args.cells, args.rounds));
if (args.json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(
    `relay crypto, ${args.cells} cells x ${args.rounds} rounds (median), Node ${process.version}; ` +
      "µs/cell and MiB/s (cell body bytes) from this process's CPU time, wall clock beside",
  );
  console.log(
    `${'cell'.padStart(5)}  ${'operation'.padEnd(32)} ${'µs/cell'.padStart(8)} ${'MiB/s'.padStart(8)} ` +
      `${'x base'.padStart(7)} ${'wall µs'.padStart(8)}`,
  );
  for (const r of rows) {
    console.log(
      `${String(r.cellBytes).padStart(5)}  ${r.op.padEnd(32)} ${r.usPerCell.toFixed(2).padStart(8)} ` +
        `${r.mibPerS.toFixed(0).padStart(8)} ${r.vsBaseline.toFixed(2).padStart(7)} ` +
        `${r.wallUsPerCell.toFixed(2).padStart(8)}`,
    );
  }
}
