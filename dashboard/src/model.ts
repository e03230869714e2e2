// Turns the API's JSON answers into what the page shows. Lenient on purpose: fields that are missing
// (an older or newer daemon) show as "—" rather than breaking the page.
import { num } from './format.ts';

export interface Circuit {
  readonly id: string;
  readonly state: string;
  readonly hops: readonly string[];
  readonly ageMs: number | undefined;
  readonly streams: number | undefined;
  readonly bytesIn: number | undefined;
  readonly bytesOut: number | undefined;
}

export interface Overview {
  readonly peerId: string | undefined;
  /** The node identity's key in hex (its ledger account), when the daemon says it. */
  readonly identityKey: string | undefined;
  readonly version: string | undefined;
  readonly percent: number | undefined;
  readonly phase: string | undefined;
  readonly summary: string | undefined;
  readonly peers: number | undefined;
  readonly relaysKnown: number | undefined;
  readonly roles: readonly string[];
  readonly relayedCircuits: number | undefined;
  readonly uptimeMs: number | undefined;
  /** Whether this node runs the ledger (then credits and height can be asked for). */
  readonly ledger: boolean;
  /** The wallet's balance, which the daemon says in its status (older daemons: undefined). */
  readonly walletBalance: string | undefined;
}

export interface Ledger {
  readonly credits: string | undefined;
  readonly height: number | undefined;
  readonly earned: string | undefined;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.flatMap((x) => (typeof x === 'string' ? [x] : [])) : [];

/** Enum names from the protobuf JSON mapping ("CIRCUIT_STATE_OPEN") read as plain words ("open"). */
export function enumWord(v: unknown, prefix: string): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  return (s.startsWith(prefix) ? s.slice(prefix.length) : s).toLowerCase();
}

export function overview(status: unknown): Overview {
  const s = obj(status);
  const b = obj(s['bootstrap']);
  return {
    peerId: str(s['peerId']),
    identityKey: str(s['identityKey']) || undefined,
    version: str(s['version']),
    percent: num(b['percent']),
    phase: enumWord(b['phase'], 'BOOTSTRAP_PHASE_'),
    summary: str(b['summary']),
    peers: num(s['peers']),
    relaysKnown: num(s['relaysKnown']),
    roles: strs(s['roles']).map((r) => enumWord(r, 'ROLE_') ?? r),
    relayedCircuits: num(s['relayedCircuits']),
    uptimeMs: num(s['uptimeMs']),
    ledger: s['ledger'] === true,
    walletBalance: str(s['walletBalance']),
  };
}

export function circuits(answer: unknown): Circuit[] {
  const list = obj(answer)['circuits'];
  if (!Array.isArray(list)) return [];
  return list.map((c) => {
    const o = obj(c);
    return {
      id: str(o['id']) ?? String(num(o['id']) ?? '?'),
      state: enumWord(o['state'], 'CIRCUIT_STATE_') ?? '?',
      hops: Array.isArray(o['hops'])
        ? o['hops'].flatMap((h) => {
            const id = typeof h === 'string' ? h : str(obj(h)['peerId']);
            return id === undefined ? [] : [id];
          })
        : [],
      ageMs: num(o['ageMs']),
      streams: num(o['streams']),
      bytesIn: num(o['bytesIn']),
      bytesOut: num(o['bytesOut']),
    };
  });
}

export function peerCount(answer: unknown): number | undefined {
  const o = obj(answer);
  const list = o['peers'];
  return num(o['count']) ?? (Array.isArray(list) ? list.length : undefined);
}

export interface BandwidthPoint {
  /** Unix milliseconds at the end of a one-second interval. */
  readonly at: number;
  readonly readBps: number;
  readonly writtenBps: number;
}

/** GET /api/v1/bandwidth: the daemon's last minute, one sample per second, oldest first. */
export function bandwidthHistory(answer: unknown): BandwidthPoint[] {
  const history = obj(answer)['history'];
  if (!Array.isArray(history)) return [];
  return history.flatMap((h) => {
    const o = obj(h);
    const at = num(o['at']);
    return at === undefined
      ? []
      : [
          {
            at,
            readBps: num(o['readBytesPerSecond']) ?? 0,
            writtenBps: num(o['writtenBytesPerSecond']) ?? 0,
          },
        ];
  });
}

/**
 * GET /api/v1/ledger (height is a uint64: a string in JSON), the node's own account balance, and what
 * the ledger says this node earned as a relay (undefined: not a registered relay).
 */
export function ledger(status: unknown, account: unknown, earned?: string): Ledger | undefined {
  if (status === undefined) return undefined;
  const balance = obj(account)['balance'];
  return {
    credits: typeof balance === 'string' || typeof balance === 'number' ? String(balance) : undefined,
    height: num(obj(status)['height']),
    earned,
  };
}
