// The economy's epoch end (docs/economy.md, "Measurement" and "Payout"): chain.ts calls settleEpoch
// when the last block of epoch E is applied, before the election, so what it proves and penalises
// counts for the reputation the election ranks by. In order:
//   1. this epoch's measurements: each reported relay gets the median of its reports, and one live
//      epoch (uptime) when that median is above 0 and the key had no uptime credit this epoch yet;
//   2. the claims of epoch E-1: penalised when more than a third of epoch E's validators failed their
//      audit or they exceed capacityCap × capacity; else paid for min(cells, capacity) at quality q;
//   3. the pool: minted up to poolCapPerEpoch toward what is owed, then paid out (pro rata when short);
//   4. penalties: the bond is burned, one penalty is added to the relay's reputation.
// Pure and deterministic: relays are visited in key order; integer arithmetic only.
import { CELL_BYTES } from '../wire/cell.ts';
import { addCredits, type Credits, subCredits, ZERO_CREDITS } from './credits.ts';
import { LedgerDraft } from './draft.ts';
import { capacityCells, median, payoutDue, qualityPermille } from './payout.ts';
import { minBig, reputation } from './reputation.ts';
import type { EpochInfo, KeyHex, LedgerState, MeasuredBandwidth, Settlement } from './state.ts';

/**
 * `state` has the epoch's last block applied; `ended` is that epoch; `creditedUptime` the keys already
 * given an uptime epoch for it (validators that signed enough commits).
 */
export function settleEpoch(
  state: LedgerState,
  ended: EpochInfo,
  creditedUptime: ReadonlySet<KeyHex>,
): LedgerState {
  const d = new LedgerDraft(state);
  commitMeasurements(d, ended, creditedUptime);
  settleClaims(d, ended);
  d.economy = { ...d.economy, claims: new Map(), auditFails: new Map(), measurements: new Map() };
  return d.freeze();
}

function commitMeasurements(d: LedgerDraft, ended: EpochInfo, creditedUptime: ReadonlySet<KeyHex>): void {
  for (const relay of [...d.economy.measurements.keys()].sort()) {
    const reports = [...(d.economy.measurements.get(relay)?.values() ?? [])];
    const reg = d.relay(relay);
    if (reg === undefined || reports.length === 0) continue;
    const measured: MeasuredBandwidth = {
      bandwidth: median(reports.map((m) => m.bandwidth)),
      latencyMs: median(reports.map((m) => m.latencyMs)),
      epoch: ended.epoch,
    };
    d.setRelay(relay, { ...reg, measured });
    if (measured.bandwidth > 0 && !creditedUptime.has(relay)) {
      const a = d.account(relay);
      d.setAccount(relay, {
        ...a,
        reputation: { ...a.reputation, uptimeEpochs: a.reputation.uptimeEpochs + 1n },
      });
    }
  }
}

interface Owed {
  readonly relay: KeyHex;
  readonly settlement: Omit<Settlement, 'paid'>;
}

function settleClaims(d: LedgerDraft, ended: EpochInfo): void {
  const p = d.params;
  const validators = new Set(ended.validators);
  const measuredAll: number[] = [];
  for (const key of d.base.relays.keys()) {
    const m = d.relay(key)?.measured;
    if (m != null) measuredAll.push(m.bandwidth);
  }
  const medianBandwidth = median(measuredAll);
  const claimed = d.base.epochs.find((e) => e.epoch === ended.epoch - 1);
  const claimedLength = claimed?.length ?? ended.length;
  const owed: Owed[] = [];
  const state = d.freeze(); // reputation reads a state: the measurements above count
  for (const relay of [...d.economy.claims.keys()].sort()) {
    const claim = d.economy.claims.get(relay);
    const reg = d.relay(relay);
    if (claim === undefined || reg === undefined) continue;
    const failVotes = [...(d.economy.auditFails.get(relay) ?? [])].filter((v) => validators.has(v)).length;
    const bound = Math.max(reg.measured?.bandwidth ?? 0, p.unmeasuredBandwidth);
    const capacity = capacityCells(bound, claimedLength, p.blockIntervalMs);
    const penalised = 3 * failVotes > validators.size || claim.cells > BigInt(p.capacityCap) * capacity;
    const paidCells = penalised ? 0n : minBig(claim.cells, capacity);
    const quality = qualityPermille({
      measured: reg.measured,
      medianBandwidth,
      uptimeEpochs: d.account(relay).reputation.uptimeEpochs,
      reputation: reputation(state, relay),
    });
    const due = payoutDue(paidCells, p.creditsPerGiB, quality);
    owed.push({
      relay,
      settlement: {
        epoch: claim.epoch,
        claimedCells: claim.cells,
        paidCells,
        quality,
        due,
        penalised,
        failVotes,
      },
    });
  }
  payFromPool(d, owed);
}

function payFromPool(d: LedgerDraft, owed: readonly Owed[]): void {
  const total = owed.reduce((sum, o) => sum + o.settlement.due, 0n);
  let pool = d.economy.pool;
  // Mint toward what is owed, up to the cap, never past 2^64-1 of supply.
  const want = total > pool ? total - pool : 0n;
  const cap = d.params.poolCapPerEpoch < want ? d.params.poolCapPerEpoch : want;
  const room = (0xffffffffffffffffn - d.minted) as Credits;
  const mint = (cap < room ? cap : room) as Credits;
  d.minted = (d.minted + mint) as Credits;
  pool = (pool + mint) as Credits;
  const available = pool;
  const settlements = new Map(d.economy.settlements);
  for (const { relay, settlement } of owed) {
    const reg = d.relay(relay);
    if (reg === undefined) continue;
    let paid = total <= available ? settlement.due : (((settlement.due * available) / total) as Credits);
    const payee = d.account(reg.payout);
    const balance = addCredits(payee.balance, paid);
    if (balance === undefined)
      paid = ZERO_CREDITS; // a payee at 2^64-1: the credits stay in the pool
    else d.setAccount(reg.payout, { ...payee, balance });
    pool = subCredits(pool, paid) ?? ZERO_CREDITS;
    const a = d.account(relay);
    const proven = settlement.paidCells * BigInt(CELL_BYTES);
    const penalties = a.reputation.penalties + (settlement.penalised ? 1n : 0n);
    d.setAccount(relay, {
      ...a,
      reputation: { ...a.reputation, relayedBytes: a.reputation.relayedBytes + proven, penalties },
    });
    if (settlement.penalised) d.burned = (d.burned + reg.bond) as Credits; // burned <= minted: no overflow
    d.setRelay(relay, {
      ...reg,
      bond: settlement.penalised ? ZERO_CREDITS : reg.bond,
      earned: addCredits(reg.earned, paid) ?? reg.earned,
    });
    settlements.set(relay, { ...settlement, paid });
  }
  d.economy = { ...d.economy, pool, settlements };
}
