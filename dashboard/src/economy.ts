// The Economy panel's model (docs/economy.md, "Surface"): this node as a relay (from the ledger's relay
// list), this node's own counters (from its status), and the network's totals and prices (from the ledger
// status). Lenient like model.ts: a field an older daemon lacks shows as "—". Credits stay decimal
// strings (they are bigints).
import { bytes, num } from './format.ts';

export interface RelayEconomy {
  readonly bond: string | undefined;
  /** "5.7 MiB/s, 31 ms (epoch 3)", or "not measured yet". */
  readonly measured: string;
  readonly reputation: string | undefined;
  readonly earned: string | undefined;
  /** "epoch 4: paid 67 of 67 credits, q 812‰", "epoch 4: penalised", or "none yet". */
  readonly lastSettlement: string;
  /** "epoch 5: 1000 cells, 1 failed audit", or "none". */
  readonly openClaim: string;
}

export interface NodeEconomy {
  readonly epoch: number | undefined;
  /** "1234 kept, 3 refused; 5000 cells this epoch". */
  readonly receipts: string;
  /** "2 sent, 0 refused; last: epoch 1, committed". */
  readonly claims: string;
  /** "4 audited: 3 passed, 1 failed, 0 unanswered". */
  readonly audits: string;
  /** "8 measured, 1 unreachable". */
  readonly measurements: string;
}

export interface NetworkEconomy {
  readonly pool: string | undefined;
  readonly minted: string | undefined;
  readonly burned: string | undefined;
  readonly bonds: string | undefined;
  /** "3 (blocks 61–80)". */
  readonly epoch: string | undefined;
  /** "1000 credits/GiB". */
  readonly price: string | undefined;
  readonly relayBond: string | undefined;
  /** "pool cap 10000000/epoch, unmeasured relays 1.0 MiB/s". */
  readonly limits: string | undefined;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const has = (v: unknown): boolean => typeof v === 'object' && v !== null;
/** A decimal string, or a number written as one. */
const dec = (v: unknown): string | undefined =>
  typeof v === 'string' && /^\d+$/.test(v) ? v : typeof v === 'number' ? String(v) : undefined;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** This node's entry in GET /api/v1/ledger/relays; undefined when it is not registered. */
export function relayEconomy(relays: unknown, account: string | undefined): RelayEconomy | undefined {
  const list = obj(relays)['relays'];
  if (account === undefined || !Array.isArray(list)) return undefined;
  const r = list.map(obj).find((x) => x['account'] === account);
  if (r === undefined) return undefined;
  const bw = num(r['measuredBandwidth']);
  const measured =
    r['measured'] === true && bw !== undefined
      ? `${bytes(bw)}/s, ${num(r['measuredLatencyMs']) ?? '?'} ms (epoch ${num(r['measuredEpoch']) ?? '?'})`
      : 'not measured yet';
  const s = obj(r['lastSettlement']);
  const lastSettlement = !has(r['lastSettlement'])
    ? 'none yet'
    : s['penalised'] === true
      ? `epoch ${num(s['epoch']) ?? '?'}: penalised`
      : `epoch ${num(s['epoch']) ?? '?'}: paid ${dec(s['paid']) ?? '?'} of ${dec(s['due']) ?? '?'} credits, q ${num(s['qualityPermille']) ?? '?'}‰`;
  const c = obj(r['openClaim']);
  const openClaim = !has(r['openClaim'])
    ? 'none'
    : `epoch ${num(c['epoch']) ?? '?'}: ${dec(c['cells']) ?? '?'} cells, ${plural(num(c['failVotes']) ?? 0, 'failed audit')}`;
  return {
    bond: dec(r['bond']),
    measured,
    reputation: dec(r['reputation']),
    earned: dec(r['earned']),
    lastSettlement,
    openClaim,
  };
}

/** GET /api/v1/status's economy part; undefined on a node without a ledger. */
export function nodeEconomy(status: unknown): NodeEconomy | undefined {
  const e = obj(status)['economy'];
  if (!has(e)) return undefined;
  const r = obj(obj(e)['receipts']);
  const refused = Object.values(obj(r['refused'])).reduce<number>((a, b) => a + (num(b) ?? 0), 0);
  const c = obj(obj(e)['claims']);
  const last = has(c['last'])
    ? `; last: epoch ${num(obj(c['last'])['epoch']) ?? '?'}, ${String(obj(c['last'])['outcome'] ?? '?')}`
    : '';
  const a = obj(obj(e)['audits']);
  const m = obj(obj(e)['measurements']);
  return {
    epoch: num(obj(e)['epoch']),
    receipts: `${num(r['accepted']) ?? 0} kept, ${refused} refused; ${dec(r['cellsThisEpoch']) ?? '0'} cells this epoch`,
    claims: `${num(c['submitted']) ?? 0} sent, ${num(c['refused']) ?? 0} refused${last}`,
    audits: `${num(a['audited']) ?? 0} audited: ${num(a['passed']) ?? 0} passed, ${num(a['failed']) ?? 0} failed, ${num(a['unanswered']) ?? 0} unanswered`,
    measurements: `${num(m['measured']) ?? 0} measured, ${num(m['unreachable']) ?? 0} unreachable`,
  };
}

/** GET /api/v1/ledger's economy part; undefined without a ledger. */
export function networkEconomy(ledgerStatus: unknown): NetworkEconomy | undefined {
  const e = obj(ledgerStatus)['economy'];
  if (!has(e)) return undefined;
  const o = obj(e);
  const epoch = num(o['epoch']);
  const start = num(o['epochStartHeight']);
  const length = num(o['epochLength']);
  const unmeasured = num(o['unmeasuredBandwidth']);
  const cap = dec(o['poolCapPerEpoch']);
  return {
    pool: dec(o['pool']),
    minted: dec(o['minted']),
    burned: dec(o['burned']),
    bonds: dec(o['totalBonds']),
    epoch:
      epoch === undefined
        ? undefined
        : start === undefined || length === undefined
          ? String(epoch)
          : `${epoch} (blocks ${start}–${start + length - 1})`,
    price: dec(o['creditsPerGib']) === undefined ? undefined : `${dec(o['creditsPerGib'])} credits/GiB`,
    relayBond: dec(o['relayBond']),
    limits:
      cap === undefined || unmeasured === undefined
        ? undefined
        : `pool cap ${cap}/epoch, unmeasured relays ${bytes(unmeasured)}/s`,
  };
}
