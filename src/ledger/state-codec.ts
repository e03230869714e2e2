// Canonical binary encoding of LedgerState: what stateHash covers, and what the block store keeps as a
// snapshot (decodeState reads it back). Every map and set is written in ascending key order and every
// value has one encoding; decodeState re-encodes what it read and refuses anything that does not come
// back byte for byte, so a decoded snapshot always hashes like the state it came from.
//
// All integers unsigned big-endian; keys are raw 32 bytes.
//   "anonnet-ledger-state-v3\0" | chainIdLength u8 | chainId | height u64 | lastBlockHash (32) |
//   params: startingCredits u64 | blockIntervalMs u64 | validatorCount u32 | nameFee u64 | minFee u64 |
//           powDifficulty u8 | epochLength u32 | relayBond u64 | creditsPerGiB u64 |
//           poolCapPerEpoch u64 | unmeasuredBandwidth u32 | auditSamples u8 | capacityCap u16 |
//           measureSample u32 |
//   minted u64 | burned u64 |
//   accounts u32, each: key | balance u64 | nonce u64 | genesisClaimed u8 | relayedBytes u64 |
//                       uptimeEpochs u64 | penalties u64 | hasSince u8 | since u64 (if 1) |
//   relays u32, each: key | roles u8 | bandwidth u32 | onionKeyHash (32) | policyLength u16 | policy |
//                     height u64 | payout | bond u64 | earned u64 | hasMeasured u8 |
//                     (if 1) bandwidth u32 | latencyMs u32 | epoch u64 |
//   candidates u32, each: key |
//   names u32, each: nameLength u8 | name | owner | target (32) | height u64 |
//   proposals u32, each: id (32) | paramId u8 | value u64 | proposer | height u64 |
//                        votes u32, each: voter | yes u8 |
//   epochs u16, each: epoch u64 | startHeight u64 | length u32 | validators u16, each: key |
//   epochSigned u32, each: key | count u32 | epochCommits u32 |
//   evidenceSeen u32, each: validator | height u64 | round u32 | voteType u8   (sorted by evidenceKey)
//   economy: pool u64 |
//     claims u32, each: relay | epoch u64 | cells u64 | leaves u32 | root (32) | txId (32) |
//     auditFails u32, each: relay | validators u32, each: key |
//     measurements u32, each: relay | reports u32, each: validator | bandwidth u32 | latencyMs u32 |
//                                                           epoch u64 |
//     settlements u32, each: relay | epoch u64 | claimedCells u64 | paidCells u64 | quality u16 |
//                            due u64 | paid u64 | penalised u8 | failVotes u32
import { bytesEqual, concatBytes, guardDecode, Reader, Writer } from '../wire/bytes.ts';
import { type DecodeResult, decodeError } from '../wire/decode-result.ts';
import { WireError } from '../wire/errors.ts';
import type { Credits } from './credits.ts';
import type {
  Account,
  EconomyState,
  EpochInfo,
  EvidenceRecord,
  KeyHex,
  LedgerParams,
  LedgerState,
  MeasuredBandwidth,
  NameRecord,
  Proposal,
  RelayClaim,
  RelayRegistration,
  Settlement,
} from './state-types.ts';

const CONTEXT = new TextEncoder().encode('anonnet-ledger-state-v3\0');
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bounds a snapshot read from disk: a corrupt length can never make the decoder allocate wildly. */
export const MAX_STATE_BYTES = 1 << 30;

export function encodeState(state: LedgerState): Uint8Array {
  return concatBytes(...encodeStateParts(state));
}

/**
 * encodeState in three pieces (their concatenation): stateHash feeds them to SHA-256 one by one, so
 * the accounts section (most of the bytes) is never copied into one buffer with the rest.
 */
export function encodeStateParts(state: LedgerState): readonly [Uint8Array, Uint8Array, Uint8Array] {
  const head = new Writer();
  encodeHead(head, state);
  const accounts = accountsSection(state.accounts);
  head.u32(accounts.keys.length);
  const w = new Writer();
  encodeRest(w, state);
  return [head.finish(), accounts.bytes, w.finish()];
}

function encodeHead(w: Writer, state: LedgerState): void {
  w.bytes(CONTEXT);
  const chainId = utf8.encode(state.chainId);
  w.u8(chainId.length).bytes(chainId).u64(BigInt(state.height)).bytes(state.lastBlockHash);
  const p = state.params;
  w.u64(p.startingCredits).u64(BigInt(p.blockIntervalMs)).u32(p.validatorCount);
  w.u64(p.nameFee).u64(p.minFee).u8(p.powDifficulty).u32(p.epochLength);
  w.u64(p.relayBond).u64(p.creditsPerGiB).u64(p.poolCapPerEpoch).u32(p.unmeasuredBandwidth);
  w.u8(p.auditSamples).u16(p.capacityCap).u32(p.measureSample);
  w.u64(state.minted).u64(state.burned);
}

function encodeRest(w: Writer, state: LedgerState): void {
  const relays = sortedEntries(state.relays);
  w.u32(relays.length);
  for (const [key, r] of relays) {
    w.bytes(hexBytes(key)).u8(r.roles).u32(r.bandwidth).bytes(r.onionKeyHash);
    w.u16(r.exitPolicySummary.length).bytes(r.exitPolicySummary).u64(BigInt(r.height));
    w.bytes(hexBytes(r.payout)).u64(r.bond).u64(r.earned);
    writeMeasured(w, r.measured);
  }

  const candidates = [...state.candidates].sort();
  w.u32(candidates.length);
  for (const key of candidates) w.bytes(hexBytes(key));

  const names = sortedEntries(state.names);
  w.u32(names.length);
  for (const [name, n] of names) {
    const bytes = utf8.encode(name);
    w.u8(bytes.length).bytes(bytes).bytes(hexBytes(n.owner)).bytes(n.target).u64(BigInt(n.height));
  }

  const proposals = sortedEntries(state.proposals);
  w.u32(proposals.length);
  for (const [id, pr] of proposals) {
    w.bytes(hexBytes(id)).u8(pr.paramId).u64(pr.value).bytes(hexBytes(pr.proposer)).u64(BigInt(pr.height));
    const votes = sortedEntries(pr.votes);
    w.u32(votes.length);
    for (const [voter, yes] of votes) w.bytes(hexBytes(voter)).u8(yes ? 1 : 0);
  }

  w.u16(state.epochs.length);
  for (const e of state.epochs) {
    w.u64(BigInt(e.epoch)).u64(BigInt(e.startHeight)).u32(e.length);
    const keys = [...e.validators].sort();
    w.u16(keys.length);
    for (const key of keys) w.bytes(hexBytes(key));
  }

  const signed = sortedEntries(state.epochSigned);
  w.u32(signed.length);
  for (const [key, n] of signed) w.bytes(hexBytes(key)).u32(n);
  w.u32(state.epochCommits);

  const seen = sortedEntries(state.evidenceSeen);
  w.u32(seen.length);
  for (const [, r] of seen) {
    w.bytes(hexBytes(r.validator)).u64(BigInt(r.height)).u32(r.round).u8(r.voteType);
  }
  encodeEconomy(w, state.economy);
}

function encodeEconomy(w: Writer, e: EconomyState): void {
  w.u64(e.pool);
  const claims = sortedEntries(e.claims);
  w.u32(claims.length);
  for (const [relay, c] of claims) {
    w.bytes(hexBytes(relay)).u64(BigInt(c.epoch)).u64(c.cells).u32(c.leaves).bytes(c.root).bytes(c.txId);
  }
  const fails = sortedEntries(e.auditFails);
  w.u32(fails.length);
  for (const [relay, validators] of fails) {
    const keys = [...validators].sort();
    w.bytes(hexBytes(relay)).u32(keys.length);
    for (const k of keys) w.bytes(hexBytes(k));
  }
  const measurements = sortedEntries(e.measurements);
  w.u32(measurements.length);
  for (const [relay, reports] of measurements) {
    const sorted = sortedEntries(reports);
    w.bytes(hexBytes(relay)).u32(sorted.length);
    for (const [validator, m] of sorted) {
      w.bytes(hexBytes(validator));
      writeMeasurement(w, m);
    }
  }
  const settlements = sortedEntries(e.settlements);
  w.u32(settlements.length);
  for (const [relay, s] of settlements) {
    w.bytes(hexBytes(relay)).u64(BigInt(s.epoch)).u64(s.claimedCells).u64(s.paidCells).u16(s.quality);
    w.u64(s.due)
      .u64(s.paid)
      .u8(s.penalised ? 1 : 0)
      .u32(s.failVotes);
  }
}

function writeMeasured(w: Writer, m: MeasuredBandwidth | null): void {
  if (m === null) w.u8(0);
  else writeMeasurement(w.u8(1), m);
}

function writeMeasurement(w: Writer, m: MeasuredBandwidth): void {
  w.u32(m.bandwidth).u32(m.latencyMs).u64(BigInt(m.epoch));
}

// ---- the accounts section, derived from the previous block's ----
//
// Encoding a state is dominated by its accounts (sorting the keys, writing each record): O(accounts)
// per block although a block changes a few. So the accounts section of a map is kept (weakly, with
// the map), and a map made from another by a known set of changes (LedgerDraft.freeze, notes it with
// noteAccountsDerived) gets its section by splicing the changed records into its base's: a memcpy of
// the unchanged runs instead of a sort and an encoding. Byte for byte what a full encoding gives (the
// draft property test compares it with states built without notes).

interface AccountsSection {
  /** Keys in ascending order. */
  readonly keys: readonly KeyHex[];
  /** The records (key | fields), in key order, back to back. */
  readonly bytes: Uint8Array;
  /** Start of record i in `bytes`; offsets[keys.length] = bytes.length. */
  readonly offsets: Uint32Array;
}

type Accounts = ReadonlyMap<KeyHex, Account>;

const sections = new WeakMap<Accounts, AccountsSection>();
const derivations = new WeakMap<Accounts, { readonly base: Accounts; readonly changes: Accounts }>();
/** Beyond this many unencoded maps in a row, the oldest is encoded in full. */
const MAX_DERIVATION_DEPTH = 64;

/**
 * Records that `next` is `base` with `changes` set (no key removed). The caller must never change
 * `next` or `changes` afterwards.
 */
export function noteAccountsDerived(next: Accounts, base: Accounts, changes: Accounts): void {
  if (next !== base) derivations.set(next, { base, changes });
}

function accountsSection(m: Accounts): AccountsSection {
  const hit = sections.get(m);
  if (hit !== undefined) return hit;
  const chain: Accounts[] = [];
  let root = m;
  while (!sections.has(root) && chain.length < MAX_DERIVATION_DEPTH) {
    const d = derivations.get(root);
    if (d === undefined) break;
    chain.push(root);
    root = d.base;
  }
  let section = sections.get(root) ?? fullSection(root);
  for (let i = chain.length - 1; i >= 0; i--) {
    const d = derivations.get(chain[i]!);
    if (d !== undefined) section = spliced(section, d.changes);
  }
  if (section.keys.length !== m.size) section = fullSection(m); // a note that lied: never trust it
  sections.set(m, section);
  derivations.delete(m); // lets the base maps go
  return section;
}

function fullSection(m: Accounts): AccountsSection {
  const keys = [...m.keys()].sort(compareKeys);
  const w = new Writer();
  const offsets = new Uint32Array(keys.length + 1);
  for (const [i, k] of keys.entries()) {
    offsets[i] = w.length;
    writeAccount(w, k, m.get(k) as Account);
  }
  offsets[keys.length] = w.length;
  return { keys, bytes: w.finish(), offsets };
}

function spliced(base: AccountsSection, changes: Accounts): AccountsSection {
  const changed = [...changes.keys()].sort(compareKeys);
  const keys: KeyHex[] = [];
  // Runs of base records [from, to) or new records, in key order.
  const runs: (readonly [number, number] | Uint8Array)[] = [];
  const n = base.keys.length;
  let prev = 0;
  for (const k of changed) {
    const p = lowerBound(base.keys, k, prev);
    if (p > prev) {
      runs.push([prev, p]);
      for (let i = prev; i < p; i++) keys.push(base.keys[i]!);
    }
    keys.push(k);
    runs.push(accountRecord(k, changes.get(k) as Account));
    prev = base.keys[p] === k ? p + 1 : p;
  }
  if (prev < n) {
    runs.push([prev, n]);
    for (let i = prev; i < n; i++) keys.push(base.keys[i]!);
  }
  let size = 0;
  for (const r of runs)
    size += r instanceof Uint8Array ? r.length : base.offsets[r[1]]! - base.offsets[r[0]]!;
  const bytes = new Uint8Array(size);
  const offsets = new Uint32Array(keys.length + 1);
  let pos = 0;
  let idx = 0;
  for (const r of runs) {
    if (r instanceof Uint8Array) {
      bytes.set(r, pos);
      offsets[idx++] = pos;
      pos += r.length;
      continue;
    }
    const start = base.offsets[r[0]]!;
    const end = base.offsets[r[1]]!;
    bytes.set(base.bytes.subarray(start, end), pos);
    const shift = pos - start;
    for (let i = r[0]; i < r[1]; i++) offsets[idx++] = base.offsets[i]! + shift;
    pos += end - start;
  }
  offsets[idx] = pos;
  return { keys, bytes, offsets };
}

function accountRecord(key: KeyHex, a: Account): Uint8Array {
  return writeAccount(new Writer(), key, a).finish();
}

function writeAccount(w: Writer, key: KeyHex, a: Account): Writer {
  w.bytes(hexBytes(key))
    .u64(a.balance)
    .u64(a.nonce)
    .u8(a.genesisClaimed ? 1 : 0);
  const r = a.reputation;
  w.u64(r.relayedBytes).u64(r.uptimeEpochs).u64(r.penalties);
  if (r.since === null) w.u8(0);
  else w.u8(1).u64(BigInt(r.since));
  return w;
}

/** First index >= from whose key is not below `key`. */
function lowerBound(keys: readonly KeyHex[], key: KeyHex, from: number): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as KeyHex) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads a state written by encodeState. Never throws; refuses any non-canonical input. */
export function decodeState(bytes: Uint8Array): DecodeResult<LedgerState> {
  return guardDecode((): DecodeResult<LedgerState> => {
    const state = readState(new Reader(bytes, MAX_STATE_BYTES), bytes.length);
    if (!bytesEqual(encodeState(state), bytes)) {
      return decodeError('NOT_CANONICAL', 'state snapshot does not re-encode to the same bytes');
    }
    return { kind: 'ok', value: state, consumed: bytes.length };
  });
}

/** Sections in the order encodeState writes them; `total` bounds every count (see `count`). */
function readState(r: Reader, total: number): LedgerState {
  const context = r.bytes(CONTEXT.length);
  if (!bytesEqual(context, CONTEXT)) throw new WireError('BAD_MAGIC', 'not a ledger state snapshot (v3)');
  const chainId = readUtf8(r, r.u8());
  const height = safe(r.u64());
  const lastBlockHash = r.bytes(32);
  const params = readParams(r);
  const minted = r.u64() as Credits;
  const burned = r.u64() as Credits;
  const accounts = readAccounts(r, total);
  const relays = readRelays(r, total);
  const candidates = new Set<KeyHex>();
  for (let n = count(r.u32(), total); n > 0; n--) candidates.add(readKey(r));
  const names = readNames(r, total);
  const proposals = readProposals(r, total);
  const epochs = readEpochs(r);
  const epochSigned = new Map<KeyHex, number>();
  for (let n = count(r.u32(), total); n > 0; n--) epochSigned.set(readKey(r), r.u32());
  const epochCommits = r.u32();
  const evidenceSeen = readEvidence(r, total);
  const economy = readEconomy(r, total);
  if (r.remaining > 0) throw new WireError('TRAILING_BYTES', `${r.remaining} bytes follow the state`);
  return {
    chainId,
    height,
    lastBlockHash,
    accounts,
    relays,
    candidates,
    names,
    params,
    proposals,
    epochs,
    epochSigned,
    epochCommits,
    evidenceSeen,
    minted,
    burned,
    economy,
  };
}

function readEconomy(r: Reader, total: number): EconomyState {
  const pool = r.u64() as Credits;
  const claims = new Map<KeyHex, RelayClaim>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const relay = readKey(r);
    claims.set(relay, {
      epoch: safe(r.u64()),
      cells: r.u64(),
      leaves: r.u32(),
      root: r.bytes(32),
      txId: r.bytes(32),
    });
  }
  const auditFails = new Map<KeyHex, Set<KeyHex>>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const relay = readKey(r);
    const validators = new Set<KeyHex>();
    for (let v = count(r.u32(), total); v > 0; v--) validators.add(readKey(r));
    auditFails.set(relay, validators);
  }
  const measurements = new Map<KeyHex, Map<KeyHex, MeasuredBandwidth>>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const relay = readKey(r);
    const reports = new Map<KeyHex, MeasuredBandwidth>();
    for (let v = count(r.u32(), total); v > 0; v--) reports.set(readKey(r), readMeasurement(r));
    measurements.set(relay, reports);
  }
  const settlements = new Map<KeyHex, Settlement>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const relay = readKey(r);
    settlements.set(relay, {
      epoch: safe(r.u64()),
      claimedCells: r.u64(),
      paidCells: r.u64(),
      quality: r.u16(),
      due: r.u64() as Credits,
      paid: r.u64() as Credits,
      penalised: readBool(r),
      failVotes: r.u32(),
    });
  }
  return { pool, claims, auditFails, measurements, settlements };
}

function readMeasurement(r: Reader): MeasuredBandwidth {
  return { bandwidth: r.u32(), latencyMs: r.u32(), epoch: safe(r.u64()) };
}

function readParams(r: Reader): LedgerParams {
  return {
    startingCredits: r.u64() as Credits,
    blockIntervalMs: safe(r.u64()),
    validatorCount: r.u32(),
    nameFee: r.u64() as Credits,
    minFee: r.u64() as Credits,
    powDifficulty: r.u8(),
    epochLength: r.u32(),
    relayBond: r.u64() as Credits,
    creditsPerGiB: r.u64() as Credits,
    poolCapPerEpoch: r.u64() as Credits,
    unmeasuredBandwidth: r.u32(),
    auditSamples: r.u8(),
    capacityCap: r.u16(),
    measureSample: r.u32(),
  };
}

function readAccounts(r: Reader, total: number): Map<KeyHex, Account> {
  const accounts = new Map<KeyHex, Account>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const key = readKey(r);
    const balance = r.u64() as Credits;
    const nonce = r.u64();
    const genesisClaimed = readBool(r);
    const relayedBytes = r.u64();
    const uptimeEpochs = r.u64();
    const penalties = r.u64();
    const since = readBool(r) ? safe(r.u64()) : null;
    accounts.set(key, {
      balance,
      nonce,
      genesisClaimed,
      reputation: { relayedBytes, uptimeEpochs, penalties, since },
    });
  }
  return accounts;
}

function readRelays(r: Reader, total: number): Map<KeyHex, RelayRegistration> {
  const relays = new Map<KeyHex, RelayRegistration>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const key = readKey(r);
    const roles = r.u8();
    const bandwidth = r.u32();
    const onionKeyHash = r.bytes(32);
    const exitPolicySummary = r.bytes(r.u16());
    const height = safe(r.u64());
    const payout = readKey(r);
    const bond = r.u64() as Credits;
    const earned = r.u64() as Credits;
    const measured = readBool(r) ? readMeasurement(r) : null;
    relays.set(key, {
      roles,
      bandwidth,
      onionKeyHash,
      exitPolicySummary,
      height,
      payout,
      bond,
      measured,
      earned,
    });
  }
  return relays;
}

function readNames(r: Reader, total: number): Map<string, NameRecord> {
  const names = new Map<string, NameRecord>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const name = readUtf8(r, r.u8());
    names.set(name, { owner: readKey(r), target: r.bytes(32), height: safe(r.u64()) });
  }
  return names;
}

function readProposals(r: Reader, total: number): Map<KeyHex, Proposal> {
  const proposals = new Map<KeyHex, Proposal>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const id = readKey(r);
    const paramId = r.u8();
    const value = r.u64();
    const proposer = readKey(r);
    const height = safe(r.u64());
    const votes = new Map<KeyHex, boolean>();
    for (let v = count(r.u32(), total); v > 0; v--) votes.set(readKey(r), readBool(r));
    proposals.set(id, { paramId, value, proposer, height, votes });
  }
  return proposals;
}

function readEpochs(r: Reader): EpochInfo[] {
  const epochs: EpochInfo[] = [];
  for (let n = r.u16(); n > 0; n--) {
    const epoch = safe(r.u64());
    const startHeight = safe(r.u64());
    const length = r.u32();
    const validators: KeyHex[] = [];
    for (let v = r.u16(); v > 0; v--) validators.push(readKey(r));
    epochs.push({ epoch, startHeight, length, validators });
  }
  return epochs;
}

function readEvidence(r: Reader, total: number): Map<string, EvidenceRecord> {
  const evidenceSeen = new Map<string, EvidenceRecord>();
  for (let n = count(r.u32(), total); n > 0; n--) {
    const record: EvidenceRecord = {
      validator: readKey(r),
      height: safe(r.u64()),
      round: r.u32(),
      voteType: r.u8(),
    };
    evidenceSeen.set(`${record.validator}:${record.height}:${record.round}:${record.voteType}`, record);
  }
  return evidenceSeen;
}

function readKey(r: Reader): KeyHex {
  return Buffer.from(r.bytes(32)).toString('hex');
}

function readBool(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw new WireError('BAD_FIELD', `flag must be 0 or 1, got ${b}`);
  return b === 1;
}

function readUtf8(r: Reader, n: number): string {
  try {
    return strictUtf8.decode(r.bytes(n));
  } catch (err) {
    if (err instanceof TypeError) throw new WireError('BAD_UTF8', 'string is not well-formed UTF-8');
    throw err;
  }
}

function safe(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireError('BAD_FIELD', `${v} passes 2^53-1`);
  return Number(v);
}

/** A count can never exceed the bytes left: refuse early instead of looping on garbage. */
function count(n: number, total: number): number {
  if (n > total) throw new WireError('BAD_LENGTH', `count ${n} exceeds the snapshot size`);
  return n;
}

function sortedEntries<V>(m: ReadonlyMap<string, V>): [string, V][] {
  // Keys are ASCII (hex, names of [a-z0-9-], evidence keys), so code-unit order is byte order.
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function hexBytes(hex: KeyHex): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
