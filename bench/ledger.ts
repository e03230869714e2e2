// Ledger benchmark: finality latency (submission to commit, seen by the submitting node) and throughput
// (transfers per second until all are final) with N validator processes on this machine, plus CPU and
// memory per validator. Baseline in the same run: how many Ed25519 verifications one core does per
// second (every validator verifies every transfer's signature at least once, so that is the ceiling
// of one machine before any consensus cost).
//
//   node bench/ledger.ts [--validators 4,7,21] [--transfers 2000] [--latency-samples 20] [--block-interval 200]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type Identity, verifySignature } from '../src/crypto/identity.ts';
import { writeFileAtomic } from '../src/daemon/atomic-file.ts';
import { files, prepareDataDir } from '../src/daemon/data-dir.ts';
import { loadOrCreateIdentity } from '../src/daemon/identity-file.ts';
import { credits } from '../src/ledger/credits.ts';
import { encodeGenesis } from '../src/ledger/genesis.ts';
import { signTx, txSigningMessage } from '../src/wire/ledger-tx.ts';
import { cpuSeconds, rssKiB } from './lib/proc-cpu.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const sizes = arg('validators', '4,7,21').split(',').map(Number);
const TRANSFERS = Number(arg('transfers', '2000'));
const SAMPLES = Number(arg('latency-samples', '20'));
const PAYERS = Math.max(1, Math.ceil(TRANSFERS / 50)); // the mempool takes 64 per sender
const BLOCK_INTERVAL_MS = Number(arg('block-interval', '200'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Proc {
  readonly dir: string;
  readonly child: ChildProcess;
}

function status(dir: string): { api?: string; listen: string[]; ledger?: { height: number } } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

function baselineVerifiesPerSecond(): number {
  const id = generateIdentity();
  const msg = txSigningMessage(new Uint8Array(118));
  const sig = id.sign(msg);
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) verifySignature(id.publicKey, msg, sig);
  return n / ((performance.now() - t0) / 1000);
}

async function run(n: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `anonnet-bench-ledger-${n}-`));
  const procs: Proc[] = [];
  try {
    const keys: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const dir = join(root, `v${i}`);
      prepareDataDir(dir);
      keys.push((await loadOrCreateIdentity(join(dir, files.identity), 4)).identity.publicKey);
    }
    const payers: Identity[] = Array.from({ length: PAYERS }, () => generateIdentity());
    const payee = generateIdentity().publicKey;
    const genesis = join(root, 'genesis.json');
    writeFileAtomic(
      genesis,
      encodeGenesis({
        chainId: 'bench',
        params: {
          blockIntervalMs: BLOCK_INTERVAL_MS,
          validatorCount: n,
          powDifficulty: 4,
          epochLength: 100_000,
        },
        validators: keys,
        accounts: payers.map((p) => ({ key: p.publicKey, balance: credits(1_000_000) })),
      }),
      0o644,
    );
    const start = (i: number, extra: string[]) => {
      const dir = join(root, `v${i}`);
      const child = spawn(
        process.execPath,
        [
          CLI,
          'node',
          '--data-dir',
          dir,
          '--listen',
          '/ip4/127.0.0.1/tcp/0',
          '--allow-private-addresses',
          '--inbound-per-host',
          '1000',
          '--no-nat',
          '--no-socks',
          '--no-http-proxy',
          ...(i === 0 ? ['--api-port', '0'] : ['--no-api']),
          '--pow-difficulty',
          '4',
          '--min-peers',
          String(Math.min(n - 1, 8)),
          '--log-level',
          'warn',
          '--log-file',
          join(dir, 'daemon.log'),
          '--genesis',
          genesis,
          '--timeout-propose',
          String(1000 + 100 * n),
          ...extra,
        ],
        { stdio: 'ignore' },
      );
      procs.push({ dir, child });
    };
    const t0 = Date.now();
    start(0, []);
    await until(() => (status(procs[0]!.dir)?.listen.length ?? 0) > 0, 60_000, 'v0 listening');
    const seed = status(procs[0]!.dir)!.listen.find((a) => a.includes('/tcp/'))!;
    for (let i = 1; i < n; i++) start(i, ['--bootstrap', seed]);
    await until(() => (status(procs[0]!.dir)?.ledger?.height ?? 0) >= 3, 240_000, 'first blocks');
    const startupS = (Date.now() - t0) / 1000;
    const api = status(procs[0]!.dir)!.api!;
    const token = readFileSync(join(procs[0]!.dir, 'api-token'), 'utf8').trim();
    const post = async (bytes: Uint8Array) => {
      const res = await fetch(`${api}/api/v1/ledger/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tx: hex(bytes) }),
      });
      const body = (await res.json()) as { txId?: string };
      if (res.status !== 202 || body.txId === undefined)
        throw new Error(`submit: ${res.status} ${JSON.stringify(body)}`);
      return body.txId;
    };
    const state = async (id: string) => {
      const res = await fetch(`${api}/api/v1/ledger/transactions/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { status: string }).status;
    };
    const nonces = new Map<Identity, bigint>(payers.map((p) => [p, 0n]));
    const transfer = (p: Identity) => {
      const nonce = (nonces.get(p) ?? 0n) + 1n;
      nonces.set(p, nonce);
      return signTx({ kind: 'TRANSFER', sender: p.publicKey, nonce, fee: 1n, to: payee, amount: 1n }, (m) =>
        p.sign(m),
      ).bytes;
    };

    // Consensus at rest: empty blocks every BLOCK_INTERVAL_MS, STATUS, peer upkeep. Its CPU rate is what
    // every validator pays before any transaction; with many processes on few cores it is the floor.
    const idle0 = procs.map((p) => cpuSeconds(p.child.pid!));
    const idleH0 = status(procs[0]!.dir)?.ledger?.height ?? 0;
    await sleep(5000);
    const idleRate = procs.map((p, i) => (cpuSeconds(p.child.pid!) - (idle0[i] ?? 0)) / 5);
    const idleBlocks = ((status(procs[0]!.dir)?.ledger?.height ?? 0) - idleH0) / 5;

    // Finality latency: one transfer at a time.
    const lat: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const bytes = transfer(payers[0]!);
      const s = performance.now();
      const id = await post(bytes);
      await until(async () => (await state(id)) === 'committed', 60_000, 'final');
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);

    // Throughput: every transfer signed up front, submitted, then wait until the last of each payer is final.
    const batch: Uint8Array[] = [];
    for (let i = 0; i < TRANSFERS; i++) batch.push(transfer(payers[i % PAYERS]!));
    const cpu0 = procs.map((p) => cpuSeconds(p.child.pid!));
    const h0 = status(procs[0]!.dir)?.ledger?.height ?? 0;
    const s = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < batch.length; i += 50)
      ids.push(...(await Promise.all(batch.slice(i, i + 50).map((b) => post(b)))));
    const submitS = (performance.now() - s) / 1000;
    const lastIds = ids.slice(-PAYERS);
    await until(
      async () => (await Promise.all(lastIds.map(state))).every((x) => x === 'committed'),
      600_000,
      'all final',
    );
    const totalS = (performance.now() - s) / 1000;
    const cpu = procs.map((p, i) => cpuSeconds(p.child.pid!) - (cpu0[i] ?? 0));
    const blocks = (status(procs[0]!.dir)?.ledger?.height ?? 0) - h0;
    const rss = procs.map((p) => rssKiB(p.child.pid!) / 1024);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    process.stdout.write(
      `${String(n).padStart(3)} validators | startup ${startupS.toFixed(1)} s | finality median ${lat[Math.floor(lat.length / 2)]?.toFixed(0)} ms, p95 ${lat[Math.floor(lat.length * 0.95)]?.toFixed(0)} ms | ` +
        `${TRANSFERS} transfers in ${totalS.toFixed(1)} s (submit ${submitS.toFixed(1)} s, ${blocks} blocks) = ${(TRANSFERS / totalS).toFixed(0)} tx/s | ` +
        `CPU per validator ${mean(cpu).toFixed(1)} s (${((mean(cpu) / TRANSFERS) * 1e3).toFixed(2)} ms/tx) | RSS per validator ${mean(rss).toFixed(0)} MiB | ` +
        `at rest ${(mean(idleRate) * 1e3).toFixed(0)} CPU-ms/s per validator (${idleBlocks.toFixed(1)} blocks/s; ${(mean(idleRate) * n * 100).toFixed(0)} % of one core for all)\n`,
    );
  } finally {
    // A clean exit (up to 15 s on a loaded machine) lets --cpu-prof write the daemons' profiles.
    const exited = procs.map((p) =>
      p.child.exitCode !== null ? Promise.resolve() : new Promise((r) => p.child.once('exit', r)),
    );
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(exited), sleep(15_000)]);
    for (const p of procs) p.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

const verifies = baselineVerifiesPerSecond();
process.stdout.write(
  `baseline: one core verifies ${verifies.toFixed(0)} Ed25519 signatures/s (block interval ${BLOCK_INTERVAL_MS} ms)\n`,
);
for (const n of sizes) await run(n);
