// The economy's transactions (docs/economy.md): a relay's claim of proven work for the epoch just
// ended, a validator's failed audit of a claim, and a validator's bandwidth measurements. Rules only:
// the common checks (signature, fee, nonce) ran in ./apply.ts, and each function here either refuses
// without writing or writes everything (the fee included, through `payFee`).
import type { SignedTx, TxBody, TxHeader } from '../wire/ledger-tx.ts';
import { txId } from '../wire/ledger-tx.ts';
import type { Credits } from './credits.ts';
import type { LedgerDraft } from './draft.ts';
import { epochAt } from './epochs.ts';
import { type Account, type KeyHex, keyHex, type MeasuredBandwidth } from './state.ts';

/** What ./apply.ts hands each rule: the draft, the sender and what the common checks read. */
export interface EconomyChecked {
  readonly d: LedgerDraft;
  readonly sender: KeyHex;
  readonly account: Account;
  readonly fee: Credits;
  readonly height: number;
  readonly validators: ReadonlySet<KeyHex>;
  /** Debits the fee, advances the nonce; null, or the refusal (nothing written then). */
  readonly payFee: () => EconomyRefusal | null;
}

export type EconomyRefusalCode =
  /** From paying the fee (./apply.ts payFee). */
  | 'INSUFFICIENT_FUNDS'
  | 'BALANCE_OVERFLOW'
  | 'NOT_A_RELAY'
  | 'NOT_A_VALIDATOR'
  /** The relay's bond was taken by a penalty: it must register again before it may claim. */
  | 'NO_BOND'
  /** A claim for an epoch other than the one just ended, or a measurement for another than the current. */
  | 'BAD_EPOCH'
  /** A claim after the first half of the epoch that follows the claimed one (audits need the rest). */
  | 'CLAIM_WINDOW_CLOSED'
  | 'CLAIM_EXISTS'
  | 'BAD_CLAIM'
  | 'UNKNOWN_CLAIM'
  | 'ALREADY_AUDITED'
  | 'BAD_MEASUREMENT';

export type EconomyRefusal = {
  readonly ok: false;
  readonly code: EconomyRefusalCode;
  readonly reason: string;
};

type Of<K extends TxBody['kind']> = TxHeader & Extract<TxBody, { readonly kind: K }>;

function refuse(code: EconomyRefusalCode, reason: string): EconomyRefusal {
  return { ok: false, code, reason };
}

export function applyRelayClaim(
  c: EconomyChecked,
  tx: Of<'RELAY_CLAIM'>,
  signed: SignedTx,
): EconomyRefusal | null {
  const { d, sender } = c;
  const reg = d.relay(sender);
  if (reg === undefined) return refuse('NOT_A_RELAY', 'only a registered relay may claim');
  if (reg.bond === 0n) return refuse('NO_BOND', 'the bond was taken by a penalty: register again');
  const now = epochAt(d.base, c.height);
  if (now === undefined || tx.epoch + 1 !== now.epoch) {
    return refuse('BAD_EPOCH', `a claim now is for epoch ${(now?.epoch ?? 1) - 1}, not ${tx.epoch}`);
  }
  if (c.height >= now.startHeight + Math.ceil(now.length / 2)) {
    return refuse('CLAIM_WINDOW_CLOSED', 'claims are taken in the first half of the following epoch');
  }
  if (tx.cells === 0n || tx.leaves === 0 || BigInt(tx.leaves) > tx.cells) {
    return refuse('BAD_CLAIM', 'a claim has 1..cells leaves and at least one cell');
  }
  if (d.economy.claims.has(sender)) return refuse('CLAIM_EXISTS', 'this relay already claimed this epoch');
  const paid = c.payFee();
  if (paid !== null) return paid;
  const claims = new Map(d.economy.claims);
  claims.set(sender, {
    epoch: tx.epoch,
    cells: tx.cells,
    leaves: tx.leaves,
    root: tx.root.slice(),
    txId: txId(signed.bytes),
  });
  d.economy = { ...d.economy, claims };
  return null;
}

export function applyAuditFail(c: EconomyChecked, tx: Of<'AUDIT_FAIL'>): EconomyRefusal | null {
  const { d, sender } = c;
  if (!c.validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator audits');
  const relay = keyHex(tx.relay);
  const claim = d.economy.claims.get(relay);
  if (claim === undefined || claim.epoch !== tx.epoch) {
    return refuse('UNKNOWN_CLAIM', 'no open claim of that relay for that epoch');
  }
  const fails = d.economy.auditFails.get(relay);
  if (fails?.has(sender) === true)
    return refuse('ALREADY_AUDITED', 'this validator already failed this claim');
  const paid = c.payFee();
  if (paid !== null) return paid;
  const auditFails = new Map(d.economy.auditFails);
  auditFails.set(relay, new Set([...(fails ?? []), sender]));
  d.economy = { ...d.economy, auditFails };
  return null;
}

export function applyMeasurement(c: EconomyChecked, tx: Of<'MEASUREMENT'>): EconomyRefusal | null {
  const { d, sender } = c;
  if (!c.validators.has(sender)) return refuse('NOT_A_VALIDATOR', 'only a validator measures');
  const now = epochAt(d.base, c.height);
  if (now === undefined || tx.epoch !== now.epoch) {
    return refuse('BAD_EPOCH', `measurements now are for epoch ${now?.epoch ?? 0}, not ${tx.epoch}`);
  }
  const relays = tx.entries.map((m) => keyHex(m.relay));
  if (new Set(relays).size !== relays.length) return refuse('BAD_MEASUREMENT', 'a relay is listed twice');
  if (relays.some((r) => !d.hasRelay(r))) return refuse('NOT_A_RELAY', 'a measured relay is not registered');
  const paid = c.payFee();
  if (paid !== null) return paid;
  const measurements = new Map(d.economy.measurements);
  for (const [i, m] of tx.entries.entries()) {
    const relay = relays[i] as KeyHex;
    const byValidator = new Map(measurements.get(relay) ?? []);
    const report: MeasuredBandwidth = { bandwidth: m.bandwidth, latencyMs: m.latencyMs, epoch: tx.epoch };
    byValidator.set(sender, report);
    measurements.set(relay, byValidator);
  }
  d.economy = { ...d.economy, measurements };
  return null;
}
