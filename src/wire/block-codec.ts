// Consensus objects v1: binary codecs for blocks, votes, proposals, commits and evidence (structure
// only: signatures, quorums and hash links are checked by src/consensus/). Types: ./block.ts.
//
// All integers are unsigned big-endian. "chainId" is 1..32 printable ASCII bytes (0x21..0x7e) after a
// u8 length. Heights are 1..2^53-1 on the wire as u64; rounds are u32 below 0xffffffff. Every object
// that travels alone starts with its own 4-byte magic and a version byte = 1, and every encoding is
// self-delimiting, so objects nest without length prefixes.
//
// Block "ANBK":
//   magic (4) | version u8 | header | txCount u32 (0..MAX_BLOCK_TXS), then per tx: length u16 (1..512) |
//   tx bytes | evidenceCount u16 (0..MAX_BLOCK_EVIDENCE), then evidence encodings |
//   hasLastCommit u8 (0 or 1) | commit encoding (if 1)                          total <= MAX_BLOCK_BYTES
// header (what blockHash covers):
//   chainIdLength u8 | chainId | height u64 | timeMs u64 (<= 2^53-1) | prevHash (32) | appHash (32) |
//   dataHash (32) | lastCommitHash (32) | proposer (32)
//
// Vote "ANVT":
//   magic (4) | version u8 | type u8 (1 PREVOTE, 2 PRECOMMIT) | chainIdLength u8 | chainId | height u64 |
//   round u32 | hasBlock u8 (0 nil, 1) | blockHash (32, if 1) | validator (32) | signature (64)
//
// Proposal "ANPR":
//   magic (4) | version u8 | chainIdLength u8 | chainId | height u64 | round u32 |
//   polRound u32 (0xffffffff for -1, else < round) | proposer (32) | block encoding | signature (64)
//
// Commit "ANCM":
//   magic (4) | version u8 | height u64 | round u32 | blockHash (32) | count u16 (1..MAX_VALIDATORS),
//   then per signature: validator (32) | signature (64), validators strictly ascending (bytewise)
//
// Evidence "ANEV":
//   magic (4) | version u8 | voteA encoding | voteB encoding
//
// Hashes and signing messages (SHA-256; "\0" is one zero byte):
//   blockHash     = SHA-256("anonnet-block-v1\0"  || header)
//   dataHash      = SHA-256("anonnet-data-v1\0"   || txCount u32 || (length u16 || tx)* ||
//                           evidenceCount u16 || evidence encodings)
//   commitHash    = SHA-256("anonnet-commit-v1\0" || commit encoding)
//   vote signs      "anonnet-vote-v1\0"     || type u8 | chainIdLength u8 | chainId | height u64 |
//                                              round u32 | hasBlock u8 | blockHash (32, if 1) | validator (32)
//   proposal signs  "anonnet-proposal-v1\0" || chainIdLength u8 | chainId | height u64 | round u32 |
//                                              polRound u32 | proposer (32) | blockHash(block) (32)
//
// Every value has exactly one encoding, so decode then encode gives the same bytes back.
import { createHash } from 'node:crypto';
import type {
  Block,
  BlockHeader,
  Commit,
  CommitSignature,
  Evidence,
  Proposal,
  Vote,
  VoteType,
} from './block-types.ts';
import { bytesEqual, concatBytes, guardDecode, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError } from './decode-result.ts';
import { WireError } from './errors.ts';
import { MAX_TX_BYTES } from './ledger-tx.ts';

export const BLOCK_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x42, 0x4b]); // "ANBK"
export const VOTE_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x56, 0x54]); // "ANVT"
export const PROPOSAL_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x50, 0x52]); // "ANPR"
export const COMMIT_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x43, 0x4d]); // "ANCM"
export const EVIDENCE_MAGIC: Uint8Array = new Uint8Array([0x41, 0x4e, 0x45, 0x56]); // "ANEV"
export const CONSENSUS_WIRE_VERSION = 1;

export const VOTE_SIGNING_CONTEXT = 'anonnet-vote-v1\0';
export const PROPOSAL_SIGNING_CONTEXT = 'anonnet-proposal-v1\0';
export const BLOCK_HASH_CONTEXT = 'anonnet-block-v1\0';
export const DATA_HASH_CONTEXT = 'anonnet-data-v1\0';
export const COMMIT_HASH_CONTEXT = 'anonnet-commit-v1\0';

export const HASH_BYTES = 32;
export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const MAX_CHAIN_ID_BYTES = 32;
export const MAX_BLOCK_TXS = 10_000;
export const MAX_BLOCK_EVIDENCE = 256;
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024;
/** Most signatures a commit may carry (and so most validators a height may have). */
export const MAX_VALIDATORS = 1024;
/** Largest round number (0xffffffff encodes polRound -1). */
export const MAX_ROUND = 0xfffffffe;
export const MAX_HEIGHT = Number.MAX_SAFE_INTEGER;
/** Upper bounds of the encodings that have one (commit: 1024 signatures; vote, evidence: fixed). */
export const MAX_VOTE_BYTES =
  5 + 2 + MAX_CHAIN_ID_BYTES + 8 + 4 + 1 + HASH_BYTES + KEY_BYTES + SIGNATURE_BYTES;
export const MAX_EVIDENCE_BYTES = 5 + 2 * MAX_VOTE_BYTES;
export const MAX_COMMIT_BYTES = 5 + 8 + 4 + HASH_BYTES + 2 + MAX_VALIDATORS * (KEY_BYTES + SIGNATURE_BYTES);
export const MAX_PROPOSAL_BYTES =
  5 + 1 + MAX_CHAIN_ID_BYTES + 8 + 4 + 4 + KEY_BYTES + MAX_BLOCK_BYTES + SIGNATURE_BYTES;

/** 32 zero bytes: prevHash and lastCommitHash at height 1. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

const VOTE_TYPE_NUMBER: Readonly<Record<VoteType, number>> = { PREVOTE: 1, PRECOMMIT: 2 };
const NO_POL_ROUND = 0xffffffff;
const ascii = new TextEncoder();
const ctx = (s: string): Uint8Array => ascii.encode(s);
const VOTE_CTX = ctx(VOTE_SIGNING_CONTEXT);
const PROPOSAL_CTX = ctx(PROPOSAL_SIGNING_CONTEXT);
const BLOCK_CTX = ctx(BLOCK_HASH_CONTEXT);
const DATA_CTX = ctx(DATA_HASH_CONTEXT);
const COMMIT_CTX = ctx(COMMIT_HASH_CONTEXT);

function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

// ---------------------------------------------------------------- hashes and signing messages

/** SHA-256 over the encoded header, domain-separated: what proposals and votes name. */
export function blockHash(b: Block): Uint8Array {
  return blockHeaderHash(b.header);
}

export function blockHeaderHash(h: BlockHeader): Uint8Array {
  const w = new Writer();
  writeHeader(w, h);
  return sha256(BLOCK_CTX, w.finish());
}

/** Binds a block's transactions and evidence to its header. */
export function dataHash(txs: readonly Uint8Array[], evidence: readonly Evidence[]): Uint8Array {
  const w = new Writer();
  writeTxs(w, txs);
  writeEvidenceList(w, evidence);
  return sha256(DATA_CTX, w.finish());
}

export function commitHash(c: Commit): Uint8Array {
  return sha256(COMMIT_CTX, encodeCommit(c));
}

/** lastCommitHash for a block carrying `c` (32 zero bytes when there is none, at height 1). */
export function lastCommitHashOf(c: Commit | null): Uint8Array {
  return c === null ? ZERO_HASH.slice() : commitHash(c);
}

/** Null when header.dataHash and header.lastCommitHash match the block's contents, else the reason. */
export function checkBlockHashes(b: Block): string | null {
  if (!bytesEqual(b.header.dataHash, dataHash(b.txs, b.evidence))) return 'dataHash does not match the block';
  if (!bytesEqual(b.header.lastCommitHash, lastCommitHashOf(b.lastCommit))) {
    return 'lastCommitHash does not match the block';
  }
  return null;
}

/** What a vote's signature covers. Throws WireError on a value the format cannot carry. */
export function voteSigningBytes(v: Omit<Vote, 'signature'>): Uint8Array {
  const w = new Writer();
  writeVoteBody(w, v);
  return concatBytes(VOTE_CTX, w.finish());
}

/** What a proposal's signature covers: the block's hash, not the whole block. */
export function proposalSigningBytes(p: Omit<Proposal, 'signature'>): Uint8Array {
  const w = new Writer();
  writeProposalFields(w, p);
  w.bytes(blockHash(p.block));
  return concatBytes(PROPOSAL_CTX, w.finish());
}

// ---------------------------------------------------------------- encoders (throw WireError)

export function encodeBlock(b: Block): Uint8Array {
  const w = new Writer();
  writeBlock(w, b);
  return w.finish();
}

export function encodeVote(v: Vote): Uint8Array {
  const w = new Writer();
  writeVote(w, v);
  return w.finish();
}

export function encodeProposal(p: Proposal): Uint8Array {
  const w = new Writer();
  writeProposal(w, p);
  return w.finish();
}

export function encodeCommit(c: Commit): Uint8Array {
  const w = new Writer();
  writeCommit(w, c);
  return w.finish();
}

export function encodeEvidence(e: Evidence): Uint8Array {
  const w = new Writer();
  writeEvidence(w, e);
  return w.finish();
}

/** For nested encodings (consensus-msg.ts): append to a Writer. */
export function writeBlock(w: Writer, b: Block): void {
  const start = w.length;
  w.bytes(BLOCK_MAGIC).u8(CONSENSUS_WIRE_VERSION);
  writeHeader(w, b.header);
  writeTxs(w, b.txs);
  writeEvidenceList(w, b.evidence);
  if (b.lastCommit === null) w.u8(0);
  else {
    w.u8(1);
    writeCommit(w, b.lastCommit);
  }
  if (w.length - start > MAX_BLOCK_BYTES) {
    throw new WireError('TOO_LARGE', `block would be ${w.length - start} bytes, max ${MAX_BLOCK_BYTES}`);
  }
}

export function writeVote(w: Writer, v: Vote): void {
  w.bytes(VOTE_MAGIC).u8(CONSENSUS_WIRE_VERSION);
  writeVoteBody(w, v);
  checkLength(v.signature, SIGNATURE_BYTES, 'signature');
  w.bytes(v.signature);
}

export function writeProposal(w: Writer, p: Proposal): void {
  w.bytes(PROPOSAL_MAGIC).u8(CONSENSUS_WIRE_VERSION);
  writeProposalFields(w, p);
  writeBlock(w, p.block);
  checkLength(p.signature, SIGNATURE_BYTES, 'signature');
  w.bytes(p.signature);
}

export function writeCommit(w: Writer, c: Commit): void {
  w.bytes(COMMIT_MAGIC).u8(CONSENSUS_WIRE_VERSION);
  writeHeight(w, c.height);
  writeRound(w, c.round);
  checkLength(c.blockHash, HASH_BYTES, 'blockHash');
  w.bytes(c.blockHash);
  const n = c.signatures.length;
  if (n < 1 || n > MAX_VALIDATORS) throw new WireError('TOO_MANY', `commit has ${n} signatures`);
  w.u16(n);
  let prev: Uint8Array | null = null;
  for (const s of c.signatures) {
    checkLength(s.validator, KEY_BYTES, 'validator');
    checkLength(s.signature, SIGNATURE_BYTES, 'signature');
    if (prev !== null && compareBytes(prev, s.validator) >= 0) {
      throw new WireError('BAD_ORDER', 'commit validators must be strictly ascending');
    }
    prev = s.validator;
    w.bytes(s.validator).bytes(s.signature);
  }
}

export function writeEvidence(w: Writer, e: Evidence): void {
  w.bytes(EVIDENCE_MAGIC).u8(CONSENSUS_WIRE_VERSION);
  writeVote(w, e.voteA);
  writeVote(w, e.voteB);
}

function writeHeader(w: Writer, h: BlockHeader): void {
  writeChainId(w, h.chainId);
  writeHeight(w, h.height);
  if (!Number.isSafeInteger(h.timeMs) || h.timeMs < 0)
    throw new WireError('BAD_FIELD', 'timeMs out of range');
  w.u64(BigInt(h.timeMs));
  for (const [name, v] of [
    ['prevHash', h.prevHash],
    ['appHash', h.appHash],
    ['dataHash', h.dataHash],
    ['lastCommitHash', h.lastCommitHash],
  ] as const) {
    checkLength(v, HASH_BYTES, name);
    w.bytes(v);
  }
  checkLength(h.proposer, KEY_BYTES, 'proposer');
  w.bytes(h.proposer);
}

function writeTxs(w: Writer, txs: readonly Uint8Array[]): void {
  if (txs.length > MAX_BLOCK_TXS) throw new WireError('TOO_MANY', `${txs.length} transactions`);
  w.u32(txs.length);
  for (const tx of txs) {
    if (!(tx instanceof Uint8Array) || tx.length < 1 || tx.length > MAX_TX_BYTES) {
      throw new WireError('BAD_LENGTH', `transaction length must be 1..${MAX_TX_BYTES}`);
    }
    w.u16(tx.length).bytes(tx);
  }
}

function writeEvidenceList(w: Writer, evidence: readonly Evidence[]): void {
  if (evidence.length > MAX_BLOCK_EVIDENCE) throw new WireError('TOO_MANY', `${evidence.length} evidence`);
  w.u16(evidence.length);
  for (const e of evidence) writeEvidence(w, e);
}

function writeVoteBody(w: Writer, v: Omit<Vote, 'signature'>): void {
  const type = VOTE_TYPE_NUMBER[v.type];
  if (type === undefined) throw new WireError('BAD_FIELD', 'unknown vote type');
  w.u8(type);
  writeChainId(w, v.chainId);
  writeHeight(w, v.height);
  writeRound(w, v.round);
  if (v.blockHash === null) w.u8(0);
  else {
    checkLength(v.blockHash, HASH_BYTES, 'blockHash');
    w.u8(1).bytes(v.blockHash);
  }
  checkLength(v.validator, KEY_BYTES, 'validator');
  w.bytes(v.validator);
}

function writeProposalFields(w: Writer, p: Omit<Proposal, 'signature'>): void {
  writeChainId(w, p.chainId);
  writeHeight(w, p.height);
  writeRound(w, p.round);
  if (p.polRound === -1) w.u32(NO_POL_ROUND);
  else {
    if (!Number.isInteger(p.polRound) || p.polRound < 0 || p.polRound >= p.round) {
      throw new WireError('BAD_FIELD', 'polRound must be -1 or below round');
    }
    w.u32(p.polRound);
  }
  checkLength(p.proposer, KEY_BYTES, 'proposer');
  w.bytes(p.proposer);
}

function writeChainId(w: Writer, chainId: string): void {
  if (!isChainId(chainId)) throw new WireError('BAD_FIELD', 'chainId must be 1..32 printable ASCII bytes');
  w.u8(chainId.length).bytes(ascii.encode(chainId));
}

function writeHeight(w: Writer, height: number): void {
  if (!Number.isSafeInteger(height) || height < 1) throw new WireError('BAD_FIELD', 'height out of range');
  w.u64(BigInt(height));
}

function writeRound(w: Writer, round: number): void {
  if (!Number.isInteger(round) || round < 0 || round > MAX_ROUND)
    throw new WireError('BAD_FIELD', 'round out of range');
  w.u32(round);
}

/** 1..32 bytes of 0x21..0x7e. */
export function isChainId(s: string): boolean {
  if (typeof s !== 'string' || s.length < 1 || s.length > MAX_CHAIN_ID_BYTES) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// ---------------------------------------------------------------- decoders (never throw)

export function decodeBlock(bytes: Uint8Array): DecodeResult<Block> {
  return decodeWhole(bytes, MAX_BLOCK_BYTES, readBlock);
}

export function decodeVote(bytes: Uint8Array): DecodeResult<Vote> {
  return decodeWhole(bytes, MAX_VOTE_BYTES, readVote);
}

export function decodeProposal(bytes: Uint8Array): DecodeResult<Proposal> {
  return decodeWhole(bytes, MAX_PROPOSAL_BYTES, readProposal);
}

export function decodeCommit(bytes: Uint8Array): DecodeResult<Commit> {
  return decodeWhole(bytes, MAX_COMMIT_BYTES, readCommit);
}

export function decodeEvidence(bytes: Uint8Array): DecodeResult<Evidence> {
  return decodeWhole(bytes, MAX_EVIDENCE_BYTES, readEvidence);
}

/** One complete object, nothing after it; over `max` bytes is TOO_LARGE. Never throws. */
function decodeWhole<T>(bytes: Uint8Array, max: number, read: (r: Reader) => T): DecodeResult<T> {
  return guardDecode((): DecodeResult<T> => {
    const r = new Reader(bytes, max);
    const value = read(r);
    if (r.remaining > 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes follow the encoding`);
    return { kind: 'ok', value, consumed: r.offset };
  });
}

/** Readers for nested use: they throw NeedMoreBytes / WireError, which guardDecode turns into results. */
export function readBlock(r: Reader): Block {
  const start = r.offset;
  readMagic(r, BLOCK_MAGIC, 'block');
  const header = readHeader(r);
  const txCount = r.u32();
  if (txCount > MAX_BLOCK_TXS)
    throw new WireError('TOO_MANY', `${txCount} transactions, max ${MAX_BLOCK_TXS}`);
  const txs: Uint8Array[] = [];
  for (let i = 0; i < txCount; i++) {
    const len = r.u16();
    if (len < 1 || len > MAX_TX_BYTES) throw new WireError('BAD_LENGTH', `transaction length ${len}`);
    txs.push(r.bytes(len));
    checkBlockSize(r, start);
  }
  const evCount = r.u16();
  if (evCount > MAX_BLOCK_EVIDENCE)
    throw new WireError('TOO_MANY', `${evCount} evidence, max ${MAX_BLOCK_EVIDENCE}`);
  const evidence: Evidence[] = [];
  for (let i = 0; i < evCount; i++) evidence.push(readEvidence(r));
  const flag = r.u8();
  if (flag > 1) throw new WireError('BAD_FIELD', 'hasLastCommit must be 0 or 1');
  const lastCommit = flag === 1 ? readCommit(r) : null;
  checkBlockSize(r, start);
  return { header, txs, evidence, lastCommit };
}

export function readVote(r: Reader): Vote {
  readMagic(r, VOTE_MAGIC, 'vote');
  const typeNumber = r.u8();
  const type: VoteType | undefined =
    typeNumber === 1 ? 'PREVOTE' : typeNumber === 2 ? 'PRECOMMIT' : undefined;
  if (type === undefined) throw new WireError('BAD_FIELD', `unknown vote type ${typeNumber}`);
  const chainId = readChainId(r);
  const height = readHeight(r);
  const round = readRound(r);
  const blockHash = readOptionalHash(r);
  const validator = r.bytes(KEY_BYTES);
  const signature = r.bytes(SIGNATURE_BYTES);
  return { type, chainId, height, round, blockHash, validator, signature };
}

export function readProposal(r: Reader): Proposal {
  readMagic(r, PROPOSAL_MAGIC, 'proposal');
  const chainId = readChainId(r);
  const height = readHeight(r);
  const round = readRound(r);
  const pol = r.u32();
  let polRound = -1;
  if (pol !== NO_POL_ROUND) {
    if (pol >= round) throw new WireError('BAD_FIELD', 'polRound must be -1 or below round');
    polRound = pol;
  }
  const proposer = r.bytes(KEY_BYTES);
  const block = readBlock(r);
  const signature = r.bytes(SIGNATURE_BYTES);
  return { chainId, height, round, polRound, block, proposer, signature };
}

export function readCommit(r: Reader): Commit {
  readMagic(r, COMMIT_MAGIC, 'commit');
  const height = readHeight(r);
  const round = readRound(r);
  const hash = r.bytes(HASH_BYTES);
  const n = r.u16();
  if (n < 1 || n > MAX_VALIDATORS)
    throw new WireError('TOO_MANY', `commit has ${n} signatures (1..${MAX_VALIDATORS})`);
  const signatures: CommitSignature[] = [];
  let prev: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const validator = r.bytes(KEY_BYTES);
    if (prev !== null && compareBytes(prev, validator) >= 0) {
      throw new WireError('BAD_ORDER', 'commit validators must be strictly ascending');
    }
    prev = validator;
    signatures.push({ validator, signature: r.bytes(SIGNATURE_BYTES) });
  }
  return { height, round, blockHash: hash, signatures };
}

export function readEvidence(r: Reader): Evidence {
  readMagic(r, EVIDENCE_MAGIC, 'evidence');
  const voteA = readVote(r);
  const voteB = readVote(r);
  return { voteA, voteB };
}

function readHeader(r: Reader): BlockHeader {
  const chainId = readChainId(r);
  const height = readHeight(r);
  const time = r.u64();
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireError('BAD_FIELD', 'timeMs above 2^53-1');
  return {
    chainId,
    height,
    timeMs: Number(time),
    prevHash: r.bytes(HASH_BYTES),
    appHash: r.bytes(HASH_BYTES),
    dataHash: r.bytes(HASH_BYTES),
    lastCommitHash: r.bytes(HASH_BYTES),
    proposer: r.bytes(KEY_BYTES),
  };
}

function readMagic(r: Reader, magic: Uint8Array, what: string): void {
  // Byte by byte, so a short prefix of the right magic is needMore and a wrong byte is BAD_MAGIC at once.
  for (const m of magic) if (r.u8() !== m) throw new WireError('BAD_MAGIC', `not a ${what} (magic)`);
  const version = r.u8();
  if (version !== CONSENSUS_WIRE_VERSION)
    throw new WireError('BAD_VERSION', `unsupported ${what} version ${version}`);
}

function readChainId(r: Reader): string {
  const len = r.u8();
  if (len < 1 || len > MAX_CHAIN_ID_BYTES) throw new WireError('BAD_LENGTH', `chainId length ${len}`);
  const raw = r.bytes(len);
  let s = '';
  for (const c of raw) {
    if (c < 0x21 || c > 0x7e) throw new WireError('BAD_FIELD', 'chainId must be printable ASCII');
    s += String.fromCharCode(c);
  }
  return s;
}

function readHeight(r: Reader): number {
  const h = r.u64();
  if (h < 1n || h > BigInt(MAX_HEIGHT)) throw new WireError('BAD_FIELD', 'height must be 1..2^53-1');
  return Number(h);
}

function readRound(r: Reader): number {
  const round = r.u32();
  if (round > MAX_ROUND) throw new WireError('BAD_FIELD', 'round out of range');
  return round;
}

function readOptionalHash(r: Reader): Uint8Array | null {
  const flag = r.u8();
  if (flag > 1) throw new WireError('BAD_FIELD', 'hasBlock must be 0 or 1');
  return flag === 1 ? r.bytes(HASH_BYTES) : null;
}

function checkBlockSize(r: Reader, start: number): void {
  if (r.offset - start > MAX_BLOCK_BYTES)
    throw new WireError('TOO_LARGE', `block exceeds ${MAX_BLOCK_BYTES} bytes`);
}

function checkLength(v: Uint8Array, n: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== n)
    throw new WireError('BAD_LENGTH', `${what} must be ${n} bytes`);
}

/** Bytewise order of two byte strings (shorter first on a common prefix). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
