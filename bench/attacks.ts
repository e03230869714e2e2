// The attack-cost table (hardening issue): for each attack, what the attacker spends (bytes sent, CPU
// seconds) against what the victim spends (CPU seconds, peak RSS) and what an honest user sees (median
// time to fetch a page through the testnet's SOCKS proxy, and failures), with the attack off (the
// baseline measured in the same run) and on. With `--before DIR` (a checkout of an older commit with
// its node_modules) the same attack scripts (from this tree, in their own processes) run against that
// commit's testnet too, so a fix is shown as before/after on one machine in one run.
//
//   node bench/attacks.ts [--before ../baseline] [--only name,...] [--seconds 15] [--json]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { type Fixture, startFixture } from '../test/e2e/lib/http-fixture.ts';
import { readStatus } from '../test/e2e/lib/testnet.ts';
import { ATTACKS, type Attack, type Victims } from './lib/attack-list.ts';
import { cpuSeconds, rssKiB, treeCpu } from './lib/proc-cpu.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Ready {
  socks: string;
  api: string;
  token: string;
  children: Array<{ index: number; pid: number; peerId: string; dataDir: string }>;
}

interface Testnet {
  readonly ready: Ready;
  readonly proc: ChildProcess;
  readonly dir: string;
}

async function startTestnet(repo: string, extra: readonly string[]): Promise<Testnet> {
  const dir = mkdtempSync(join(tmpdir(), 'anonnet-bench-attack-'));
  const cli = join(repo, 'src/cli/main.ts');
  const proc = spawn(
    process.execPath,
    [cli, 'testnet', '--json', '--nodes', '6', '--dir', dir, ...ports(), ...extra],
    { stdio: ['ignore', 'pipe', 'ignore'], cwd: repo },
  );
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: proc.stdout! }).once('line', res);
    proc.once('exit', (code) => rej(new Error(`testnet (${repo}) exited ${code} before ready`)));
  });
  return { ready: JSON.parse(line) as Ready, proc, dir };
}

function ports(): string[] {
  return ['--socks-port', '0', '--http-port', '0', '--api-port', '0'];
}

async function stopTestnet(t: Testnet): Promise<void> {
  if (t.proc.exitCode === null) t.proc.kill('SIGTERM');
  await new Promise((r) => (t.proc.exitCode === null ? t.proc.once('exit', r) : r(null)));
  rmSync(t.dir, { recursive: true, force: true });
}

/** Seconds to fetch the fixture page through SOCKS, or NaN on failure. */
async function fetchOnce(socks: string, url: string): Promise<number> {
  const t0 = performance.now();
  try {
    await run('curl', ['-sS', '-o', '/dev/null', '--max-time', '20', '--socks5-hostname', socks, url]);
    return (performance.now() - t0) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** Honest fetches back to back for `ms`: their median time and the failures. */
async function honestLoad(
  socks: string,
  url: string,
  ms: number,
): Promise<{ median: number; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = await fetchOnce(socks, url);
    if (Number.isNaN(t)) failed++;
    else times.push(t);
    await sleep(200);
  }
  return { median: median(times), failed };
}

function victims(t: Testnet): Victims {
  return {
    nodes: t.ready.children.map((c) => {
      const s = readStatus(c.dataDir);
      const tcp = s?.listen.find((a) => a.includes('/tcp/')) ?? '';
      return {
        pid: c.pid,
        peerId: c.peerId,
        address: tcp.includes('/p2p/') ? tcp : `${tcp}/p2p/${c.peerId}`,
      };
    }),
    api: t.ready.api,
    token: t.ready.token,
  };
}

interface Row {
  attack: string;
  side: string;
  attackerMiB: number;
  attackerCpuS: number;
  victimCpuS: number;
  victimCpuIdleS: number;
  victimPeakRssMiB: number;
  honestIdleS: number;
  honestDuringS: number;
  honestFailed: number;
  victimAlive: boolean;
}

async function measure(
  attack: Attack,
  side: string,
  repo: string,
  fixture: Fixture,
  seconds: number,
): Promise<Row> {
  const net = await startTestnet(repo, attack.testnetArgs ?? []);
  try {
    const url = `http://127.0.0.1:${fixture.port}/`;
    const v = victims(net);
    const victim = v.nodes[attack.victim]!;
    const idleCpu0 = cpuSeconds(victim.pid);
    const idle = await honestLoad(net.ready.socks, url, 4_000);
    const victimCpuIdle = ((cpuSeconds(victim.pid) - idleCpu0) / 4) * seconds;

    const script = new URL(`../test/e2e/attackers/${attack.script}.ts`, import.meta.url).pathname;
    const cpu0 = cpuSeconds(victim.pid);
    const attacker = spawn(
      process.execPath,
      [script, JSON.stringify(attack.args(v, fixture.port, seconds))],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const reports: Array<Record<string, unknown>> = [];
    createInterface({ input: attacker.stdout! }).on('line', (l) => {
      try {
        reports.push(JSON.parse(l) as Record<string, unknown>);
      } catch {}
    });
    let peak = rssKiB(victim.pid);
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(victim.pid) || 0);
    }, 250);
    const during = await honestLoad(net.ready.socks, url, seconds * 1000);
    const attackerCpu = Math.max(
      [...treeCpu(attacker.pid!).values()].reduce((a, b) => a + b, 0),
      ...reports.map((r) => (typeof r['attackerCpuS'] === 'number' ? r['attackerCpuS'] : 0)),
    );
    clearInterval(sampler);
    const alive = (() => {
      try {
        process.kill(victim.pid, 0);
        return true;
      } catch {
        return false;
      }
    })();
    const victimCpu = alive ? cpuSeconds(victim.pid) - cpu0 : Number.NaN;
    attacker.kill('SIGKILL');
    await new Promise((r) => (attacker.exitCode === null ? attacker.once('exit', r) : r(null)));
    return {
      attack: attack.name,
      side,
      attackerMiB: attack.attackerBytes(reports) / 2 ** 20,
      attackerCpuS: attackerCpu,
      victimCpuS: victimCpu,
      victimCpuIdleS: victimCpuIdle,
      victimPeakRssMiB: peak / 1024,
      honestIdleS: idle.median,
      honestDuringS: during.median,
      honestFailed: during.failed,
      victimAlive: alive,
    };
  } finally {
    await stopTestnet(net);
  }
}

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    only: { type: 'string' },
    seconds: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const only = values.only?.split(',');
const sides: Array<[string, string]> = [['after', resolve(new URL('..', import.meta.url).pathname)]];
if (values.before !== undefined) sides.unshift(['before', resolve(values.before)]);

const fixture = await startFixture();
const rows: Row[] = [];
try {
  for (const attack of ATTACKS) {
    if (only !== undefined && !only.includes(attack.name)) continue;
    for (const [side, repo] of sides) {
      try {
        rows.push(await measure(attack, side, repo, fixture, seconds));
      } catch (err) {
        process.stderr.write(`${attack.name} (${side}): ${(err as Error).message}\n`);
      }
      if (!values.json) printRow(rows.at(-1));
    }
  }
} finally {
  await fixture.close();
}
if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);

function printRow(r: Row | undefined): void {
  if (r === undefined) return;
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  process.stdout.write(
    `${r.attack.padEnd(18)} ${r.side.padEnd(6)} attacker ${f(r.attackerMiB, 1)} MiB ${f(r.attackerCpuS)} CPU-s | ` +
      `victim ${f(r.victimCpuS)} CPU-s (idle ${f(r.victimCpuIdleS)}), peak RSS ${f(r.victimPeakRssMiB, 0)} MiB, ` +
      `${r.victimAlive ? 'alive' : 'DEAD'} | honest fetch ${f(r.honestIdleS, 3)} s idle, ${f(r.honestDuringS, 3)} s ` +
      `during (x${f(r.honestDuringS / r.honestIdleS, 1)}), ${r.honestFailed} failed\n`,
  );
}
