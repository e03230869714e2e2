// `anonnet relay`: this node as a relay, through the running daemon's control API. From the ledger: its
// registration (bond, payout), measured bandwidth, reputation, lifetime earnings, last settlement and
// open claim; from the node's status: its registration's progress, and what it counted since it started
// (receipts, claims, audits, measurements). Exit 0 also on a client-only node (it says so), 1 when no
// daemon answers.
import { type JsonValue, toJson } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import {
  type LedgerRelay,
  LedgerRelaySchema,
  type LedgerStatus,
  type RelayOpenClaim,
  type RelaySettlement,
} from '../api/gen/anonnet/v1/ledger_pb.js';
import {
  type NodeEconomy,
  NodeEconomySchema,
  type NodeStatus,
  RegistrationDetailSchema,
} from '../api/gen/anonnet/v1/node_pb.js';
import { type ApiFlags, call, controlClient, locateDaemon } from './api-client.ts';
import { addApiFlags, printJson, runApiCommand } from './api-command.ts';
import { bytes } from './table.ts';

/** What `anonnet relay` shows, gathered from the API. */
export interface RelayView {
  readonly status: NodeStatus;
  /** undefined on a node without a ledger. */
  readonly ledger: LedgerStatus | undefined;
  /** This node's registration on the ledger; undefined when it has none (or no ledger). */
  readonly own: LedgerRelay | undefined;
}

const isRelay = (s: NodeStatus): boolean => s.roles.includes('relay');
/** The daemon's decimal strings are checked before BigInt reads them (it throws on anything else). */
export const isDecimal = (v: string | undefined): v is string => v !== undefined && /^\d+$/.test(v);

export function relayJson(v: RelayView): JsonValue {
  const s = v.status;
  const opts = { alwaysEmitImplicit: true };
  return {
    account: s.identityKey,
    roles: s.roles,
    relay: isRelay(s),
    ledger: s.ledger,
    registration: s.registration ?? null,
    registrationDetail:
      s.registrationDetail === undefined
        ? null
        : toJson(RegistrationDetailSchema, s.registrationDetail, opts),
    epoch: v.ledger?.economy?.epoch ?? null,
    onLedger: v.own === undefined ? null : toJson(LedgerRelaySchema, v.own, opts),
    node: s.economy === undefined ? null : toJson(NodeEconomySchema, s.economy, opts),
  };
}

export function settlementText(x: RelaySettlement): string {
  const audits = x.failVotes > 0 ? `, ${x.failVotes} failed audits` : '';
  if (x.penalised)
    return `epoch ${x.epoch}: penalised (${x.claimedCells} cells claimed${audits}): bond burned`;
  return `epoch ${x.epoch}: paid ${x.paid} of ${x.due} credits due for ${x.paidCells} of ${x.claimedCells} cells claimed, quality ${x.qualityPermille}‰${audits}`;
}

function openClaimText(c: RelayOpenClaim | undefined): string {
  if (c === undefined) return 'none';
  return `epoch ${c.epoch}: ${c.cells} cells in ${c.leaves} receipts, ${c.failVotes} failed audits so far`;
}

function measuredText(r: LedgerRelay, ledger: LedgerStatus | undefined): string {
  const claimed = `claimed ${bytes(r.bandwidth)}/s`;
  if (!r.measured) {
    const unmeasured = ledger?.economy?.unmeasuredBandwidth;
    const weighs = unmeasured === undefined ? '' : ` (weighs as ${bytes(Number(unmeasured))}/s until then)`;
    return `${claimed}, not measured yet${weighs}`;
  }
  return `${claimed}, measured ${bytes(Number(r.measuredBandwidth))}/s, ${r.measuredLatencyMs} ms (epoch ${r.measuredEpoch})`;
}

function registrationText(s: NodeStatus, own: LedgerRelay | undefined): string {
  const d = s.registrationDetail;
  const failed =
    d !== undefined && d.failures > 0 ? `; ${d.failures} failed steps, last: ${d.lastFailure || '?'}` : '';
  if (own !== undefined) return `${s.registration ?? 'registered'}, at height ${own.height}${failed}`;
  return `${s.registration ?? 'not registered'}${failed}`;
}

/** The node's own counters, one line each. */
export function nodeEconomyLines(e: NodeEconomy): string[] {
  const r = e.receipts;
  const refused = Object.values(r?.refused ?? {}).reduce((a, b) => a + b, 0);
  const c = e.claims;
  const last = c?.last;
  const a = e.audits;
  const m = e.measurements;
  return [
    `  receipts      ${r?.accepted ?? 0} kept, ${refused} refused; ${r?.cellsThisEpoch || '0'} cells confirmed this epoch`,
    `  claims        ${c?.submitted ?? 0} sent, ${c?.refused ?? 0} refused; ${c?.auditsAnswered ?? 0} audit requests answered, ${c?.auditsRefused ?? 0} refused${
      last === undefined ? '' : `; last: epoch ${last.epoch}, ${last.cells} cells, ${last.outcome}`
    }`,
    `  audits        ${a?.audited ?? 0} claims audited: ${a?.passed ?? 0} passed, ${a?.failed ?? 0} failed, ${a?.unanswered ?? 0} unanswered`,
    `  measurements  ${m?.measured ?? 0} relays measured, ${m?.unreachable ?? 0} unreachable, ${m?.reported ?? 0} reported`,
  ];
}

export function relayText(v: RelayView): string {
  const { status: s, own } = v;
  const lines = [`Relay         ${s.identityKey}  (roles ${s.roles.join(', ') || '-'})`];
  if (!isRelay(s)) lines.push('              a client only: this node relays nothing and earns nothing');
  else if (!s.ledger)
    lines.push('Ledger        off: no registration, no earnings (start the node with --genesis)');
  else {
    lines.push(`Registration  ${registrationText(s, own)}`);
    if (own !== undefined) {
      const payout = s.registrationDetail?.payoutIsWallet ? " (this node's wallet)" : '';
      const relayBond = v.ledger?.economy?.relayBond;
      const short = isDecimal(own.bond) && isDecimal(relayBond) && BigInt(own.bond) < BigInt(relayBond);
      lines.push(
        `Bond          ${own.bond} credits${short ? ` (below relayBond ${relayBond}: out of the relay list)` : ''}`,
        `Payout        ${own.payout}${payout}`,
        `Bandwidth     ${measuredText(own, v.ledger)}`,
        `Reputation    ${own.reputation} of 728; ${own.uptimeEpochs} live epochs, ${own.penalties} penalties, ${bytes(Number(own.relayedBytes))} relayed (proven)`,
        `Earned        ${own.earned} credits in all`,
        `Last settled  ${own.lastSettlement === undefined ? 'none yet' : settlementText(own.lastSettlement)}`,
        `Open claim    ${openClaimText(own.openClaim)}`,
      );
    }
  }
  // A client claims, audits and measures nothing: its counters would only be zeros.
  if (s.economy !== undefined && isRelay(s)) {
    const epoch = s.economy.epoch === undefined ? '' : `, epoch ${s.economy.epoch}`;
    lines.push(`This node (since it started${epoch}):`, ...nodeEconomyLines(s.economy));
  }
  return `${lines.join('\n')}\n`;
}

export function addRelayCommand(program: Command): void {
  addApiFlags(
    program
      .command('relay')
      .description(
        'this node as a relay: registration, bond, measured bandwidth, reputation, earnings, claims, audits',
      ),
  ).action((flags: ApiFlags) =>
    runApiCommand(async () => {
      const addr = locateDaemon(flags);
      const client = controlClient(addr);
      const status = await call(addr, (signal) => client.getStatus({}, { signal }));
      let ledger: LedgerStatus | undefined;
      let own: LedgerRelay | undefined;
      if (status.ledger) {
        ledger = await call(addr, (signal) => client.getLedgerStatus({}, { signal }));
        const relays = await call(addr, (signal) => client.listLedgerRelays({}, { signal }));
        own = relays.relays.find((r) => r.account === status.identityKey);
      }
      const view: RelayView = { status, ledger, own };
      if (flags.json) return printJson(relayJson(view));
      process.stdout.write(relayText(view));
    }),
  );
}
