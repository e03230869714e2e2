// The economy at run time (docs/economy.md): link receipts for the circuit layer; on a relay, the
// receipt book and its claims, and the audit service; on a validator, the audits. Every part acts on
// committed ledger state only, once per block. Without a ledger there is no economy: no receipts.
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Libp2p } from '@libp2p/interface';
import type { LedgerNode } from '../consensus/ledger-node.ts';
import type { Identity } from '../crypto/identity.ts';
import { epochAt } from '../ledger/epochs.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import { AUDIT_PROTOCOL, serveAudits } from './audit-protocol.ts';
import { Auditor, type AuditorStats } from './auditor.ts';
import { type CircuitEconomy, receiptSigner, throwawaySigner } from './circuit-economy.ts';
import { Claimer, type ClaimerStats, type ClaimInflation } from './claimer.ts';
import { IdentityTxs } from './identity-txs.ts';
import { type MeasureFn, Measurer, type MeasurerStats } from './measurer.ts';
import { ReceiptBook, type ReceiptBookStats } from './receipt-book.ts';
import type { ReceiptSigner } from './receipt-counter.ts';

/**
 * TEST ONLY: `<percent>:<path>`. Once a file exists at <path>, the first relay of the testnet to make a
 * claim takes it (an atomic rename to <path>.<pid>, so exactly one process wins) and from then on claims
 * <percent> more cells than its receipts hold. Refused outside loopback test networks.
 */
export const INFLATE_ENV = 'ANONNET_TEST_INFLATE_CLAIMS';

export interface EconomyOptions {
  readonly relay: boolean;
  readonly dataDir: string;
  /** Test-network mode: the test-only claim inflation may arm. */
  readonly testnet: boolean;
}

export interface EconomyDeps {
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, 'bind'>;
  readonly host: Libp2p;
  readonly identity: Identity;
  readonly ledger: LedgerNode | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

export interface EconomyStatus {
  readonly epoch: number | null;
  readonly receipts: ReceiptBookStats & { readonly cellsThisEpoch: string };
  readonly claims: ClaimerStats & {
    readonly last: { epoch: number; cells: string; leaves: number; outcome: string } | null;
  };
  readonly audits: AuditorStats;
  readonly measurements: MeasurerStats;
}

export interface EconomySubsystem {
  /** For relays' circuits (undefined without a ledger, or on a client only). */
  readonly circuit: CircuitEconomy | undefined;
  /** For the client's circuits: a signer with a fresh key per circuit (undefined without a ledger). */
  readonly receipts: (() => ReceiptSigner) | undefined;
  /** Hands the economy the circuit layer's relay measurement (validators measure relays with it). */
  useMeasurement(measure: MeasureFn): void;
  /** The one queue of transactions the node identity signs (undefined without a ledger). */
  readonly txs: IdentityTxs | undefined;
  status(): { readonly economy?: EconomyStatus };
  stop(): void;
}

export async function createEconomy(opts: EconomyOptions, deps: EconomyDeps): Promise<EconomySubsystem> {
  const ledger = deps.ledger;
  if (ledger === undefined)
    return {
      circuit: undefined,
      receipts: undefined,
      txs: undefined,
      useMeasurement: () => {},
      status: () => ({}),
      stop: () => {},
    };
  const { log, identity } = deps;
  const stopping = new AbortController();
  let epoch: number | undefined;
  const readEpoch = () => {
    const s = ledger.state;
    epoch = epochAt(s, s.height + 1)?.epoch;
  };
  readEpoch();
  const currentEpoch = () => epoch;
  const txs = new IdentityTxs(ledger, identity);
  let receiptsSigned = 0;
  let penalties = 0;
  let settledSeen = ledger.state.economy.settlements;
  const countingSigner = (signer: ReceiptSigner): ReceiptSigner => ({
    epoch: signer.epoch,
    sign: (...args) => {
      receiptsSigned++;
      return signer.sign(...args);
    },
  });
  const book = new ReceiptBook(identity.publicKey);
  const inflate = inflationFromEnv(deps.env ?? process.env, opts.testnet);
  if (inflate !== undefined) log.warn({ percent: inflate.percent }, 'test-only claim inflation is armed');
  const claimer = opts.relay
    ? new Claimer(identity.publicKey, book, txs, join(opts.dataDir, 'economy'), log, inflate)
    : undefined;
  const auditor = opts.relay ? new Auditor(deps.host, identity.publicKey, txs, log) : undefined;
  const measurer = opts.relay ? new Measurer(identity.publicKey, txs, log) : undefined;
  if (claimer !== undefined)
    await serveAudits(deps.host, (from, req) => claimer.answer(ledger.state, from, req));
  ledger.onCommit(() => {
    readEpoch();
    if (stopping.signal.aborted) return;
    const state = ledger.state;
    if (state.economy.settlements !== settledSeen) {
      for (const [relay, s] of state.economy.settlements) {
        if (s.penalised && settledSeen.get(relay) !== s) penalties++;
      }
      settledSeen = state.economy.settlements;
    }
    // The economy acts on what was committed; its failure must never reach the ledger's commit path.
    for (const part of [claimer, auditor, measurer]) {
      try {
        part?.onState(state, stopping.signal);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'economy step failed');
      }
    }
  });
  const circuit: CircuitEconomy | undefined = opts.relay
    ? {
        signer: countingSigner(receiptSigner(identity, currentEpoch)),
        accept: (bytes) => {
          if (epoch !== undefined) book.accept(bytes, epoch);
        },
        throwawaySigner: () => throwawaySigner(currentEpoch),
      }
    : undefined;
  deps.metrics?.bind({
    economy: () => {
      const refused = Object.values(book.stats.refused).reduce((a, b) => a + b, 0);
      return {
        receiptsSigned,
        receiptsAccepted: book.stats.accepted,
        receiptsRefused: refused,
        claimsSubmitted: claimer?.stats.claimsSubmitted ?? 0,
        claimsRefused: claimer?.stats.claimsRefused ?? 0,
        auditsAnswered: claimer?.stats.auditsAnswered ?? 0,
        auditsPassed: auditor?.stats.passed ?? 0,
        auditsFailed: (auditor?.stats.failed ?? 0) + (auditor?.stats.unanswered ?? 0),
        measurements: measurer?.stats.reported ?? 0,
        penalties,
      };
    },
  });
  return {
    circuit,
    receipts: () => countingSigner(throwawaySigner(currentEpoch)),
    useMeasurement: (measure) => measurer?.use(measure),
    txs,
    status: () => ({
      economy: {
        epoch: epoch ?? null,
        receipts: {
          ...book.stats,
          cellsThisEpoch: (epoch === undefined ? 0n : book.cells(epoch)).toString(),
        },
        claims: {
          ...(claimer?.stats ?? {
            claimsSubmitted: 0,
            claimsRefused: 0,
            auditsAnswered: 0,
            auditsRefused: 0,
          }),
          last:
            claimer?.last === undefined ? null : { ...claimer.last, cells: claimer.last.cells.toString() },
        },
        audits: auditor?.stats ?? { audited: 0, passed: 0, failed: 0, unanswered: 0 },
        measurements: measurer?.stats ?? { measured: 0, unreachable: 0, reported: 0 },
      },
    }),
    stop: () => {
      stopping.abort();
      if (claimer !== undefined) void deps.host.unhandle(AUDIT_PROTOCOL).catch(() => {});
    },
  };
}

/** The test-only claim inflation (INFLATE_ENV): how much, once this process has taken the trigger file. */
function inflationFromEnv(env: NodeJS.ProcessEnv, testnet: boolean): ClaimInflation | undefined {
  const spec = env[INFLATE_ENV];
  if (spec === undefined || spec === '') return undefined;
  if (!testnet) throw new Error(`${INFLATE_ENV} is test-only, refused outside a loopback test network`);
  const [percent, path] = spec.split(':');
  if (path === undefined || !(Number(percent) > 0)) throw new Error(`${INFLATE_ENV} is <percent>:<path>`);
  let taken = false;
  return {
    percent: Number(percent),
    armed: () => {
      if (taken) return true;
      try {
        if (!existsSync(path)) return false;
        renameSync(path, `${path}.${process.pid}`);
        taken = true;
      } catch {
        // Another relay took it first.
      }
      return taken;
    },
  };
}
