// The relay economy of docs/economy.md, simulated: >= 1000 relays over >= 1000 epochs, honest, lazy,
// lying and colluding, at several shares of dishonest relays. Claims are real Merkle sum trees over
// receipts in the wire format, audited with the real sampling and checks (economy/audit.ts); only
// Ed25519 is replaced by a flag per receipt (bench/lib/economy-sim/claims.ts). Prints markdown tables
// (share of false claims caught, earnings by class, supply) and writes an SVG plot.
//
//   node bench/economy-sim.ts [--relays 1000] [--epochs 1000] [--seed 1] [--shares 0,10,30]
//        [--sound-audits 2] [--receipts 3,10] [--workers 2] [--svg docs/economy-sim.svg] [--json]
//
// --sound-audits: percent of the claims of honest, lazy and colluding relays that is audited. Their
// leaves are validly signed and distinct, so they pass (these audits look for false positives and
// confirm that collusion passes); every liar's claim is audited, since that is what is measured.
// --svg '' writes no plot. Scenarios run in parallel on --workers threads; results do not depend on it.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { defaultEconomyParams } from './lib/economy-sim/params.ts';
import { fullReport } from './lib/economy-sim/report.ts';
import { type SimOptions, type SimResult, simulate } from './lib/economy-sim/simulation.ts';
import { renderSvg } from './lib/economy-sim/svg.ts';

const { values } = parseArgs({
  options: {
    relays: { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    shares: { type: 'string', default: '0,10,30' },
    'sound-audits': { type: 'string', default: '2' },
    receipts: { type: 'string', default: '3,10' },
    workers: { type: 'string', default: '2' },
    svg: { type: 'string', default: 'docs/economy-sim.svg' },
    json: { type: 'boolean', default: false },
  },
});

const [minReceipts, maxReceipts] = values.receipts.split(',').map(Number) as [number, number];
const scenarios: SimOptions[] = values.shares.split(',').map((s) => ({
  relays: Number(values.relays),
  epochs: Number(values.epochs),
  seed: Number(values.seed),
  dishonestShare: Number(s) / 100,
  soundAuditRate: Number(values['sound-audits']) / 100,
  receipts: [minReceipts, maxReceipts],
}));

function inWorker(o: SimOptions): Promise<SimResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/economy-sim/worker.ts', import.meta.url), { workerData: o });
    w.once('message', (r: SimResult) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`simulation worker exited with ${code}`));
    });
  });
}

async function runAll(workers: number): Promise<SimResult[]> {
  if (workers <= 1) return scenarios.map(simulate);
  const results = new Array<SimResult>(scenarios.length);
  let next = 0;
  // Largest share first: it has the most audits, so it decides the wall time.
  const order = scenarios
    .map((_, i) => i)
    .sort((a, b) => scenarios[b]!.dishonestShare - scenarios[a]!.dishonestShare);
  const lane = async () => {
    while (next < order.length) {
      const i = order[next++] as number;
      results[i] = await inWorker(scenarios[i] as SimOptions);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, scenarios.length) }, lane));
  return results;
}

const started = performance.now();
const results = await runAll(Number(values.workers));
const seconds = (performance.now() - started) / 1000;
if (values.svg !== '') writeFileSync(values.svg, renderSvg(results));
const violations = results.flatMap((r) =>
  r.violations.map((v) => `${r.options.dishonestShare * 100}%: ${v}`),
);
if (values.json) {
  const json = JSON.stringify({ seconds, violations, results }, (_, v) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v,
  );
  process.stdout.write(`${json}\n`);
} else {
  process.stdout.write(`${fullReport(results, defaultEconomyParams.auditSamples)}\n\n`);
  process.stdout.write(`(${seconds.toFixed(1)} s${values.svg === '' ? '' : `; plot: ${values.svg}`})\n`);
  for (const v of violations.slice(0, 20)) process.stdout.write(`VIOLATION ${v}\n`);
}
process.exitCode = violations.length === 0 ? 0 : 1;
