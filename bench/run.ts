// Runs every benchmark in turn (`npm run bench`). Each prints its own figures and ratios.
import { spawnSync } from 'node:child_process';

const benches = [
  'link-throughput.ts',
  'testnet-ready.ts',
  'circuit.ts',
  'relay-crypto.ts',
  'ledger.ts',
  'ledger-apply.ts',
  'pow.ts',
  'ledger-frames.ts',
  'economy.ts',
];
let failed = 0;
for (const b of benches) {
  process.stdout.write(`\n== ${b}\n`);
  const r = spawnSync(process.execPath, [new URL(b, import.meta.url).pathname], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
