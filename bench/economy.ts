// What proof of relay costs (docs/economy.md), against a baseline measured in the same run: the relay
// crypto a relay does anyway for the same traffic.
//
//   receipts per MiB relayed  one receipt signed (for the previous hop) and one checked (from the next
//                             hop) per 512 cells, vs RelayHopCrypto.forward on those 512 cells
//   claim                     building the Merkle sum tree over an epoch's receipts (--receipts)
//   audit                     the relay's answer and the validator's check of --samples positions
//   ledger growth             bytes of claim and measurement transactions and of the state's relay and
//                             settlement records, per 1000 relays per day (epochs of the default length)
//
//   node bench/economy.ts [--rounds 5] [--receipts 10000] [--samples 48] [--json]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { identityFromSeed } from '../src/crypto/identity.ts';
import { RelayHopCrypto } from '../src/crypto/relay-crypto.ts';
import { checkAuditAnswer, samplePositions } from '../src/economy/audit.ts';
import { receiptSigner } from '../src/economy/circuit-economy.ts';
import { answerAudit, buildClaim } from '../src/economy/claim.ts';
import { ReceiptBook } from '../src/economy/receipt-book.ts';
import { RECEIPT_EVERY_CELLS } from '../src/economy/receipt-counter.ts';
import { defaultLedgerParams } from '../src/ledger/state.ts';
import { CELL_BYTES, CELL_HEADER_BYTES } from '../src/wire/cell.ts';
import { type SignedTx, signTx, type Tx } from '../src/wire/ledger-tx.ts';
import type { SignedReceipt } from '../src/wire/receipt.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    receipts: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '48' },
    'circuit-mib': { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(values.rounds));
const receiptCount = Math.max(10, Number(values.receipts));
const samples = Math.max(1, Math.min(255, Number(values.samples)));
const circuitMiB = Math.max(1, Number(values['circuit-mib']));

/** Median CPU µs of `fn` over the rounds (each round runs it `n` times; µs per call). */
function cpuUs(n: number, fn: (i: number) => void): number {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    const t = process.cpuUsage(t0);
    out.push((t.user + t.system) / n);
  }
  out.sort((a, b) => a - b);
  return out[out.length >> 1] ?? 0;
}

const relay = identityFromSeed(new Uint8Array(32).fill(1));
const next = identityFromSeed(new Uint8Array(32).fill(2));
const signer = receiptSigner(next, () => 7);

// Baseline: the relay crypto on one MiB of cells (RECEIPT_EVERY_CELLS cells), passed on to a further hop.
const hop = new RelayHopCrypto({
  forwardKey: new Uint8Array(randomBytes(32)),
  backwardKey: new Uint8Array(randomBytes(32)),
  forwardDigestSeed: new Uint8Array(randomBytes(32)),
  backwardDigestSeed: new Uint8Array(randomBytes(32)),
});
const cell = new Uint8Array(randomBytes(CELL_BYTES));
const perMiBCells = Number(RECEIPT_EVERY_CELLS);
const cryptoPerCellUs = cpuUs(20_000, () => hop.forward(cell.subarray(CELL_HEADER_BYTES)));
const cryptoPerMiBUs = cryptoPerCellUs * perMiBCells;

// One receipt signed and one taken per MiB; a circuit's receipts are verified once per epoch (the first
// on arrival, the newest at claim time), amortised here over a circuit of --circuit-mib MiB.
let tag = 0n;
const signUs = cpuUs(2000, () => signer.sign(7, relay.publicKey, tag++, 512n));
const toCheck: SignedReceipt[] = Array.from({ length: 2000 }, (_, i) =>
  signer.sign(7, relay.publicKey, BigInt(i) + 10_000_000n, 512n),
);
const verifyUs =
  cpuUs(1, () => {
    const book = new ReceiptBook(relay.publicKey);
    for (const r of toCheck) book.accept(r.bytes, 7);
  }) / toCheck.length;
// The same receipts, one circuit: each replaces the last, unverified until the claim.
const sameCircuit: SignedReceipt[] = Array.from({ length: 2000 }, (_, i) =>
  signer.sign(7, relay.publicKey, 42n, BigInt(512 * (i + 1))),
);
const takeUs =
  cpuUs(1, () => {
    const book = new ReceiptBook(relay.publicKey);
    for (const r of sameCircuit) book.accept(r.bytes, 7);
  }) / sameCircuit.length;
const checkUs = takeUs + (2 * verifyUs) / circuitMiB;
const receiptsPerMiBUs = signUs + checkUs;

// A claim over an epoch's receipts, and one audit of it.
const receipts = Array.from({ length: receiptCount }, (_, i) =>
  receiptSigner(identityFromSeed(new Uint8Array(32).fill((i % 200) + 3)), () => 7).sign(
    7,
    relay.publicKey,
    BigInt(i),
    BigInt(1 + (i % 5000)),
  ),
);
const claimMs = cpuUs(1, () => buildClaim(relay.publicKey, 7, receipts)) / 1000;
const built = buildClaim(relay.publicKey, 7, receipts);
const txId = new Uint8Array(randomBytes(32));
const positions = samplePositions(txId, built.claim.cells, samples);
const answerMs = cpuUs(20, () => answerAudit(built, positions)) / 1000;
const answer = answerAudit(built, positions);
const checkMs = cpuUs(20, () => checkAuditAnswer(built.claim, positions, answer)) / 1000;

// Ledger growth: one claim per relay per epoch, each validator's measurements, the state records.
const sign = (tx: Tx): SignedTx => signTx(tx, (m) => relay.sign(m));
const header = { sender: relay.publicKey, nonce: 1n, fee: 1n };
const claimTx = sign({
  ...header,
  kind: 'RELAY_CLAIM',
  epoch: 7,
  cells: 1n << 40n,
  leaves: 1000,
  root: txId,
});
const measurementTx = sign({
  ...header,
  kind: 'MEASUREMENT',
  epoch: 7,
  entries: Array.from({ length: 10 }, () => ({ relay: relay.publicKey, bandwidth: 1e7, latencyMs: 40 })),
});
const p = defaultLedgerParams;
const epochsPerDay = (24 * 3600 * 1000) / (p.blockIntervalMs * p.epochLength);
const relays = 1000;
const validators = p.validatorCount;
const claimBytesPerDay = relays * claimTx.bytes.length * epochsPerDay;
const measured = Math.min(relays, p.measureSample);
const measurementBytesPerDay =
  validators * Math.ceil(measured / 10) * measurementTx.bytes.length * epochsPerDay;
// State: a relay record (key 32 + fixed fields ~ 160 + policy) and a settlement record (~ 80): bounded,
// replaced each epoch, not accumulated.
const stateBytesPer1000 =
  relays * (32 + 1 + 4 + 32 + 2 + 8 + 32 + 8 + 8 + 1 + 16 + 32 + 8 + 8 + 8 + 2 + 8 + 8 + 1 + 4);

const result = {
  baseline: { relayCryptoUsPerMiB: cryptoPerMiBUs, cellsPerMiB: perMiBCells },
  receipts: {
    signUs,
    verifyUs,
    takeUs,
    checkUs,
    usPerMiB: receiptsPerMiBUs,
    percentOfRelayCrypto: (100 * receiptsPerMiBUs) / cryptoPerMiBUs,
    cpuSecondsPerGiB: (receiptsPerMiBUs * 1024) / 1e6,
  },
  claim: { receipts: receiptCount, buildMs: claimMs },
  audit: {
    samples,
    answerMs,
    checkMs,
    validatorSecondsPerEpochFor1000Relays: (checkMs * relays) / 1000,
  },
  ledgerGrowthPer1000RelaysPerDay: {
    epochsPerDay,
    claimTxBytes: claimTx.bytes.length,
    measurementTxBytes: measurementTx.bytes.length,
    claimMiB: claimBytesPerDay / 2 ** 20,
    measurementMiB: measurementBytesPerDay / 2 ** 20,
    stateRecordsKiB: stateBytesPer1000 / 1024,
  },
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const r = result;
  const f = (n: number, d = 1) => n.toFixed(d);
  process.stdout.write(
    [
      `relay crypto (baseline): ${f(cryptoPerCellUs, 2)} µs/cell, ${f(cryptoPerMiBUs)} µs per MiB relayed`,
      `receipts: sign ${f(signUs)} µs, verify ${f(verifyUs)} µs, take unverified ${f(takeUs)} µs; with ${circuitMiB} MiB circuits, per MiB relayed ${f(receiptsPerMiBUs)} µs = ${f(r.receipts.percentOfRelayCrypto)}% of the relay crypto; ${f(r.receipts.cpuSecondsPerGiB, 3)} CPU-s per GiB`,
      `claim over ${receiptCount} receipts: ${f(claimMs)} ms`,
      `audit (${samples} samples): relay answers in ${f(answerMs, 2)} ms, validator checks in ${f(checkMs, 2)} ms; 1000 relays: ${f(r.audit.validatorSecondsPerEpochFor1000Relays)} CPU-s per validator per epoch`,
      `ledger growth per 1000 relays per day (${f(epochsPerDay, 0)} epochs): claims ${f(r.ledgerGrowthPer1000RelaysPerDay.claimMiB, 2)} MiB (${claimTx.bytes.length} B each), measurements ${f(r.ledgerGrowthPer1000RelaysPerDay.measurementMiB, 2)} MiB (${validators} validators), state records ${f(r.ledgerGrowthPer1000RelaysPerDay.stateRecordsKiB)} KiB (kept, not accumulated)`,
    ].join('\n') + '\n',
  );
}
