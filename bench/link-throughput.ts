// Bulk throughput of one stream between two OS processes on 127.0.0.1, in one run:
//   tcp-raw      node:net TCP, the baseline
//   libp2p-tcp   two hosts from createHost over TCP + Noise + Yamux
//   libp2p-quic  the same over QUIC (@chainsafe/libp2p-quic, settings from src/p2p/quic-options.ts)
// Each case runs in its own pair of processes (bench/lib/link-peer.ts): a warm-up transfer, then
// --runs measured transfers of --mib MiB each; the receiver acks the byte count it saw. Reports the
// median MiB/s per case (sender clock: first send to ack), the ratios libp2p-tcp / tcp-raw and
// libp2p-quic / libp2p-tcp, and the CPU both processes burnt per GiB. Exits non-zero when any
// transfer fails or a byte count is wrong.
//
//   node bench/link-throughput.ts [--mib 256] [--runs 3] [--chunk-kib 64] [--warmup-mib 32]
//                                 [--case tcp-raw,libp2p-tcp,libp2p-quic] [--json]
//                                 [--cpu-prof DIR]   (V8 CPU profiles of every peer process)
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  isLinkCase,
  LINK_CASES,
  type LinkCase,
  type PeerLine,
  type TransferLine,
} from './lib/link-protocol.ts';

const MiB = 1024 * 1024;
const CASE_TIMEOUT_MS = 180_000;
const PEER = new URL('./lib/link-peer.ts', import.meta.url).pathname;

interface BenchArgs {
  readonly mib: number;
  readonly runs: number;
  readonly chunkKib: number;
  readonly warmupMib: number;
  readonly cases: readonly LinkCase[];
  readonly json: boolean;
  readonly cpuProf: string | undefined;
}

interface CaseResult {
  readonly name: LinkCase;
  /** MiB/s of each measured run, sender clock. */
  readonly runs: readonly number[];
  readonly medianMiBs: number;
  /** CPU seconds per GiB moved, median over runs, for each process (all threads). */
  readonly sendCpuSPerGiB: number;
  readonly recvCpuSPerGiB: number;
  /** Mean bytes per receiver 'message'/'data' event: how much each delivery to JS carries. */
  readonly recvBytesPerEvent: number;
  readonly errors: readonly string[];
}

function parse(): BenchArgs {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '256' },
      runs: { type: 'string', default: '3' },
      'chunk-kib': { type: 'string', default: '64' },
      'warmup-mib': { type: 'string', default: '32' },
      case: { type: 'string', default: LINK_CASES.join(',') },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const cases = values.case.split(',').map((c) => c.trim());
  for (const c of cases)
    if (!isLinkCase(c)) throw new Error(`unknown case ${c}; cases: ${LINK_CASES.join(', ')}`);
  const positive = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  return {
    mib: positive('mib', values.mib, 1),
    runs: Math.floor(positive('runs', values.runs, 1)),
    chunkKib: positive('chunk-kib', values['chunk-kib'], 1),
    warmupMib: positive('warmup-mib', values['warmup-mib'], 0),
    cases: cases.filter(isLinkCase),
    json: values.json,
    cpuProf: values['cpu-prof'],
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function startPeer(args: BenchArgs, name: LinkCase, role: 'send' | 'recv', extra: string[]) {
  // The same V8 setting the daemon runs with (src/cli/main.ts), so the link is measured as AnonNet uses it.
  const nodeArgs: string[] =
    process.env.ANONNET_V8_GC_DEFAULTS === '1' ? [] : ['--external-memory-accounted-in-global-limit'];
  if (args.cpuProf !== undefined)
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${args.cpuProf}`,
      `--cpu-prof-name=${name}-${role}.cpuprofile`,
    );
  const child = spawn(process.execPath, [...nodeArgs, PEER, name, role, ...extra], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: PeerLine[] = [];
  const waiters: Array<(l: PeerLine) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as PeerLine;
    lines.push(line);
    for (const w of waiters.splice(0)) w(line);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const nextLine = () => new Promise<PeerLine>((resolve) => waiters.push(resolve));
  return { child, lines, exited, nextLine };
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function runCase(args: BenchArgs, name: LinkCase): Promise<CaseResult> {
  const bytes = Math.round(args.mib * MiB);
  const warmupBytes = Math.round(args.warmupMib * MiB);
  const errors: string[] = [];
  const recv = startPeer(args, name, 'recv', ['--first-run', warmupBytes > 0 ? '0' : '1']);
  let send: ReturnType<typeof startPeer> | undefined;
  const timer = setTimeout(() => {
    errors.push(`timed out after ${CASE_TIMEOUT_MS} ms`);
    kill(recv.child);
    if (send) kill(send.child);
  }, CASE_TIMEOUT_MS);
  try {
    const ready = await Promise.race([recv.nextLine(), recv.exited]);
    if (!('type' in ready) || ready.type !== 'ready') throw new Error('receiver did not start');
    send = startPeer(args, name, 'send', [
      '--addr',
      ready.addr,
      '--bytes',
      String(bytes),
      '--runs',
      String(args.runs),
      '--warmup-bytes',
      String(warmupBytes),
      '--chunk',
      String(Math.round(args.chunkKib * 1024)),
    ]);
    const sent = await send.exited;
    if (sent.code !== 0) errors.push(`sender exited with ${sent.code ?? sent.signal}`);
    recv.child.stdin!.end();
    const received = await recv.exited;
    if (received.code !== 0) errors.push(`receiver exited with ${received.code ?? received.signal}`);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
    kill(recv.child);
    if (send) kill(send.child);
  }

  const transfers = (lines: readonly PeerLine[], role: 'send' | 'recv') =>
    lines.filter((l): l is TransferLine => l.type === 'transfer' && l.role === role && l.run > 0);
  const sends = transfers(send?.lines ?? [], 'send');
  const recvs = transfers(recv.lines, 'recv');
  if (sends.length !== args.runs) errors.push(`${sends.length}/${args.runs} transfers finished`);
  for (const t of [...sends, ...recvs])
    if (t.bytes !== bytes) errors.push(`run ${t.run} (${t.role}): ${t.bytes} bytes, expected ${bytes}`);

  const gib = bytes / (1024 * MiB);
  const cpuPerGiB = (ts: readonly TransferLine[]) =>
    median(ts.map((t) => (t.cpuUserMs + t.cpuSysMs) / 1000 / gib));
  const runs = sends.map((t) => bytes / MiB / (t.ms / 1000));
  return {
    name,
    runs,
    medianMiBs: median(runs),
    sendCpuSPerGiB: cpuPerGiB(sends),
    recvCpuSPerGiB: cpuPerGiB(recvs),
    recvBytesPerEvent: median(recvs.map((t) => t.bytes / t.calls)),
    errors,
  };
}

function ratio(results: readonly CaseResult[], num: LinkCase, den: LinkCase): number | null {
  const a = results.find((r) => r.name === num)?.medianMiBs;
  const b = results.find((r) => r.name === den)?.medianMiBs;
  return a === undefined || b === undefined || !(b > 0) ? null : a / b;
}

function printTable(
  args: BenchArgs,
  results: readonly CaseResult[],
  ratios: Record<string, number | null>,
): void {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  console.log(
    `link throughput: 1 stream, 2 processes, 127.0.0.1, ${args.mib} MiB x ${args.runs} runs, ` +
      `${args.chunkKib} KiB writes, node ${process.versions.node}`,
  );
  const header = ['case', 'median MiB/s', 'runs MiB/s', 'send CPU s/GiB', 'recv CPU s/GiB', 'recv B/event'];
  const rows = results.map((r) => [
    r.name,
    f(r.medianMiBs),
    r.runs.map((x) => f(x)).join(' '),
    f(r.sendCpuSPerGiB, 2),
    f(r.recvCpuSPerGiB, 2),
    f(r.recvBytesPerEvent),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: readonly string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  for (const row of rows) console.log(fmt(row));
  for (const [k, v] of Object.entries(ratios)) if (v !== null) console.log(`${k}: ${v.toFixed(2)}`);
  for (const r of results) for (const e of r.errors) console.log(`FAILED ${r.name}: ${e}`);
}

async function main(): Promise<void> {
  const args = parse();
  const results: CaseResult[] = [];
  for (const name of args.cases) results.push(await runCase(args, name));
  const ratios = {
    'libp2p-tcp / tcp-raw': ratio(results, 'libp2p-tcp', 'tcp-raw'),
    'libp2p-quic / libp2p-tcp': ratio(results, 'libp2p-quic', 'libp2p-tcp'),
  };
  const ok = results.every((r) => r.errors.length === 0);
  if (args.json) {
    console.log(
      JSON.stringify({
        bench: 'link-throughput',
        node: process.versions.node,
        mib: args.mib,
        runs: args.runs,
        chunkKib: args.chunkKib,
        warmupMib: args.warmupMib,
        ok,
        cases: results,
        ratios,
      }),
    );
  } else {
    printTable(args, results, ratios);
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
