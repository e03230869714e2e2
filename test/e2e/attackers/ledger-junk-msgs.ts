// Well-formed but false consensus messages for the ledger attacks: they decode (so an unhardened node
// acts on them) and carry signatures nobody made. JUNK_HASH marks them, so a listener elsewhere in the
// network can tell the attacker's messages from honest ones.
import { randomBytes } from 'node:crypto';
import type { Block, Proposal, Vote } from '../../../src/wire/block.ts';
import { MAX_BLOCK_BYTES } from '../../../src/wire/block.ts';

/** A block hash (and appHash) no honest message carries. */
export const JUNK_HASH: Uint8Array = new Uint8Array(32).fill(0xee);

/** `bytes` of transactions (512 bytes each, random): what pads a block to about that size. */
export function junkTxs(bytes: number): Uint8Array[] {
  const count = Math.max(0, Math.floor(Math.min(bytes, MAX_BLOCK_BYTES - 2048) / 514));
  const tx = randomBytes(512);
  return Array.from({ length: count }, () => new Uint8Array(tx));
}

export function junkBlock(chainId: string, height: number, proposer: Uint8Array, bytes: number): Block {
  return {
    header: {
      chainId,
      height,
      timeMs: Date.now(),
      prevHash: randomBytes(32),
      appHash: JUNK_HASH,
      dataHash: randomBytes(32),
      lastCommitHash: randomBytes(32),
      proposer,
    },
    txs: junkTxs(bytes),
    evidence: [],
    lastCommit: null,
  };
}

/** A proposal "from" `proposer` with a random signature. */
export function junkProposal(
  chainId: string,
  height: number,
  round: number,
  proposer: Uint8Array,
  bytes: number,
): Proposal {
  return {
    chainId,
    height,
    round,
    polRound: -1,
    block: junkBlock(chainId, height, proposer, bytes),
    proposer,
    signature: randomBytes(64),
  };
}

/** A real proposal with its body swapped for junk: the header and its valid signature are kept. */
export function paddedProposal(real: Proposal, bytes: number): Proposal {
  return { ...real, block: { ...real.block, txs: junkTxs(bytes) } };
}

/** A prevote "by" `validator` for JUNK_HASH with a random signature. */
export function junkVote(chainId: string, height: number, round: number, validator: Uint8Array): Vote {
  return {
    type: 'PREVOTE',
    chainId,
    height,
    round,
    blockHash: JUNK_HASH,
    validator,
    signature: randomBytes(64),
  };
}

/** The proposer of (height, round) as docs/protocol.md defines it: index (h + r) mod n of the sorted set. */
export function proposerOf(validators: readonly Uint8Array[], height: number, round: number): Uint8Array {
  const sorted = [...validators].sort((a, b) => Buffer.compare(a, b));
  const n = sorted.length;
  return sorted[((height % n) + (round % n)) % n] as Uint8Array;
}

export function isJunkHash(h: Uint8Array | null): boolean {
  return h !== null && Buffer.from(h).equals(Buffer.from(JUNK_HASH));
}
