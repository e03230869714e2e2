// Circuits on this machine, each figure next to a baseline measured in the same run:
//   build      median and p95 of N circuit builds (POST /api/v1/circuits on the client node)
//   ttfb       time to first byte of an HTTP GET through SOCKS5 vs the same GET straight over TCP
//   throughput one 3-hop stream (client, three relays and the server are separate processes) vs the
//              same download over one direct TCP connection
//
//   throughput is also given as CPU-seconds per MiB summed over the testnet's processes (from /proc:
//              the steadier figure on a shared machine); --runs repeats the 3-hop transfer.
//
//   node bench/circuit.ts [--builds 200] [--mib 100] [--runs 1] [--json]
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { cpuDelta, treeCpu } from './lib/proc-cpu.ts';

const run = promisify(execFile);
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const SERVER = new URL('./lib/http-server.ts', import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    builds: { type: 'string', default: '200' },
    mib: { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const builds = Number(values.builds);
const mib = Number(values.mib);
const runs = Math.max(1, Number(values.runs));

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;

async function firstLine(proc: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`exited (${code}) before its first line`)));
  });
}

async function curlTimes(args: string[]): Promise<{ ttfb: number; speed: number }> {
  const r = await run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '--max-time',
    '300',
    '-w',
    '%{time_starttransfer} %{speed_download}',
    ...args,
  ]);
  const [t, s] = r.stdout.trim().split(' ').map(Number);
  return { ttfb: (t ?? Number.NaN) * 1000, speed: (s ?? Number.NaN) / (1024 * 1024) };
}

const dir = mkdtempSync(join(tmpdir(), 'anonnet-bench-circuit-'));
const server = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const net = spawn(
  process.execPath,
  [
    CLI,
    'testnet',
    '--json',
    '--nodes',
    '4',
    '--dir',
    dir,
    '--socks-port',
    '0',
    '--http-port',
    '0',
    '--api-port',
    '0',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  const port = Number(await firstLine(server));
  const ready = JSON.parse(await firstLine(net)) as { socks: string; api: string; token: string };
  const auth = { authorization: `Bearer ${ready.token}` };

  const buildMs: number[] = [];
  const buildCpuBefore = treeCpu(net.pid!);
  for (let i = 0; i < builds; i++) {
    const res = await fetch(`${ready.api}/api/v1/circuits`, { method: 'POST', headers: auth });
    if (res.status !== 201) throw new Error(`build ${i} answered ${res.status}: ${await res.text()}`);
    const c = (await res.json()) as { id: string; buildMs: number };
    buildMs.push(c.buildMs);
    await fetch(`${ready.api}/api/v1/circuits/${c.id}`, { method: 'DELETE', headers: auth });
  }

  // CPU of the whole testnet per build (the API calls included): steadier than latency under load.
  const buildCpuMs =
    (cpuDelta(buildCpuBefore, treeCpu(net.pid!)).reduce((a, b) => a + b, 0) * 1000) / Math.max(1, builds);

  const page = `http://127.0.0.1:${port}/`;
  const ttfbAnon: number[] = [];
  const ttfbDirect: number[] = [];
  for (let i = 0; i < 20; i++) {
    ttfbAnon.push((await curlTimes(['--socks5-hostname', ready.socks, page])).ttfb);
    ttfbDirect.push((await curlTimes([page])).ttfb);
  }
  // The daemons are not idle between transfers (consensus rounds, block writes, peer upkeep): measure
  // that background CPU rate, so the transfer's own cost can be told apart from it.
  const idleSeconds = 5;
  const idleBefore = treeCpu(net.pid!);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idlePerProcess = cpuDelta(idleBefore, treeCpu(net.pid!)).map((s) => s / idleSeconds);
  const idleRate = idlePerProcess.reduce((a, b) => a + b, 0);
  const big = `http://127.0.0.1:${port}/big?mib=${mib}`;
  const direct = (await curlTimes([big])).speed;
  const speeds: number[] = [];
  const cpuPerMiB: number[] = [];
  const netCpuPerMiB: number[] = [];
  const perProcess: number[][] = [];
  for (let r = 0; r < runs; r++) {
    const before = treeCpu(net.pid!);
    const t0 = performance.now();
    speeds.push((await curlTimes(['--socks5-hostname', ready.socks, big])).speed);
    const seconds = (performance.now() - t0) / 1000;
    const spent = cpuDelta(before, treeCpu(net.pid!)).filter((s) => s > 0.05);
    perProcess.push(spent.map((s) => Number(s.toFixed(2))));
    const total = spent.reduce((a, b) => a + b, 0);
    cpuPerMiB.push(total / mib);
    netCpuPerMiB.push((total - idleRate * seconds) / mib);
  }
  const anon = pct(speeds, 0.5);

  const result = {
    bench: 'circuit',
    builds,
    buildMsMedian: pct(buildMs, 0.5),
    buildMsP95: pct(buildMs, 0.95),
    buildCpuMs,
    ttfbMsMedian: pct(ttfbAnon, 0.5),
    ttfbDirectMsMedian: pct(ttfbDirect, 0.5),
    throughputMiBs: anon,
    directTcpMiBs: direct,
    throughputRatio: anon / direct,
    throughputRuns: speeds,
    cpuSecondsPerMiBMedian: pct(cpuPerMiB, 0.5),
    cpuSecondsPerMiBRuns: cpuPerMiB,
    cpuSecondsPerProcess: perProcess,
    idleCpuSecondsPerSecond: idleRate,
    idleCpuPerProcess: idlePerProcess,
    netCpuSecondsPerMiBMedian: pct(netCpuPerMiB, 0.5),
    netCpuSecondsPerMiBRuns: netCpuPerMiB,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (x: number) => x.toFixed(1);
    process.stdout.write(
      [
        `circuits (testnet of 4 processes + server process, ${builds} builds, ${mib} MiB)`,
        `  build:      median ${f(result.buildMsMedian)} ms, p95 ${f(result.buildMsP95)} ms, ${f(buildCpuMs)} CPU-ms per build (testnet)`,
        `  ttfb:       ${f(result.ttfbMsMedian)} ms through 3 hops vs ${f(result.ttfbDirectMsMedian)} ms direct`,
        `  throughput: ${f(anon)} MiB/s through 3 hops vs ${f(direct)} MiB/s direct TCP (ratio ${result.throughputRatio.toFixed(3)})`,
        `              runs ${speeds.map(f).join(', ')} MiB/s`,
        `  cpu:        ${(result.cpuSecondsPerMiBMedian * 1000).toFixed(1)} ms per MiB summed over the testnet (runs ${cpuPerMiB.map((c) => (c * 1000).toFixed(1)).join(', ')})`,
        `              CPU-s per process per run: ${perProcess.map((r) => r.join('/')).join('; ')}`,
        `  idle:       ${(idleRate * 1000).toFixed(0)} CPU-ms per second for the testnet at rest (${idlePerProcess.map((s) => (s * 1000).toFixed(0)).join('/')}); net of it, ${(result.netCpuSecondsPerMiBMedian * 1000).toFixed(1)} ms per MiB (runs ${netCpuPerMiB.map((c) => (c * 1000).toFixed(1)).join(', ')})`,
        '',
      ].join('\n'),
    );
  }
} finally {
  net.kill('SIGTERM');
  server.kill('SIGTERM');
  await new Promise((r) => net.once('exit', r));
  if (process.env.BENCH_KEEP_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  else process.stderr.write(`testnet dir kept: ${dir}\n`);
}
