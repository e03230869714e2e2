// The economy simulation: relays of every behaviour (./population.ts) over many epochs. Each epoch:
// penalised relays re-register (or, broke, come back as a new identity with a new start grant),
// validators measure a sample of relays, every online relay carries traffic in proportion to its path
// weight and claims it (liars and colluders more: ./claims.ts), every dishonest claim and a share of the
// others is audited with the real sampling and checks, and the previous epoch's claims are settled
// by the ledger's rules (src/ledger/settlement.ts) and formula (src/ledger/payout.ts): a failed audit, or
// a claim above capacityCap × capacity, burns the bond and pays nothing; the rest is paid for at most
// the relay's capacity. Deterministic for a seed.
import { median, payoutDue, qualityPermille } from '../../../src/ledger/payout.ts';
import { reputationScore } from '../../../src/ledger/reputation.ts';
import { CELL_BYTES } from '../../../src/wire/cell.ts';
import { Prng } from '../../../test/sim/prng.ts';
import {
  audit,
  commit,
  honestLeaves,
  honestReceipts,
  lyingLeaves,
  partnerReceipts,
  type SimLeaf,
} from './claims.ts';
import { defaultEconomyParams, type EconomyParams, epochSeconds, relayCapacity } from './params.ts';
import { settlePool } from './pool.ts';
import {
  classOf,
  type LieMethod,
  population,
  RELAY_CLASSES,
  type RelayClass,
  type RelayProfile,
} from './population.ts';

export interface SimOptions {
  readonly relays: number;
  readonly epochs: number;
  readonly seed: number;
  /** Share of relays that lie or collude, 0..1. */
  readonly dishonestShare: number;
  /**
   * Share of the claims of honest, lazy and colluding relays that is audited (their leaves are all
   * validly signed and distinct, so they pass; every liar's claim is audited).
   */
  readonly soundAuditRate: number;
  /** Receipts per claim, drawn uniformly from [min, max]. */
  readonly receipts: readonly [number, number];
  readonly params?: EconomyParams;
}

export interface DetectionCell {
  audited: number;
  caught: number;
  /** Σ claimed / Σ carried over the audited claims: the inflation actually attempted. */
  claimed: bigint;
  carried: bigint;
  /**
   * Σ over the audited claims of 1 - (1 - f)^samples, f = (claimed - carried) / claimed: how many
   * sampling predicts are caught if exactly the false cells fail (a claim's false share varies around
   * the nominal inflation, most with few receipts).
   */
  predicted: number;
}

export interface ClassTotals {
  relayEpochs: number;
  claims: number;
  paid: bigint;
  carriedBytes: bigint;
  penalised: number;
}

export interface SupplyPoint {
  readonly epoch: number;
  readonly minted: bigint;
  readonly pool: bigint;
  readonly balances: bigint;
  readonly bonds: bigint;
  readonly burned: bigint;
  /** Credits paid to each class this epoch, per relay of the class. */
  readonly paidPerRelay: Readonly<Record<RelayClass, number>>;
}

export interface SimResult {
  readonly options: SimOptions;
  /** `${method}:${inflation}` → counts, by the liar's nominal inflation. */
  readonly detection: Map<string, DetectionCell>;
  /** `${method}:${band}` → counts, by the inflation a claim really has (bands: ACTUAL_BANDS_BPS). */
  readonly byActual: Map<string, DetectionCell>;
  readonly honestAudits: { audited: number; failed: number };
  readonly colluderAudits: { audited: number; failed: number };
  readonly classes: Record<RelayClass, ClassTotals>;
  readonly supply: SupplyPoint[];
  newIdentities: number;
  /** Broken invariants (conservation, an honest relay penalised); empty when all held. */
  readonly violations: string[];
}

interface RelayState {
  readonly profile: RelayProfile;
  readonly cls: RelayClass;
  key: Uint8Array;
  /** How many identities this operator has used before this one. */
  identity: number;
  balance: bigint;
  bond: bigint;
  registered: boolean;
  online: boolean;
  measured: number | undefined;
  latencyMs: number | undefined;
  /** Epochs measured live: the ledger's uptimeEpochs of a relay. */
  uptimeEpochs: number;
  relayedBytes: bigint;
  penalties: bigint;
  since: number;
}

interface PendingClaim {
  readonly relay: RelayState;
  /** The relay's identity when it claimed (a broke relay comes back as a new one). */
  readonly identity: number;
  readonly cells: bigint;
  readonly failedAudit: boolean;
}

export function detectionKey(method: LieMethod, inflation: number): string {
  return `${method}:${inflation}`;
}

/**
 * Lower bounds, in basis points, of the bands of a claim's actual inflation (claimed / carried - 1):
 * copies are whole receipts, so a duplicating liar's claims spread around its nominal inflation.
 */
export const ACTUAL_BANDS_BPS: readonly number[] = [0, 500, 1000, 2500];

export function actualKey(method: LieMethod, bandBps: number): string {
  return `${method}:${bandBps}`;
}

/** The band of claimed / carried - 1, rounded to a basis point (a liar's extra cells are rounded too). */
function actualBand(claimed: bigint, carried: bigint): number {
  const bps = carried > 0n ? Number(((claimed - carried) * 10_000n + carried / 2n) / carried) : 0;
  let band = 0;
  for (const b of ACTUAL_BANDS_BPS) if (bps >= b) band = b;
  return band;
}

function tally(
  map: Map<string, DetectionCell>,
  key: string,
  caught: boolean,
  claimed: bigint,
  carried: bigint,
  samples: number,
): void {
  const cell = map.get(key) ?? { audited: 0, caught: 0, claimed: 0n, carried: 0n, predicted: 0 };
  cell.audited++;
  if (caught) cell.caught++;
  cell.claimed += claimed;
  cell.carried += carried;
  const falseShare = claimed > 0n ? Number(claimed - carried) / Number(claimed) : 0;
  cell.predicted += 1 - (1 - falseShare) ** samples;
  map.set(key, cell);
}

export function simulate(options: SimOptions): SimResult {
  const p = options.params ?? defaultEconomyParams;
  const prng = new Prng(options.seed);
  const profiles = population(options.relays, options.dishonestShare, prng);
  let minted = 0n;
  let burned = 0n;
  let pool = 0n;
  const relays: RelayState[] = profiles.map((profile) => {
    minted += p.startingCredits;
    return {
      profile,
      cls: classOf(profile.behaviour),
      key: prng.bytes(32),
      identity: 0,
      balance: p.startingCredits,
      bond: 0n,
      registered: false,
      online: false,
      measured: undefined,
      latencyMs: undefined,
      uptimeEpochs: 0,
      relayedBytes: 0n,
      penalties: 0n,
      since: 0,
    };
  });
  const result: SimResult = {
    options,
    detection: new Map(),
    byActual: new Map(),
    honestAudits: { audited: 0, failed: 0 },
    colluderAudits: { audited: 0, failed: 0 },
    classes: Object.fromEntries(
      RELAY_CLASSES.map((c) => [c, { relayEpochs: 0, claims: 0, paid: 0n, carriedBytes: 0n, penalised: 0 }]),
    ) as Record<RelayClass, ClassTotals>,
    supply: [],
    newIdentities: 0,
    violations: [],
  };
  const classCount = countClasses(relays);
  let pending: PendingClaim[] = [];

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const height = (epoch + 1) * p.epochLength;
    for (const r of relays) {
      if (!r.registered) {
        if (r.balance < p.relayBond) {
          // Broke after penalties: a new identity (proof of work) claims a new start grant.
          minted += p.startingCredits;
          r.balance += p.startingCredits;
          Object.assign(r, {
            key: prng.bytes(32),
            identity: r.identity + 1,
            measured: undefined,
            latencyMs: undefined,
          });
          r.uptimeEpochs = 0;
          Object.assign(r, { relayedBytes: 0n, penalties: 0n, since: height });
          result.newIdentities++;
        }
        r.balance -= p.relayBond;
        r.bond = p.relayBond;
        r.registered = true;
      }
      r.online = prng.chance(r.profile.online);
      result.classes[r.cls].relayEpochs++;
    }
    measure(relays, prng, p.validatorCount * p.measureSample);

    const claims: PendingClaim[] = [];
    for (const r of relays) {
      if (!r.online) continue;
      // Clients weigh a relay by its measured bandwidth, an unmeasured one by unmeasuredBandwidth
      // capped by its own claim (docs/economy.md, "The ledger's relay list is the list").
      const weight = r.measured ?? Math.min(p.unmeasuredBandwidth, r.profile.bandwidth);
      const [lo, hi] = r.profile.utilization;
      const rate = Math.min(r.profile.bandwidth, weight) * (lo + (hi - lo) * prng.float());
      const carried = BigInt(Math.floor((rate * epochSeconds(p)) / CELL_BYTES));
      if (carried === 0n) continue;
      const claim = claimFor(
        r,
        relays,
        epoch,
        carried,
        relayCapacity(p, r.measured),
        options,
        p,
        prng,
        result,
      );
      claims.push({ relay: r, identity: r.identity, cells: claim.cells, failedAudit: !claim.passed });
      const totals = result.classes[r.cls];
      totals.claims++;
      totals.carriedBytes += carried * BigInt(CELL_BYTES);
    }

    // Settle the previous epoch's claims at the end of this one (src/ledger/settlement.ts).
    const medianBandwidth = median(relays.flatMap((r) => (r.measured === undefined ? [] : [r.measured])));
    const settled = pending.map((c) => {
      const r = c.relay;
      const capacity = relayCapacity(p, r.measured);
      const penalised = c.failedAudit || c.cells > BigInt(p.capacityCap) * capacity;
      const paidCells = penalised ? 0n : minBig(c.cells, capacity);
      const quality = qualityPermille({
        measured:
          r.measured === undefined || r.latencyMs === undefined
            ? null
            : { bandwidth: r.measured, latencyMs: r.latencyMs },
        medianBandwidth,
        uptimeEpochs: BigInt(r.uptimeEpochs),
        reputation: reputationScore(
          {
            relayedBytes: r.relayedBytes,
            uptimeEpochs: BigInt(r.uptimeEpochs),
            penalties: r.penalties,
            since: r.since,
          },
          height,
          p.epochLength,
        ),
      });
      return { c, penalised, paidCells, due: payoutDue(paidCells, p.creditsPerGiB, quality) as bigint };
    });
    const s = settlePool(
      settled.map((x) => x.due),
      pool,
      p.poolCapPerEpoch,
    );
    minted += s.minted;
    pool = s.pool;
    for (const { c, penalised, paidCells } of settled) {
      if (penalised) result.classes[c.relay.cls].penalised++;
      // An identity given up since the claim keeps nothing to burn or to credit.
      if (c.identity !== c.relay.identity) continue;
      c.relay.relayedBytes += paidCells * BigInt(CELL_BYTES);
      if (!penalised) continue;
      burned += c.relay.bond;
      c.relay.bond = 0n;
      c.relay.registered = false;
      c.relay.penalties += 1n;
    }
    const paidByClass = Object.fromEntries(RELAY_CLASSES.map((c) => [c, 0n])) as Record<RelayClass, bigint>;
    pending.forEach((c, i) => {
      const paid = s.paid[i] as bigint;
      c.relay.balance += paid;
      result.classes[c.relay.cls].paid += paid;
      paidByClass[c.relay.cls] += paid;
    });
    pending = claims;

    let balances = 0n;
    let bonds = 0n;
    for (const r of relays) {
      balances += r.balance;
      bonds += r.bond;
    }
    if (balances + bonds + pool + burned !== minted) {
      result.violations.push(`epoch ${epoch}: balances + bonds + pool + burned != minted`);
    }
    result.supply.push({
      epoch,
      minted,
      pool,
      balances,
      bonds,
      burned,
      paidPerRelay: Object.fromEntries(
        RELAY_CLASSES.map((c) => [c, classCount[c] === 0 ? 0 : Number(paidByClass[c]) / classCount[c]]),
      ) as Record<RelayClass, number>,
    });
  }
  return result;
}

/** Builds, audits and records one relay's claim; returns what it claimed and whether it passed. */
function claimFor(
  r: RelayState,
  relays: readonly RelayState[],
  epoch: number,
  carried: bigint,
  capacity: bigint,
  options: SimOptions,
  p: EconomyParams,
  prng: Prng,
  result: SimResult,
): { cells: bigint; passed: boolean } {
  const b = r.profile.behaviour;
  const honest = b.kind === 'honest' || b.kind === 'lazy';
  // A colluder fills its claim up to its capacity with its partner's (validly signed) receipts.
  const fill = b.kind === 'colluder' && capacity > carried ? capacity - carried : 0n;
  // Claims whose every leaf is validly signed, distinct and valued at its cells pass any audit; only a
  // share of them is audited, to show that they do (a liar's claim always is).
  if (b.kind !== 'liar' && !prng.chance(options.soundAuditRate))
    return { cells: carried + fill, passed: true };
  const receipts = honestReceipts(
    prng,
    r.key,
    epoch,
    carried,
    prng.int(options.receipts[0], options.receipts[1]),
  );
  let leaves: SimLeaf[];
  if (b.kind === 'liar') {
    const extra = BigInt(Math.round(Number(carried) * b.inflation));
    leaves = lyingLeaves(prng, b.method, r.key, epoch, receipts, extra);
  } else if (b.kind === 'colluder' && fill > 0n) {
    const partner = (relays[b.partner] as RelayState).key;
    leaves = honestLeaves([...receipts, ...partnerReceipts(prng, r.key, epoch, partner, fill)]);
  } else {
    leaves = honestLeaves(receipts);
  }
  const c = commit(r.key, epoch, leaves);
  const verdict = audit(c, prng.bytes(32), p.auditSamples);
  if (b.kind === 'liar') {
    const claimed = c.claim.cells;
    const nominal = detectionKey(b.method, b.inflation);
    tally(result.detection, nominal, !verdict.ok, claimed, carried, p.auditSamples);
    const actual = actualKey(b.method, actualBand(claimed, carried));
    tally(result.byActual, actual, !verdict.ok, claimed, carried, p.auditSamples);
  } else {
    const stats = honest ? result.honestAudits : result.colluderAudits;
    stats.audited++;
    if (!verdict.ok) {
      stats.failed++;
      result.violations.push(`epoch ${epoch}: a ${r.cls} relay's claim failed its audit (${verdict.reason})`);
    }
  }
  return { cells: c.claim.cells, passed: verdict.ok };
}

/**
 * The validators' measurements: `count` relays (measureSample each), from the registered ones; a relay
 * online when measured gets a bandwidth a little under its true one (a circuit's overhead), its
 * latency, and one more live epoch (the ledger's uptimeEpochs). One offline keeps its earlier figures.
 */
function measure(relays: readonly RelayState[], prng: Prng, count: number): void {
  const registered = relays.filter((r) => r.registered);
  for (const r of prng.shuffle(registered).slice(0, count)) {
    if (!r.online) continue;
    r.measured = Math.round(r.profile.bandwidth * (0.85 + 0.2 * prng.float()));
    r.latencyMs = Math.round(r.profile.latencyMs * (0.9 + 0.2 * prng.float()));
    r.uptimeEpochs++;
  }
}

function countClasses(relays: readonly RelayState[]): Record<RelayClass, number> {
  const out = Object.fromEntries(RELAY_CLASSES.map((c) => [c, 0])) as Record<RelayClass, number>;
  for (const r of relays) out[r.cls]++;
  return out;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
