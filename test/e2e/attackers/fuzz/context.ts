// What every fuzzing session shares: the attacker's host, the victim (its identity, its descriptor's
// onion key, whether it is an exit), what the victim told us so far (ledger messages it broadcast, DHT
// records it returned: material for valid-then-mutated messages), and the counters the run reports.
import type { Libp2p } from '@libp2p/interface';
import type { OnionKey } from '../../../../src/wire/descriptor-types.ts';
import { openProtocol } from '../attacker-host.ts';
import { Conversation } from './conversation.ts';

/** Named counters ("circuit.created", "ledger.framesSent", ...), reported as one JSON object. */
export class Stats {
  readonly #counts = new Map<string, number>();

  inc(key: string, n = 1): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** A relay the victim can extend to: learnt from the victim's own DHT answers. */
export interface RelayKeys {
  readonly peerId: string;
  readonly identityKey: Uint8Array;
  readonly onionKey: OnionKey;
  readonly exit: boolean;
}

/** A bounded list that keeps the newest `max` items. */
export class Recent<T> {
  readonly items: T[] = [];
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  add(item: T): void {
    this.items.push(item);
    if (this.items.length > this.#max) this.items.shift();
  }
}

export interface FuzzContext {
  readonly host: Libp2p;
  /** The victim's multiaddr with /p2p/<id>. */
  readonly address: string;
  readonly victimPeerId: string;
  readonly stats: Stats;
  /** The victim's own keys (from its descriptor), once fetched; undefined when it has none. */
  victim: RelayKeys | undefined;
  /** Other relays, for EXTEND with a real handshake (never exits: no name is ever resolved). */
  readonly relays: Recent<RelayKeys>;
  /** Ledger messages the victim sent us (frame payloads), the newest few of each kind. */
  readonly ledgerSeen: Map<string, Recent<Uint8Array>>;
  /** The victim's last committed height, from its STATUS messages. */
  ledgerTip: number;
  /** Peer ids the victim named in DHT answers. */
  readonly peers: Recent<string>;
  /** Descriptor records (ours to mutate and put back). */
  readonly records: Recent<Uint8Array>;
  /** Where BEGIN may point when the victim is an exit: a server of the test (nothing else is dialled). */
  readonly exitTarget: { readonly host: string; readonly port: number } | undefined;
  /** Odd things the victim did (answers that break its own protocol), for the report. */
  readonly anomalies: Recent<string>;
}

export function newContext(
  host: Libp2p,
  address: string,
  victimPeerId: string,
  exitTarget?: { host: string; port: number },
): FuzzContext {
  return {
    exitTarget,
    host,
    address,
    victimPeerId,
    stats: new Stats(),
    victim: undefined,
    relays: new Recent(16),
    ledgerSeen: new Map(),
    ledgerTip: 0,
    peers: new Recent(32),
    records: new Recent(16),
    anomalies: new Recent(32),
  };
}

/** Opens `protocol` on the victim; undefined (counted) when the victim refuses the stream. */
export async function open(
  ctx: FuzzContext,
  tag: string,
  protocol: string,
): Promise<Conversation | undefined> {
  try {
    const stream = await openProtocol(ctx.host, ctx.address, protocol);
    ctx.stats.inc(`${tag}.streams`);
    return new Conversation(stream);
  } catch (err) {
    ctx.stats.inc(`${tag}.openRefused`);
    ctx.stats.inc(`openErrors.${(err as Error).name}`);
    return undefined;
  }
}

/** Counts how a session's stream ended and closes it (abort, half-close, or leave it to the victim). */
export function finish(ctx: FuzzContext, tag: string, c: Conversation, how: 'abort' | 'close'): void {
  ctx.stats.inc(`${tag}.bytesOut`, c.sent);
  ctx.stats.inc(`${tag}.bytesIn`, c.received);
  if (c.closedByVictim) ctx.stats.inc(`${tag}.closedByVictim`);
  if (how === 'abort') c.abort();
  else {
    c.halfClose();
    // Do not keep a stream the victim never closes: reset it a little later.
    setTimeout(() => c.abort(), 2_000).unref();
  }
}
