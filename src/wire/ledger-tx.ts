// Ledger transaction v1: binary codec for signed transactions (structure only: the signature, nonce,
// funds and policy are checked by the ledger's state machine, src/ledger/apply.ts).
//
// All integers are unsigned big-endian.
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------------------
//        0  4     magic "ANTX" (41 4e 54 58)
//        4  1     version = 2 (version 1 had no payout in REGISTER_RELAY and no kinds 8..10)
//        5  1     kind (1..10, below; any other value is refused: UNKNOWN_KIND)
//        6  32    sender: raw Ed25519 public key
//       38  8     nonce (u64): the sender's account nonce + 1
//       46  8     fee (u64, credits)
//       54  .     body, by kind:
//                   1 CLAIM_GENESIS        powNonce u64                                  (8)
//                   2 TRANSFER             to (32) | amount u64                          (40)
//                   3 REGISTER_RELAY       roles u8 | bandwidth u32 (bytes/s) |
//                                          onionKeyHash (32) | payout (32: the account paid) |
//                                          policyLength u16 (0..256) |
//                                          exit-policy summary (policyLength)            (71..327)
//                   4 VALIDATOR_CANDIDACY  (empty)                                       (0)
//                   5 REGISTER_NAME        nameLength u8 (1..63) | name (UTF-8) |
//                                          target (32)                                   (34..96)
//                   6 PARAM_PROPOSAL       paramId u8 | value u64                        (9)
//                   7 PARAM_VOTE           proposalId (32) | yes u8 (0 or 1)             (33)
//                   8 RELAY_CLAIM          epoch u32 | cells u64 | leaves u32 | root (32)   (48)
//                   9 AUDIT_FAIL           relay (32) | epoch u32 | reason u8            (37)
//                  10 MEASUREMENT          epoch u32 | count u8 (1..MAX_MEASUREMENTS) |
//                                          count × (relay (32) | bandwidth u32 (bytes/s) |
//                                          latency u16 (ms))                              (5..385)
//        .  64    signature: Ed25519 by `sender` over "anonnet-tx-v1\0" || every byte above
//   ------  ----  -----------------------------------------------------------------------
//   total <= 512 bytes; nothing may follow the signature.
//
// Every value has exactly one encoding, so decode then encode gives the same bytes back. A name is
// checked here only for length and well-formed UTF-8; its alphabet is ledger policy (BAD_NAME there).
// paramId is an open enum: unknown ids decode and are refused by the ledger.
import { createHash } from 'node:crypto';
import { concatBytes, copyBytes, guardDecode, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError } from './decode-result.ts';
import { WireError, type WireErrorCode } from './errors.ts';

export const TX_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x54, 0x58]); // "ANTX"
export const TX_VERSION = 2;
export const TX_SIGNING_CONTEXT = 'anonnet-tx-v1\0';

export const TX_KEY_BYTES = 32;
export const TX_HASH_BYTES = 32;
export const TX_SIGNATURE_BYTES = 64;
export const TX_HEADER_BYTES = 54;
export const MAX_EXIT_POLICY_SUMMARY_BYTES = 256;
export const MIN_NAME_BYTES = 1;
export const MAX_NAME_BYTES = 63;
export const MAX_TX_BYTES = 512;
/** Relays one MEASUREMENT transaction reports on (10 × 38 bytes keeps it under MAX_TX_BYTES). */
export const MAX_MEASUREMENTS = 10;

/** Kind numbers on the wire. */
export const TX_KIND = {
  CLAIM_GENESIS: 1,
  TRANSFER: 2,
  REGISTER_RELAY: 3,
  VALIDATOR_CANDIDACY: 4,
  REGISTER_NAME: 5,
  PARAM_PROPOSAL: 6,
  PARAM_VOTE: 7,
  RELAY_CLAIM: 8,
  AUDIT_FAIL: 9,
  MEASUREMENT: 10,
} as const;
export type TxKind = keyof typeof TX_KIND;

/** Decode error codes: the wire layer's, plus a transaction kind this version does not know. */
export type TxDecodeErrorCode = WireErrorCode | 'UNKNOWN_KIND';

export interface TxHeader {
  /** 32-byte raw Ed25519 public key of the account that signs and pays. */
  readonly sender: Uint8Array;
  readonly nonce: bigint;
  readonly fee: bigint;
}

export type TxBody =
  | { readonly kind: 'CLAIM_GENESIS'; readonly powNonce: bigint }
  | { readonly kind: 'TRANSFER'; readonly to: Uint8Array; readonly amount: bigint }
  | {
      readonly kind: 'REGISTER_RELAY';
      readonly roles: number;
      readonly bandwidth: number;
      readonly onionKeyHash: Uint8Array;
      /** The account the relay's earnings are paid to (docs/economy.md, "Roles and keys"). */
      readonly payout: Uint8Array;
      readonly exitPolicySummary: Uint8Array;
    }
  | { readonly kind: 'VALIDATOR_CANDIDACY' }
  | { readonly kind: 'REGISTER_NAME'; readonly name: string; readonly target: Uint8Array }
  | { readonly kind: 'PARAM_PROPOSAL'; readonly paramId: number; readonly value: bigint }
  | { readonly kind: 'PARAM_VOTE'; readonly proposalId: Uint8Array; readonly yes: boolean }
  | {
      readonly kind: 'RELAY_CLAIM';
      readonly epoch: number;
      readonly cells: bigint;
      readonly leaves: number;
      readonly root: Uint8Array;
    }
  | {
      readonly kind: 'AUDIT_FAIL';
      readonly relay: Uint8Array;
      readonly epoch: number;
      readonly reason: number;
    }
  | { readonly kind: 'MEASUREMENT'; readonly epoch: number; readonly entries: readonly Measurement[] };

/** One relay's measured bandwidth and round-trip latency, as a measurer reports it. */
export interface Measurement {
  readonly relay: Uint8Array;
  /** Bytes per second (u32). */
  readonly bandwidth: number;
  /** Milliseconds (u16). */
  readonly latencyMs: number;
}

export type Tx = TxHeader & TxBody;

export interface SignedTx {
  readonly tx: Tx;
  /** Every byte before the signature. */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** body || signature: what travels and what txId hashes. */
  readonly bytes: Uint8Array;
}

const CONTEXT_BYTES = new TextEncoder().encode(TX_SIGNING_CONTEXT);
const KIND_BY_NUMBER: ReadonlyMap<number, TxKind> = new Map(
  Object.entries(TX_KIND).map(([k, v]) => [v, k as TxKind]),
);
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes the signature covers: the context string, then the body. */
export function txSigningMessage(body: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_BYTES, body);
}

/** SHA-256 of the complete signed bytes: a transaction's id (and a PARAM_PROPOSAL's proposal id). */
export function txId(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Every byte before the signature. Throws WireError on a value the format cannot carry. */
export function encodeTx(tx: Tx): Uint8Array {
  checkLength(tx.sender, TX_KEY_BYTES, 'sender');
  const w = new Writer();
  w.bytes(TX_MAGIC).u8(TX_VERSION).u8(TX_KIND[tx.kind]).bytes(tx.sender).u64(tx.nonce).u64(tx.fee);
  switch (tx.kind) {
    case 'CLAIM_GENESIS':
      w.u64(tx.powNonce);
      break;
    case 'TRANSFER':
      checkLength(tx.to, TX_KEY_BYTES, 'to');
      w.bytes(tx.to).u64(tx.amount);
      break;
    case 'REGISTER_RELAY':
      checkLength(tx.onionKeyHash, TX_HASH_BYTES, 'onionKeyHash');
      checkLength(tx.payout, TX_KEY_BYTES, 'payout');
      checkRange(tx.exitPolicySummary.length, 0, MAX_EXIT_POLICY_SUMMARY_BYTES, 'exit-policy summary');
      w.u8(tx.roles).u32(tx.bandwidth).bytes(tx.onionKeyHash).bytes(tx.payout);
      w.u16(tx.exitPolicySummary.length).bytes(tx.exitPolicySummary);
      break;
    case 'VALIDATOR_CANDIDACY':
      break;
    case 'REGISTER_NAME': {
      const name = utf8.encode(tx.name);
      checkRange(name.length, MIN_NAME_BYTES, MAX_NAME_BYTES, 'name');
      checkLength(tx.target, TX_KEY_BYTES, 'target');
      w.u8(name.length).bytes(name).bytes(tx.target);
      break;
    }
    case 'PARAM_PROPOSAL':
      w.u8(tx.paramId).u64(tx.value);
      break;
    case 'PARAM_VOTE':
      checkLength(tx.proposalId, TX_HASH_BYTES, 'proposalId');
      w.bytes(tx.proposalId).u8(tx.yes ? 1 : 0);
      break;
    case 'RELAY_CLAIM':
      checkLength(tx.root, TX_HASH_BYTES, 'root');
      w.u32(tx.epoch).u64(tx.cells).u32(tx.leaves).bytes(tx.root);
      break;
    case 'AUDIT_FAIL':
      checkLength(tx.relay, TX_KEY_BYTES, 'relay');
      w.bytes(tx.relay).u32(tx.epoch).u8(tx.reason);
      break;
    case 'MEASUREMENT':
      checkRange(tx.entries.length, 1, MAX_MEASUREMENTS, 'measurements');
      w.u32(tx.epoch).u8(tx.entries.length);
      for (const m of tx.entries) {
        checkLength(m.relay, TX_KEY_BYTES, 'measured relay');
        w.bytes(m.relay).u32(m.bandwidth).u16(m.latencyMs);
      }
      break;
  }
  if (w.length + TX_SIGNATURE_BYTES > MAX_TX_BYTES) {
    throw new WireError('TOO_LARGE', `transaction would be ${w.length + TX_SIGNATURE_BYTES} bytes`);
  }
  return w.finish();
}

/** Encodes and signs. `sign` gets the signing message and must return a 64-byte Ed25519 signature. */
export function signTx(tx: Tx, sign: (msg: Uint8Array) => Uint8Array): SignedTx {
  const body = encodeTx(tx);
  const signature = new Uint8Array(sign(txSigningMessage(body)));
  checkLength(signature, TX_SIGNATURE_BYTES, 'signature');
  return { tx, body, signature, bytes: concatBytes(body, signature) };
}

/**
 * Structural decode of one complete signed transaction (the input must hold exactly one). Does not
 * check the signature. needMore: `bytes` is a proper prefix of something that could decode. Never throws.
 */
export function decodeTx(bytes: Uint8Array): DecodeResult<SignedTx> {
  return guardDecode(() => decodeUnchecked(bytes));
}

function decodeUnchecked(bytes: Uint8Array): DecodeResult<SignedTx> {
  if (bytes.length > MAX_TX_BYTES) {
    return decodeError('TOO_LARGE', `transaction is ${bytes.length} bytes, max ${MAX_TX_BYTES}`);
  }
  for (let i = 0; i < TX_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== TX_MAGIC[i]) return decodeError('BAD_MAGIC', 'not a ledger transaction (magic)');
  }
  const r = new Reader(bytes, MAX_TX_BYTES);
  r.bytes(TX_MAGIC.length);
  const version = r.u8();
  if (version !== TX_VERSION) return decodeError('BAD_VERSION', `unsupported transaction version ${version}`);
  const kindNumber = r.u8();
  const kind = KIND_BY_NUMBER.get(kindNumber);
  if (kind === undefined) return decodeError('UNKNOWN_KIND', `unknown transaction kind ${kindNumber}`);
  const header: TxHeader = { sender: r.bytes(TX_KEY_BYTES), nonce: r.u64(), fee: r.u64() };
  const tx: Tx = { ...header, ...readBody(r, kind) };
  const bodyLength = r.offset;
  const signature = r.bytes(TX_SIGNATURE_BYTES);
  if (r.remaining > 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes follow the signature`);
  return {
    kind: 'ok',
    value: { tx, body: copyBytes(bytes, 0, bodyLength), signature, bytes: copyBytes(bytes, 0, r.offset) },
    consumed: r.offset,
  };
}

function readBody(r: Reader, kind: TxKind): TxBody {
  switch (kind) {
    case 'CLAIM_GENESIS':
      return { kind, powNonce: r.u64() };
    case 'TRANSFER':
      return { kind, to: r.bytes(TX_KEY_BYTES), amount: r.u64() };
    case 'REGISTER_RELAY': {
      const roles = r.u8();
      const bandwidth = r.u32();
      const onionKeyHash = r.bytes(TX_HASH_BYTES);
      const payout = r.bytes(TX_KEY_BYTES);
      const policyLength = r.u16();
      checkRange(policyLength, 0, MAX_EXIT_POLICY_SUMMARY_BYTES, 'exit-policy summary');
      return { kind, roles, bandwidth, onionKeyHash, payout, exitPolicySummary: r.bytes(policyLength) };
    }
    case 'VALIDATOR_CANDIDACY':
      return { kind };
    case 'REGISTER_NAME': {
      const nameLength = r.u8();
      checkRange(nameLength, MIN_NAME_BYTES, MAX_NAME_BYTES, 'name');
      const nameBytes = r.bytes(nameLength);
      let name: string;
      try {
        name = strictUtf8.decode(nameBytes);
      } catch {
        throw new WireError('BAD_UTF8', 'name is not well-formed UTF-8');
      }
      return { kind, name, target: r.bytes(TX_KEY_BYTES) };
    }
    case 'PARAM_PROPOSAL':
      return { kind, paramId: r.u8(), value: r.u64() };
    case 'PARAM_VOTE': {
      const proposalId = r.bytes(TX_HASH_BYTES);
      const yes = r.u8();
      if (yes > 1) throw new WireError('BAD_FIELD', `vote must be 0 or 1, got ${yes}`);
      return { kind, proposalId, yes: yes === 1 };
    }
    case 'RELAY_CLAIM':
      return { kind, epoch: r.u32(), cells: r.u64(), leaves: r.u32(), root: r.bytes(TX_HASH_BYTES) };
    case 'AUDIT_FAIL':
      return { kind, relay: r.bytes(TX_KEY_BYTES), epoch: r.u32(), reason: r.u8() };
    case 'MEASUREMENT': {
      const epoch = r.u32();
      const n = r.u8();
      checkRange(n, 1, MAX_MEASUREMENTS, 'measurements');
      const entries: Measurement[] = [];
      for (let i = 0; i < n; i++) {
        entries.push({ relay: r.bytes(TX_KEY_BYTES), bandwidth: r.u32(), latencyMs: r.u16() });
      }
      return { kind, epoch, entries };
    }
  }
}

function checkLength(v: Uint8Array, n: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== n) {
    throw new WireError('BAD_LENGTH', `${what} must be ${n} bytes`);
  }
}

function checkRange(n: number, min: number, max: number, what: string): void {
  if (n < min || n > max) throw new WireError('BAD_LENGTH', `${what} length ${n} is not in ${min}..${max}`);
}
