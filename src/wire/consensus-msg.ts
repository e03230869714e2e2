// The one envelope validators and followers exchange: proposals, votes, transactions, committed
// blocks, block sync and status. Pure codec; objects inside carry their own magic and version
// (./block-codec.ts), so the envelope is one type byte and the body:
//
//   type u8 | body
//     1 PROPOSAL       proposal encoding
//     2 VOTE           vote encoding
//     3 TX             length u16 (1..512) | signed transaction bytes (opaque here)
//     4 COMMITTED      block encoding | commit encoding
//     5 SYNC_REQUEST   fromHeight u64 (1..2^53-1) | maxBlocks u16 (1..MAX_SYNC_BLOCKS)
//     6 SYNC_RESPONSE  count u16 (0..MAX_SYNC_BLOCKS), then count times: block encoding | commit encoding
//     7 STATUS         height u64 (0..2^53-1: the last committed height, 0 for none)
//   total <= MAX_CONSENSUS_MESSAGE_BYTES; nothing may follow the body.
//
// An unknown type is refused (UNKNOWN_TYPE): peers of one version speak one set of messages.
//
// Each type has a largest possible encoding (maxConsensusMessageBytes: a VOTE is at most 181 bytes, a
// STATUS exactly 9), so a receiver can refuse an oversized frame from its first byte, before decoding.
// encodeSyncResponse builds a SYNC_RESPONSE from blocks and commits already encoded (as a block store
// keeps them): the same bytes as encodeConsensusMessage, without decoding and re-encoding each block.
import type { Block, Commit, Proposal, Vote } from './block.ts';
import {
  MAX_BLOCK_BYTES,
  MAX_COMMIT_BYTES,
  MAX_HEIGHT,
  MAX_PROPOSAL_BYTES,
  MAX_VOTE_BYTES,
  readBlock,
  readCommit,
  readProposal,
  readVote,
  writeBlock,
  writeCommit,
  writeProposal,
  writeVote,
} from './block-codec.ts';
import { guardDecode, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError } from './decode-result.ts';
import { WireError, type WireErrorCode } from './errors.ts';
import { MAX_TX_BYTES } from './ledger-tx.ts';

/** Fits one frame of the consensus link (8 MiB): a full block, its commit and the envelope. */
export const MAX_CONSENSUS_MESSAGE_BYTES = 8 * 1024 * 1024;
export const MAX_SYNC_BLOCKS = 64;

export const CONSENSUS_MSG_TYPE = {
  PROPOSAL: 1,
  VOTE: 2,
  TX: 3,
  COMMITTED: 4,
  SYNC_REQUEST: 5,
  SYNC_RESPONSE: 6,
  STATUS: 7,
} as const;
export type ConsensusMessageKind = keyof typeof CONSENSUS_MSG_TYPE;

export type ConsensusMsgDecodeErrorCode = WireErrorCode | 'UNKNOWN_TYPE';

export interface CommittedBlock {
  readonly block: Block;
  readonly commit: Commit;
}

export type ConsensusMessage =
  | { readonly kind: 'PROPOSAL'; readonly proposal: Proposal }
  | { readonly kind: 'VOTE'; readonly vote: Vote }
  | { readonly kind: 'TX'; readonly tx: Uint8Array }
  | { readonly kind: 'COMMITTED'; readonly block: Block; readonly commit: Commit }
  | { readonly kind: 'SYNC_REQUEST'; readonly fromHeight: number; readonly maxBlocks: number }
  | { readonly kind: 'SYNC_RESPONSE'; readonly blocks: readonly CommittedBlock[] }
  | { readonly kind: 'STATUS'; readonly height: number };

/** Largest encoding of each message type, type byte included (never above the envelope's limit). */
const MAX_BYTES_BY_KIND: Readonly<Record<ConsensusMessageKind, number>> = {
  PROPOSAL: 1 + MAX_PROPOSAL_BYTES,
  VOTE: 1 + MAX_VOTE_BYTES,
  TX: 1 + 2 + MAX_TX_BYTES,
  COMMITTED: Math.min(MAX_CONSENSUS_MESSAGE_BYTES, 1 + MAX_BLOCK_BYTES + MAX_COMMIT_BYTES),
  SYNC_REQUEST: 1 + 8 + 2,
  SYNC_RESPONSE: MAX_CONSENSUS_MESSAGE_BYTES,
  STATUS: 1 + 8,
};

const KIND_BY_NUMBER: ReadonlyMap<number, ConsensusMessageKind> = new Map(
  Object.entries(CONSENSUS_MSG_TYPE).map(([k, v]) => [v, k as ConsensusMessageKind]),
);

/** Throws WireError on a value the format cannot carry (including TOO_LARGE past the limit). */
export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  const w = new Writer();
  w.u8(CONSENSUS_MSG_TYPE[m.kind]);
  switch (m.kind) {
    case 'PROPOSAL':
      writeProposal(w, m.proposal);
      break;
    case 'VOTE':
      writeVote(w, m.vote);
      break;
    case 'TX':
      if (!(m.tx instanceof Uint8Array) || m.tx.length < 1 || m.tx.length > MAX_TX_BYTES) {
        throw new WireError('BAD_LENGTH', `transaction length must be 1..${MAX_TX_BYTES}`);
      }
      w.u16(m.tx.length).bytes(m.tx);
      break;
    case 'COMMITTED':
      writeBlock(w, m.block);
      writeCommit(w, m.commit);
      break;
    case 'SYNC_REQUEST':
      writeU53(w, m.fromHeight, 1, 'fromHeight');
      if (!Number.isInteger(m.maxBlocks) || m.maxBlocks < 1 || m.maxBlocks > MAX_SYNC_BLOCKS) {
        throw new WireError('BAD_FIELD', `maxBlocks must be 1..${MAX_SYNC_BLOCKS}`);
      }
      w.u16(m.maxBlocks);
      break;
    case 'SYNC_RESPONSE':
      if (m.blocks.length > MAX_SYNC_BLOCKS) throw new WireError('TOO_MANY', `${m.blocks.length} blocks`);
      w.u16(m.blocks.length);
      for (const b of m.blocks) {
        writeBlock(w, b.block);
        writeCommit(w, b.commit);
        if (w.length > MAX_CONSENSUS_MESSAGE_BYTES) break;
      }
      break;
    case 'STATUS':
      writeU53(w, m.height, 0, 'height');
      break;
  }
  if (w.length > MAX_CONSENSUS_MESSAGE_BYTES) {
    throw new WireError('TOO_LARGE', `message would exceed ${MAX_CONSENSUS_MESSAGE_BYTES} bytes`);
  }
  return w.finish();
}

/** The type named by a message's first byte, without decoding it (undefined: empty or unknown). */
export function consensusMessageKind(bytes: Uint8Array): ConsensusMessageKind | undefined {
  const n = bytes[0];
  return n === undefined ? undefined : KIND_BY_NUMBER.get(n);
}

/** The largest encoding a message of `kind` can have, type byte included. */
export function maxConsensusMessageBytes(kind: ConsensusMessageKind): number {
  return MAX_BYTES_BY_KIND[kind];
}

/**
 * A SYNC_RESPONSE from encoded blocks and commits (as a block store keeps them, each decoded and
 * verified when it was stored). Throws WireError (TOO_MANY, TOO_LARGE) past the format's limits.
 */
export function encodeSyncResponse(
  parts: readonly { readonly block: Uint8Array; readonly commit: Uint8Array }[],
): Uint8Array {
  if (parts.length > MAX_SYNC_BLOCKS) throw new WireError('TOO_MANY', `${parts.length} blocks`);
  const w = new Writer();
  w.u8(CONSENSUS_MSG_TYPE.SYNC_RESPONSE).u16(parts.length);
  for (const p of parts) {
    w.bytes(p.block).bytes(p.commit);
    if (w.length > MAX_CONSENSUS_MESSAGE_BYTES) {
      throw new WireError('TOO_LARGE', `message would exceed ${MAX_CONSENSUS_MESSAGE_BYTES} bytes`);
    }
  }
  return w.finish();
}

/** One complete message (nothing after it). Never throws. */
export function decodeConsensusMessage(bytes: Uint8Array): DecodeResult<ConsensusMessage> {
  return guardDecode((): DecodeResult<ConsensusMessage> => {
    if (bytes.length > MAX_CONSENSUS_MESSAGE_BYTES) {
      return decodeError('TOO_LARGE', `message is ${bytes.length} bytes, max ${MAX_CONSENSUS_MESSAGE_BYTES}`);
    }
    const r = new Reader(bytes, MAX_CONSENSUS_MESSAGE_BYTES);
    const typeNumber = r.u8();
    const kind = KIND_BY_NUMBER.get(typeNumber);
    if (kind === undefined)
      return decodeError('UNKNOWN_TYPE', `unknown consensus message type ${typeNumber}`);
    const value = readBody(r, kind);
    if (r.remaining > 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes follow the message`);
    return { kind: 'ok', value, consumed: r.offset };
  });
}

function readBody(r: Reader, kind: ConsensusMessageKind): ConsensusMessage {
  switch (kind) {
    case 'PROPOSAL':
      return { kind, proposal: readProposal(r) };
    case 'VOTE':
      return { kind, vote: readVote(r) };
    case 'TX': {
      const len = r.u16();
      if (len < 1 || len > MAX_TX_BYTES) throw new WireError('BAD_LENGTH', `transaction length ${len}`);
      return { kind, tx: r.bytes(len) };
    }
    case 'COMMITTED': {
      const block = readBlock(r);
      return { kind, block, commit: readCommit(r) };
    }
    case 'SYNC_REQUEST': {
      const fromHeight = readU53(r, 1, 'fromHeight');
      const maxBlocks = r.u16();
      if (maxBlocks < 1 || maxBlocks > MAX_SYNC_BLOCKS)
        throw new WireError('BAD_FIELD', `maxBlocks ${maxBlocks}`);
      return { kind, fromHeight, maxBlocks };
    }
    case 'SYNC_RESPONSE': {
      const n = r.u16();
      if (n > MAX_SYNC_BLOCKS) throw new WireError('TOO_MANY', `${n} blocks, max ${MAX_SYNC_BLOCKS}`);
      const blocks: CommittedBlock[] = [];
      for (let i = 0; i < n; i++) {
        const block = readBlock(r);
        blocks.push({ block, commit: readCommit(r) });
      }
      return { kind, blocks };
    }
    case 'STATUS':
      return { kind, height: readU53(r, 0, 'height') };
  }
}

function writeU53(w: Writer, v: number, min: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < min) throw new WireError('BAD_FIELD', `${what} out of range`);
  w.u64(BigInt(v));
}

function readU53(r: Reader, min: number, what: string): number {
  const v = r.u64();
  if (v < BigInt(min) || v > BigInt(MAX_HEIGHT)) throw new WireError('BAD_FIELD', `${what} out of range`);
  return Number(v);
}
