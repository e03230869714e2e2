// Keeps room for new peers. libp2p refuses every inbound connection once maxConnections are open, and
// its own pruner only acts above that mark, so a node filled by many addresses would turn every honest
// newcomer away. Past nine tenths of maxConnections this pruner closes inbound connections that carry
// nothing long-lived (no circuit, no ledger stream), taking first from the address that holds the most
// connections, then the idlest: the per-IP cap bounds what one address holds, and this keeps the last
// tenth free for whoever comes next.
import type { Connection, Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { RefusalLog } from '../log/refusals.ts';
import { remoteIpKey } from './connection-limits.ts';

/** Streams of these protocols make a connection worth keeping: it carries circuits or consensus. */
const LONG_LIVED = ['/anonnet/circuit/', '/anonnet/ledger/'];
/** A connection younger than this is not pruned: a newcomer gets time to open its first circuit. */
export const PRUNE_GRACE_MS = 5_000;
export interface PrunerOptions {
  readonly maxConnections: number;
  readonly now?: () => number;
}

/** What the pruner reads of a connection. */
export interface PrunableConnection {
  readonly direction: Connection['direction'];
  readonly status: Connection['status'];
  readonly timeline: { readonly open: number };
  readonly streams: ReadonlyArray<{ readonly protocol?: string | undefined }>;
  readonly remoteAddr: Multiaddr;
  readonly remotePeer: PeerId;
}

function prunable(c: PrunableConnection, now: number): boolean {
  if (c.direction !== 'inbound' || c.status !== 'open') return false;
  if (now - c.timeline.open < PRUNE_GRACE_MS) return false;
  return !c.streams.some((s) => LONG_LIVED.some((p) => s.protocol?.startsWith(p) === true));
}

const groupOf = (c: PrunableConnection): string =>
  remoteIpKey(c.remoteAddr) ?? `peer:${c.remotePeer.toString()}`;

/** The connections to close so that at most `keep` stay open, heaviest address first, then idlest. */
export function choosePrunes<C extends PrunableConnection>(
  connections: readonly C[],
  keep: number,
  now: number,
): C[] {
  let excess = connections.length - keep;
  if (excess <= 0) return [];
  const size = new Map<string, number>();
  for (const c of connections) size.set(groupOf(c), (size.get(groupOf(c)) ?? 0) + 1);
  const candidates = connections.filter((c) => prunable(c, now));
  const chosen: C[] = [];
  while (excess > 0 && candidates.length > 0) {
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      const a = candidates[i]!;
      const b = candidates[best]!;
      const sa = size.get(groupOf(a)) ?? 0;
      const sb = size.get(groupOf(b)) ?? 0;
      if (sa > sb || (sa === sb && a.streams.length < b.streams.length)) best = i;
      else if (sa === sb && a.streams.length === b.streams.length && a.timeline.open < b.timeline.open)
        best = i;
    }
    const [c] = candidates.splice(best, 1);
    chosen.push(c!);
    size.set(groupOf(c!), (size.get(groupOf(c!)) ?? 1) - 1);
    excess--;
  }
  return chosen;
}

/**
 * Prunes on every new connection, and every PRUNE_GRACE_MS / 2 (a node filled by a burst of young
 * connections sees no further 'connection:open' once libp2p refuses the rest), while more than nine
 * tenths of maxConnections are open. Returns the function that stops it.
 */
export function startPruner(host: Libp2p, opts: PrunerOptions, refusals: RefusalLog): () => void {
  const now = opts.now ?? Date.now;
  const keep = Math.max(1, Math.floor((opts.maxConnections * 9) / 10));
  const prune = () => {
    const open = host.getConnections();
    if (open.length <= keep) return;
    for (const c of choosePrunes(open, keep, now())) {
      refusals.refuse(
        'P2P_PRUNED',
        'closed an idle inbound connection to keep room for new peers (p2p.maxConnections is nearly reached)',
      );
      c.close().catch((err: unknown) => c.abort(err as Error));
    }
  };
  host.addEventListener('connection:open', prune);
  const timer = setInterval(prune, PRUNE_GRACE_MS / 2);
  timer.unref();
  return () => {
    clearInterval(timer);
    host.removeEventListener('connection:open', prune);
  };
}
