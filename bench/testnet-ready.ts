// Time for a fresh local testnet to be ready (every node knows every relay) and memory per idle node.
// Baselines measured in the same run: a 1-node testnet's ready time, and the RSS of an idle bare Node
// process. Ratios are what to compare between machines and commits.
//
//   node bench/testnet-ready.ts [--nodes 8] [--runs 2] [--idle-ms 10000] [--json]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { rssKiB } from './lib/proc-cpu.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;

interface Ready {
  readyMs: number;
  children: Array<{ pid: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function runTestnet(nodes: number, idleMs: number): Promise<{ readyMs: number; rss: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'anonnet-bench-'));
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'testnet',
      '--json',
      '--nodes',
      String(nodes),
      '--dir',
      dir,
      '--socks-port',
      '0',
      '--http-port',
      '0',
      '--api-port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`testnet exited (${code}) before ready`)));
    });
    const ready = JSON.parse(line) as Ready;
    await sleep(idleMs);
    return { readyMs: ready.readyMs, rss: ready.children.map((c) => rssKiB(c.pid)) };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bareNodeRss(idleMs: number): Promise<number> {
  const proc = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(Math.min(idleMs, 3000));
  const rss = rssKiB(proc.pid!);
  proc.kill();
  return rss;
}

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '8' },
    runs: { type: 'string', default: '2' },
    'idle-ms': { type: 'string', default: '10000' },
    json: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes);
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);

const baseReady: number[] = [];
const netReady: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  baseReady.push((await runTestnet(1, 0)).readyMs);
  const r = await runTestnet(nodes, idleMs);
  netReady.push(r.readyMs);
  rss.push(...r.rss);
}
const bare = await bareNodeRss(idleMs);
const result = {
  bench: 'testnet-ready',
  nodes,
  runs,
  readyMsMedian: median(netReady),
  readyMsRuns: netReady,
  oneNodeReadyMsMedian: median(baseReady),
  readyRatioToOneNode: median(netReady) / median(baseReady),
  rssMiBMedianPerNode: median(rss) / 1024,
  rssMiBMaxPerNode: Math.max(...rss) / 1024,
  bareNodeRssMiB: bare / 1024,
  rssRatioToBareNode: median(rss) / bare,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const f = (x: number) => x.toFixed(1);
  process.stdout.write(
    [
      `testnet of ${nodes} nodes, ${runs} runs`,
      `  ready:            median ${f(result.readyMsMedian / 1000)} s  (runs ${netReady.map((x) => f(x / 1000)).join(', ')} s)`,
      `  1-node baseline:  median ${f(result.oneNodeReadyMsMedian / 1000)} s   ratio ${f(result.readyRatioToOneNode)}x`,
      `  RSS per idle node: median ${f(result.rssMiBMedianPerNode)} MiB, max ${f(result.rssMiBMaxPerNode)} MiB`,
      `  bare Node process: ${f(result.bareNodeRssMiB)} MiB   ratio ${f(result.rssRatioToBareNode)}x`,
      '',
    ].join('\n'),
  );
}
