// Attack script: stateful protocol fuzzing of one victim over real libp2p streams, on every AnonNet
// protocol it serves: `/anonnet/circuit/2.0.0`, `/anonnet/ledger/1.0.0`, `/anonnet/descriptor/1.0.0`
// and the private DHT `/anonnet/kad/1.0.0` (sessions in ./fuzz/). Many sessions run in parallel; each
// draws everything from its own PRNG seeded from the run's seed and its index, so a run is replayed
// with the same `seed` (add `parallel: 1, verbose: true` to see which session was running when a
// victim fell). After the sessions, probes check that the victim still answers on every protocol.
//
// Argument (JSON): { address, seed?, iterations? (sessions, default 200), first? (index of the first
// session, default 0: `first: 33, iterations: 1` replays session 33 alone), durationMs? (stop
// starting sessions after this, default 30000), parallel? (default 6), scenarios? (names to run,
// default all), verbose?, reportEveryMs? (default 5000), exitTarget? ({host, port}: when the victim is
// an exit, BEGINs name this server and nothing else; no name is ever sent to an exit) }.
// Reports: {seed} first, {progress, sessions, stats} now and then, and finally
// {done, seed, sessions, stats, probes: {circuit, descriptor, dht, ledger}, anomalies, sessionErrors}.
import { multiaddr } from '@multiformats/multiaddr';
import { Prng } from '../../sim/prng.ts';
import { attackArgs, createAttackerHost, report } from './attacker-host.ts';
import { abrupt } from './fuzz/abrupt.ts';
import * as circuit from './fuzz/circuit.ts';
import { type FuzzContext, newContext } from './fuzz/context.ts';
import * as descriptor from './fuzz/descriptor.ts';
import * as dht from './fuzz/dht.ts';
import * as ledger from './fuzz/ledger.ts';
import { sessionSeed } from './fuzz/values.ts';

interface Args {
  readonly address: string;
  readonly seed?: number;
  readonly iterations?: number;
  readonly first?: number;
  readonly durationMs?: number;
  readonly parallel?: number;
  readonly scenarios?: readonly string[];
  readonly verbose?: boolean;
  readonly reportEveryMs?: number;
  /** When the victim is an exit: the one host:port its BEGINs may name (a server of the test). */
  readonly exitTarget?: { readonly host: string; readonly port: number };
}

interface Scenario {
  readonly name: string;
  readonly weight: number;
  run(p: Prng, ctx: FuzzContext, deadline: number): Promise<void>;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'circuit.conversation', weight: 30, run: circuit.conversation },
  { name: 'circuit.random-cells', weight: 8, run: circuit.randomCells },
  { name: 'circuit.framing', weight: 6, run: circuit.framing },
  { name: 'circuit.burst', weight: 3, run: circuit.burst },
  { name: 'ledger.conversation', weight: 20, run: ledger.conversation },
  { name: 'ledger.lying-frames', weight: 5, run: ledger.lyingFrames },
  { name: 'ledger.slow-frame', weight: 2, run: ledger.slowFrame },
  { name: 'descriptor.junk', weight: 5, run: descriptor.junk },
  { name: 'descriptor.parallel', weight: 3, run: descriptor.parallel },
  { name: 'dht.conversation', weight: 15, run: dht.conversation },
  { name: 'dht.random-bytes', weight: 5, run: dht.randomBytes },
  { name: 'abrupt', weight: 2, run: abrupt },
];

const SESSION_TIMEOUT_MS = 20_000;

const args = attackArgs<Args>();
const seed = (args.seed ?? Math.floor(Math.random() * 0x1_0000_0000)) >>> 0;
const iterations = args.iterations ?? 200;
const durationMs = args.durationMs ?? 30_000;
const parallel = Math.max(1, args.parallel ?? 6);
const scenarios = SCENARIOS.filter((s) => args.scenarios === undefined || args.scenarios.includes(s.name));
if (scenarios.length === 0) throw new Error(`no scenario among ${SCENARIOS.map((s) => s.name).join(', ')}`);
const totalWeight = scenarios.reduce((a, s) => a + s.weight, 0);
report({ seed });
process.stderr.write(`protocol-fuzz: seed ${seed} (replay: "seed": ${seed})\n`);

const host = await createAttackerHost();
const victimPeerId = multiaddr(args.address)
  .getComponents()
  .find((c) => c.name === 'p2p')?.value;
if (victimPeerId === undefined) throw new Error('the victim address needs /p2p/<peer id>');
const ctx = newContext(host, args.address, victimPeerId, args.exitTarget);
host.addEventListener('connection:close', (evt) => {
  if (args.verbose) process.stderr.write(`connection closed status=${evt.detail.status} t=${Date.now()}\n`);
  ctx.stats.inc('connectionsClosed');
  if (args.verbose)
    process.stderr.write(
      `connection closed (${evt.detail.status}) after session ${next - 1} t=${Date.now()}\n`,
    );
});
// Serve the ledger protocol before we connect, so the victim opens its send stream to us.
await ledger.listen(host, ctx);
await host.dial(multiaddr(args.address), { signal: AbortSignal.timeout(10_000) });
const setup = new Prng(seed);
const haveDescriptor = await descriptor.fetchVictim(ctx);
await dht.discover(ctx, setup);
report({ ready: true, victimDescriptor: haveDescriptor, extendTargets: ctx.relays.items.length });

function pickScenario(p: Prng): Scenario {
  let x = p.float() * totalWeight;
  for (const s of scenarios) {
    x -= s.weight;
    if (x < 0) return s;
  }
  return scenarios[scenarios.length - 1]!;
}

const started = Date.now();
const endAt = started + durationMs;
const first = args.first ?? 0;
let next = first;
let done = 0;
const sessionErrors: string[] = [];

async function runSession(index: number): Promise<void> {
  const s = sessionSeed(seed, index);
  const p = new Prng(s);
  const scenario = pickScenario(p);
  if (args.verbose) process.stderr.write(`session ${index} ${scenario.name} seed ${s}\n`);
  ctx.stats.inc(`sessions.${scenario.name}`);
  const deadline = Date.now() + SESSION_TIMEOUT_MS - 2_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SESSION_TIMEOUT_MS);
  });
  try {
    const r = await Promise.race([scenario.run(p, ctx, deadline), timeout]);
    if (r === 'timeout') ctx.stats.inc('sessionTimeouts');
  } catch (err) {
    // The fuzzer's own failure (not the victim's): reported so it gets fixed.
    if (sessionErrors.length < 20) sessionErrors.push(`${scenario.name} #${index}: ${(err as Error).stack}`);
  } finally {
    clearTimeout(timer);
  }
}

async function worker(): Promise<void> {
  while (next < first + iterations && Date.now() < endAt) {
    const index = next++;
    await runSession(index);
    done++;
  }
}

const progress = setInterval(
  () =>
    report({ progress: true, sessions: done, elapsedMs: Date.now() - started, stats: ctx.stats.toJSON() }),
  args.reportEveryMs ?? 5_000,
);
await Promise.all(Array.from({ length: parallel }, () => worker()));
clearInterval(progress);

// Does the victim still serve every protocol, after all that? Asked from a fresh identity, as an
// honest newcomer would: the fuzzing identity may rightly have used up its own per-peer shares (its
// circuit slots, its CREATE and ledger rates), which is the hardening working, not the victim failing.
// The fuzzing identity's own circuit probe is reported beside it, for information.
const probeRng = new Prng(seed ^ 0x5eed);
const probeHost = await createAttackerHost();
const probeCtx = newContext(probeHost, args.address, victimPeerId, args.exitTarget);
await ledger.listen(probeHost, probeCtx);
await probeHost.dial(multiaddr(args.address), { signal: AbortSignal.timeout(10_000) }).catch(() => {});
probeCtx.victim = ctx.victim;
const probes = {
  descriptor: await descriptor.probe(probeCtx),
  dht: await dht.probe(probeCtx),
  circuit: await circuit.probe(probeCtx, probeRng),
  ledger: await ledger.probe(probeCtx),
};
const fuzzingIdentityCircuit = await circuit.probe(ctx, probeRng);
report({
  done: true,
  seed,
  sessions: done,
  elapsedMs: Date.now() - started,
  stats: ctx.stats.toJSON(),
  probes,
  fuzzingIdentityCircuit,
  probeStats: probeCtx.stats.toJSON(),
  anomalies: ctx.anomalies.items,
  sessionErrors,
});
await Promise.resolve(host.stop()).catch(() => {});
await Promise.resolve(probeHost.stop()).catch(() => {});
process.exit(0);
