// Strict parsers for the `anonnet ledger` arguments. Credits are whole numbers parsed as bigint (never a
// float: "1.5", "1e3", "-2" and "0x10" are refused, not rounded); accounts and transaction ids are 64 hex
// digits. A parser throws commander's InvalidArgumentError, so a bad value is a usage error (exit 2).
import { InvalidArgumentError } from 'commander';
import { MAX_CREDITS } from '../ledger/credits.ts';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX_32 = /^[0-9a-fA-F]{64}$/;

/** Credits from decimal text: 0..2^64-1, or 1..2^64-1 when `positive`. */
export function parseCredits(text: string, positive: boolean): bigint {
  const t = text.trim();
  if (!DECIMAL.test(t)) {
    throw new InvalidArgumentError(
      `"${text}" is not a whole number of credits (digits only: no sign, decimal point or exponent)`,
    );
  }
  const v = BigInt(t);
  if (v > MAX_CREDITS) throw new InvalidArgumentError(`"${text}" is above the maximum ${MAX_CREDITS}`);
  if (positive && v === 0n) throw new InvalidArgumentError('the amount must be at least 1 credit');
  return v;
}

export const parseAmount = (text: string): bigint => parseCredits(text, true);
export const parseFee = (text: string): bigint => parseCredits(text, false);

/** An account (an identity's Ed25519 public key) or a transaction id: 64 hex digits, lowercased. */
export function parseHex32(text: string, what: string): string {
  const t = text.trim();
  if (!HEX_32.test(t)) {
    throw new InvalidArgumentError(`${what} must be 64 hex digits (32 bytes), got ${t.length} characters`);
  }
  return t.toLowerCase();
}

export const parseAccount = (text: string): string => parseHex32(text, 'an account');
export const parseTxId = (text: string): string => parseHex32(text, 'a transaction id');

/** A nonce override: 1..2^64-1. */
export function parseNonce(text: string): bigint {
  const t = text.trim();
  if (!DECIMAL.test(t) || t === '0' || BigInt(t) > MAX_CREDITS)
    throw new InvalidArgumentError(`"${text}" is not a nonce (1..2^64-1)`);
  return BigInt(t);
}

/** Milliseconds: a whole number in 1..86400000. */
export function parseTimeoutMs(text: string): number {
  const t = text.trim();
  const v = DECIMAL.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(v) || v < 1 || v > 86_400_000)
    throw new InvalidArgumentError(`"${text}" is not a timeout in milliseconds (1..86400000)`);
  return v;
}
