// Builds real, signed chains for ledger tests: blocks whose header hashes match their contents and
// the state they extend, commits signed by real validator keys, and equivocation evidence.
import type { Identity } from '../../../src/crypto/identity.ts';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import { applyBlock, type BlockReceipts } from '../../../src/ledger/chain.ts';
import { validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { type GenesisDoc, genesisState } from '../../../src/ledger/genesis.ts';
import { keyHex, type LedgerParams, type LedgerState, stateHash } from '../../../src/ledger/state.ts';
import {
  type Block,
  blockHash,
  type Commit,
  compareBytes,
  dataHash,
  type Evidence,
  lastCommitHashOf,
  type Vote,
  type VoteType,
  voteSigningBytes,
} from '../../../src/wire/block.ts';

export const CHAIN_ID = 'anonnet-unit';

/** Validator identities (seeds 101..), distinct from fixtures.ts's ids (seeds 1..6). */
export const validatorIds: readonly Identity[] = Array.from({ length: 8 }, (_, i) =>
  identityFromSeed(new Uint8Array(32).fill(101 + i)),
);

export function testGenesis(
  validators: readonly Identity[],
  params: Partial<LedgerParams> = {},
  accounts: GenesisDoc['accounts'] = [],
): GenesisDoc {
  return {
    chainId: CHAIN_ID,
    params: { powDifficulty: 0, validatorCount: 4, epochLength: 4, ...params },
    validators: validators.map((v) => v.publicKey),
    accounts,
  };
}

export function testGenesisState(
  validators: readonly Identity[],
  params: Partial<LedgerParams> = {},
): LedgerState {
  return genesisState(testGenesis(validators, params));
}

/** Every identity a test may sign with, by key hex. */
export function keyring(...groups: readonly (readonly Identity[])[]): Map<string, Identity> {
  const m = new Map<string, Identity>();
  for (const g of groups) for (const id of g) m.set(keyHex(id.publicKey), id);
  return m;
}

export interface BuildOptions {
  readonly txs?: readonly Uint8Array[];
  readonly evidence?: readonly Evidence[];
  readonly lastCommit?: Commit | null;
  /** Defaults to the first validator of the block's height. */
  readonly proposer?: Uint8Array;
}

/** A block extending `state` at state.height + 1 with correct hashes (the caller supplies lastCommit). */
export function buildBlock(state: LedgerState, opts: BuildOptions = {}): Block {
  const height = state.height + 1;
  const txs = opts.txs ?? [];
  const evidence = opts.evidence ?? [];
  const lastCommit = opts.lastCommit ?? null;
  const proposer = opts.proposer ?? validatorsForHeight(state, height)?.[0] ?? new Uint8Array(32);
  return {
    header: {
      chainId: state.chainId,
      height,
      timeMs: 1_700_000_000_000 + height,
      prevHash: state.lastBlockHash,
      appHash: stateHash(state),
      dataHash: dataHash(txs, evidence),
      lastCommitHash: lastCommitHashOf(lastCommit),
      proposer,
    },
    txs,
    evidence,
    lastCommit,
  };
}

export function signVote(
  who: Identity,
  fields: { type: VoteType; height: number; round: number; blockHash: Uint8Array | null; chainId?: string },
): Vote {
  const body = {
    type: fields.type,
    chainId: fields.chainId ?? CHAIN_ID,
    height: fields.height,
    round: fields.round,
    blockHash: fields.blockHash,
    validator: who.publicKey,
  };
  return { ...body, signature: who.sign(voteSigningBytes(body)) };
}

/** A commit for `block` signed by `signers` (sorted as the codec requires). */
export function commitFor(block: Block, signers: readonly Identity[], round = 0): Commit {
  const hash = blockHash(block);
  const signatures = [...signers]
    .sort((a, b) => compareBytes(a.publicKey, b.publicKey))
    .map((s) => ({
      validator: s.publicKey,
      signature: signVote(s, { type: 'PRECOMMIT', height: block.header.height, round, blockHash: hash })
        .signature,
    }));
  return { height: block.header.height, round, blockHash: hash, signatures };
}

/** The signers of a commit at `height`: all of that height's validators we hold keys for. */
export function setSigners(
  state: LedgerState,
  height: number,
  keys: ReadonlyMap<string, Identity>,
): Identity[] {
  const set = validatorsForHeight(state, height) ?? [];
  return set.map((k) => keys.get(keyHex(k))).filter((i): i is Identity => i !== undefined);
}

export function equivocation(
  who: Identity,
  height: number,
  round: number,
  type: VoteType = 'PREVOTE',
): Evidence {
  return {
    voteA: signVote(who, { type, height, round, blockHash: new Uint8Array(32).fill(1) }),
    voteB: signVote(who, { type, height, round, blockHash: new Uint8Array(32).fill(2) }),
  };
}

/** Drives a chain forward: each block carries a commit of the previous one by its validators. */
export class ChainDriver {
  state: LedgerState;
  last: Block | null = null;
  readonly keys: ReadonlyMap<string, Identity>;

  constructor(state: LedgerState, keys: ReadonlyMap<string, Identity>) {
    this.state = state;
    this.keys = keys;
  }

  /** The next block (not applied); `absent` validators do not sign its lastCommit. */
  build(opts: Omit<BuildOptions, 'lastCommit'> & { absent?: readonly Identity[] } = {}): Block {
    const lastCommit = this.last === null ? null : this.commitLast(opts.absent);
    return buildBlock(this.state, { ...opts, lastCommit });
  }

  /** The commit of the last applied block by its validators (minus `absent`); deterministic. */
  commitLast(absent: readonly Identity[] = []): Commit {
    if (this.last === null) throw new Error('no block applied yet');
    const skip = new Set(absent.map((a) => keyHex(a.publicKey)));
    const signers = setSigners(this.state, this.state.height, this.keys).filter(
      (s) => !skip.has(keyHex(s.publicKey)),
    );
    return commitFor(this.last, signers);
  }

  /** Applies a block built by build(); throws with the refusal when the ledger refuses it. */
  apply(block: Block): { state: LedgerState; receipts: BlockReceipts } {
    const r = applyBlock(this.state, block);
    if (!r.ok) throw new Error(`block ${block.header.height} refused: ${r.code}: ${r.reason}`);
    this.state = r.state;
    this.last = block;
    return r;
  }
}
