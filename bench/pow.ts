// What an identity's proof-of-work (src/crypto/pow.ts) costs on this machine, and so what farming
// the ledger's start grant costs with the stock solver: the hash rate of solvePow (one core, CPU
// time), against a baseline measured in the same run (the same SHA-256 through a createHash object
// per nonce, as solvePow did before), the expected CPU seconds per identity at each difficulty, and
// a few real solves at --solve-bits (the work is geometric: a solve can take several times the mean).
//
//   expected s/identity   2^bits / rate
//   1M credits            identities needed (1,000,000 / startingCredits) x expected s/identity
//
//   node bench/pow.ts [--hashes 2000000] [--bits 16,20,22,24,26] [--solve-bits 20] [--solves 8] [--json]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generateIdentity } from '../src/crypto/identity.ts';
import { DEFAULT_POW_DIFFICULTY, leadingZeroBits, solvePow } from '../src/crypto/pow.ts';
import { defaultLedgerParams } from '../src/ledger/state.ts';

const { values } = parseArgs({
  options: {
    hashes: { type: 'string', default: '2000000' },
    bits: { type: 'string', default: '16,20,22,24,26' },
    'solve-bits': { type: 'string', default: '20' },
    solves: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
});
const hashes = Number(values.hashes);
const bitsList = values.bits.split(',').map(Number);
const solveBits = Number(values['solve-bits']);
const solves = Number(values.solves);

function cpuSeconds<T>(fn: () => T): { s: number; value: T } {
  const before = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(before);
  return { s: (used.user + used.system) / 1e6, value };
}

const key = generateIdentity().publicKey;
// solvePow at an unreachable difficulty, bounded by maxIterations: exactly `hashes` nonces hashed.
const solver = cpuSeconds(() => solvePow(key, 64, { maxIterations: hashes }));
const baseline = cpuSeconds(() => {
  const input = new Uint8Array(14 + 32 + 8);
  const view = new DataView(input.buffer);
  let best = 0;
  for (let i = 0; i < hashes; i++) {
    view.setUint32(50, i);
    best = Math.max(best, leadingZeroBits(createHash('sha256').update(input).digest()));
  }
  return best;
});
const rate = hashes / solver.s;
const baseRate = hashes / baseline.s;

const startingCredits = Number(defaultLedgerParams.startingCredits);
const identitiesPerMillion = Math.ceil(1_000_000 / startingCredits);
const rows = bitsList.map((bits) => {
  const perIdentity = 2 ** bits / rate;
  return {
    bits,
    expectedSecondsPerIdentity: perIdentity,
    millionCreditsCoreHours: (identitiesPerMillion * perIdentity) / 3600,
    default: bits === DEFAULT_POW_DIFFICULTY,
  };
});

const solveSeconds: number[] = [];
for (let i = 0; i < solves; i++) {
  const k = generateIdentity().publicKey;
  solveSeconds.push(cpuSeconds(() => solvePow(k, solveBits)).s);
}
solveSeconds.sort((a, b) => a - b);
const mean = solveSeconds.reduce((s, x) => s + x, 0) / Math.max(1, solves);

const result = {
  hashesPerSecond: Math.round(rate),
  baselineHashesPerSecond: Math.round(baseRate),
  speedupOverBaseline: rate / baseRate,
  startingCredits,
  identitiesPerMillionCredits: identitiesPerMillion,
  rows,
  solves: {
    bits: solveBits,
    count: solves,
    meanSeconds: mean,
    expectedSeconds: 2 ** solveBits / rate,
    medianSeconds: solveSeconds[Math.floor(solves / 2)] ?? 0,
    maxSeconds: solveSeconds.at(-1) ?? 0,
  },
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const f = (x: number, d = 2) => x.toFixed(d);
  process.stdout.write(
    `solvePow: ${f(rate / 1e6, 3)} M hashes/s per core (baseline createHash per nonce: ${f(baseRate / 1e6, 3)} M/s, ` +
      `x${f(result.speedupOverBaseline)})\n`,
  );
  process.stdout.write(
    `start grant ${startingCredits} credits: ${identitiesPerMillion} identities per 1M credits\n\n`,
  );
  process.stdout.write('bits  expected s/identity  1M credits (core-hours)\n');
  for (const r of rows) {
    process.stdout.write(
      `${String(r.bits).padStart(4)}  ${f(r.expectedSecondsPerIdentity, 3).padStart(19)}  ${f(r.millionCreditsCoreHours, 3).padStart(23)}${r.default ? '   <- default' : ''}\n`,
    );
  }
  process.stdout.write(
    `\n${solves} solves at ${solveBits} bits: mean ${f(mean, 3)} s (expected ${f(result.solves.expectedSeconds, 3)} s), ` +
      `median ${f(result.solves.medianSeconds, 3)} s, max ${f(result.solves.maxSeconds, 3)} s\n`,
  );
}
