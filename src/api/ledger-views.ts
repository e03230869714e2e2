// What the control API shows of committed ledger state: the registered relays with their measurement,
// reputation, earnings, last settlement and open claim; the economy's totals, epoch and parameters. Pure
// functions of one state, so every face (REST, gRPC, CLI, dashboard) shows the same numbers. Credits and
// other bigints are decimal strings (docs/economy.md, "Surface").
import { epochAt } from '../ledger/epochs.ts';
import { reputation } from '../ledger/reputation.ts';
import { getAccount, type LedgerParams, type LedgerState, PARAM_ID } from '../ledger/state.ts';
import { Role } from '../wire/descriptor-types.ts';
import { decodeExitSummary } from '../wire/exit-summary.ts';
import type { LedgerEconomyInit, LedgerRelayInfo } from './source.ts';

const roleNames = (bits: number): string[] =>
  Object.entries(Role)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name);

/** The summary's text; a registration whose summary is not one (the ledger does not check it) says so. */
function summaryText(bytes: Uint8Array): string {
  return decodeExitSummary(bytes).kind === 'ok' ? Buffer.from(bytes).toString('latin1') : '(not a summary)';
}

const byKey = <T>([a]: [string, T], [b]: [string, T]): number => (a < b ? -1 : a > b ? 1 : 0);

/** The ledger's relay registrations as the API lists them, by account. */
export function ledgerRelays(state: LedgerState): LedgerRelayInfo[] {
  const { claims, auditFails, settlements } = state.economy;
  return [...state.relays].sort(byKey).map(([account, r]) => {
    const inputs = getAccount(state, account).reputation;
    const settled = settlements.get(account);
    const claim = claims.get(account);
    return {
      account,
      roles: roleNames(r.roles),
      bandwidth: r.bandwidth,
      exitPolicySummary: summaryText(r.exitPolicySummary),
      height: BigInt(r.height),
      payout: r.payout,
      bond: r.bond.toString(),
      measured: r.measured !== null,
      measuredBandwidth: BigInt(r.measured?.bandwidth ?? 0),
      measuredLatencyMs: r.measured?.latencyMs ?? 0,
      measuredEpoch: r.measured?.epoch ?? 0,
      reputation: reputation(state, account).toString(),
      earned: r.earned.toString(),
      uptimeEpochs: inputs.uptimeEpochs,
      penalties: inputs.penalties,
      relayedBytes: inputs.relayedBytes,
      ...(settled !== undefined
        ? {
            lastSettlement: {
              epoch: settled.epoch,
              claimedCells: settled.claimedCells,
              paidCells: settled.paidCells,
              qualityPermille: settled.quality,
              due: settled.due.toString(),
              paid: settled.paid.toString(),
              penalised: settled.penalised,
              failVotes: settled.failVotes,
            },
          }
        : {}),
      ...(claim !== undefined
        ? {
            openClaim: {
              epoch: claim.epoch,
              cells: claim.cells,
              leaves: claim.leaves,
              failVotes: auditFails.get(account)?.size ?? 0,
            },
          }
        : {}),
    };
  });
}

/** The economy's totals, the epoch of the next block and the governed economy parameters. */
export function ledgerEconomy(state: LedgerState): LedgerEconomyInit {
  const p = state.params;
  const epoch = epochAt(state, state.height + 1);
  let bonds = 0n;
  for (const r of state.relays.values()) bonds += r.bond;
  return {
    pool: state.economy.pool.toString(),
    minted: state.minted.toString(),
    burned: state.burned.toString(),
    totalBonds: bonds.toString(),
    epoch: epoch?.epoch ?? 0,
    epochStartHeight: BigInt(epoch?.startHeight ?? 0),
    epochLength: epoch?.length ?? p.epochLength,
    openClaims: state.economy.claims.size,
    relayBond: p.relayBond.toString(),
    creditsPerGib: p.creditsPerGiB.toString(),
    poolCapPerEpoch: p.poolCapPerEpoch.toString(),
    unmeasuredBandwidth: BigInt(p.unmeasuredBandwidth),
    auditSamples: p.auditSamples,
    capacityCap: p.capacityCap,
    measureSample: p.measureSample,
  };
}

/** Every governed parameter by name (PARAM_ID's names), as a decimal string. */
export function ledgerParams(params: LedgerParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(PARAM_ID) as (keyof LedgerParams)[]) out[name] = String(params[name]);
  return out;
}
