// The shapes of ledger blocks, commits, votes and proposals (./block.ts describes them and re-exports
// them with their codec, ./block-codec.ts, which needs them too).

/** Which vote step a vote belongs to. */
export type VoteType = 'PREVOTE' | 'PRECOMMIT';

export interface BlockHeader {
  /** Names the network (ASCII, 1..32 bytes): a vote or block from another chain never verifies. */
  readonly chainId: string;
  readonly height: number;
  /** Proposer's wall clock, informational only: the ledger never reads it (determinism). */
  readonly timeMs: number;
  /** Hash of block h-1 (32 zero bytes at height 1). */
  readonly prevHash: Uint8Array;
  /** stateHash after applying block h-1 (the genesis state at height 1). */
  readonly appHash: Uint8Array;
  /** SHA-256 over the block's transactions and evidence (see the codec). */
  readonly dataHash: Uint8Array;
  /** Hash of the commit for block h-1 carried in this block (32 zero bytes at height 1). */
  readonly lastCommitHash: Uint8Array;
  /** 32-byte Ed25519 key of the validator that proposed the block. */
  readonly proposer: Uint8Array;
}

export interface Block {
  readonly header: BlockHeader;
  /** Encoded signed transactions (src/wire/ledger-tx.ts), applied in this order. */
  readonly txs: readonly Uint8Array[];
  /** Proof of equivocation by validators, applied after the transactions. */
  readonly evidence: readonly Evidence[];
  /** The 2f+1 precommits that finalised block h-1 (null at height 1). */
  readonly lastCommit: Commit | null;
}

/** A signed prevote or precommit. blockHash null is a vote for nil (no block this round). */
export interface Vote {
  readonly type: VoteType;
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array | null;
  readonly validator: Uint8Array;
  readonly signature: Uint8Array;
}

/** A proposer's signed offer of a block for (height, round); polRound is -1 or the round of a POL. */
export interface Proposal {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly block: Block;
  readonly proposer: Uint8Array;
  readonly signature: Uint8Array;
}

export interface CommitSignature {
  readonly validator: Uint8Array;
  readonly signature: Uint8Array;
}

/** Precommits for one block at (height, round) from more than 2/3 of that height's validators. */
export interface Commit {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];
}

/** Two votes by one validator, same type, height and round, for different blocks (nil counts). */
export interface Evidence {
  readonly voteA: Vote;
  readonly voteB: Vote;
}
