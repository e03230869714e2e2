// The simulation's tiny application: a balance map moved by transfer transactions, with the
// Tendermint-style header links (prevHash, appHash of the state before the block, the previous
// commit). validate() is the app's full check; apply() moves the chain forward. Conservation of the
// total balance is the invariant every run checks.
import { createHash } from 'node:crypto';
import type { VerifiedSignatures } from '../../src/consensus/sig-cache.ts';
import { verifyCommit } from '../../src/consensus/verify.ts';
import type { Identity } from '../../src/crypto/identity.ts';
import {
  type Block,
  blockHash,
  type Commit,
  dataHash,
  lastCommitHashOf,
  ZERO_HASH,
} from '../../src/wire/block.ts';
import { bytesEqual } from '../../src/wire/bytes.ts';
import type { Prng } from './prng.ts';

export const ACCOUNTS = 8;
export const START_BALANCE = 1000;
export const TOTAL = ACCOUNTS * START_BALANCE;
const TX_MARK = 0x54;

export interface Transfer {
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}

export function encodeTransfer(t: Transfer, nonce: number): Uint8Array {
  const b = new Uint8Array(11);
  const v = new DataView(b.buffer);
  b[0] = TX_MARK;
  b[1] = t.from;
  b[2] = t.to;
  v.setUint32(3, t.amount);
  v.setUint32(7, nonce >>> 0);
  return b;
}

function decodeTransfer(tx: Uint8Array): Transfer | null {
  if (tx.length !== 11 || tx[0] !== TX_MARK) return null;
  const v = new DataView(tx.buffer, tx.byteOffset, tx.byteLength);
  const from = tx[1] as number;
  const to = tx[2] as number;
  if (from >= ACCOUNTS || to >= ACCOUNTS || from === to) return null;
  return { from, to, amount: v.getUint32(3) };
}

function stateHash(balances: readonly number[]): Uint8Array {
  const b = new Uint8Array(balances.length * 8);
  const v = new DataView(b.buffer);
  balances.forEach((x, i) => {
    v.setBigUint64(i * 8, BigInt(x));
  });
  return new Uint8Array(createHash('sha256').update('toy-state').update(b).digest());
}

export interface ChainContext {
  readonly chainId: string;
  readonly validators: readonly Uint8Array[];
  readonly sigCache: VerifiedSignatures;
}

/** One node's committed chain: the part that survives a crash (its "disk"). */
export class ToyChain {
  readonly ctx: ChainContext;
  balances: number[] = Array.from({ length: ACCOUNTS }, () => START_BALANCE);
  readonly blocks: { block: Block; commit: Commit; hash: Uint8Array }[] = [];

  constructor(ctx: ChainContext) {
    this.ctx = ctx;
  }

  get height(): number {
    return this.blocks.length;
  }

  get lastCommit(): Commit | null {
    return this.blocks.at(-1)?.commit ?? null;
  }

  get lastHash(): Uint8Array {
    return this.blocks.at(-1)?.hash ?? ZERO_HASH;
  }

  /** A valid block for the next height with a few random transfers. */
  propose(proposer: Identity, rng: Prng, timeMs: number): Block {
    const bal = [...this.balances];
    const txs: Uint8Array[] = [];
    const count = rng.int(0, 4);
    for (let i = 0; i < count; i++) {
      const from = rng.int(0, ACCOUNTS - 1);
      const to = (from + rng.int(1, ACCOUNTS - 1)) % ACCOUNTS;
      const have = bal[from] as number;
      if (have === 0) continue;
      const amount = rng.int(1, Math.max(1, Math.floor(have / 2)));
      bal[from] = have - amount;
      bal[to] = (bal[to] as number) + amount;
      txs.push(encodeTransfer({ from, to, amount }, rng.u32()));
    }
    return this.#assemble(proposer.publicKey, txs, timeMs, stateHash(this.balances));
  }

  /** A block validate() refuses: a wrong appHash or an overdraft, with honest hashes otherwise. */
  proposeInvalid(proposer: Identity, rng: Prng, timeMs: number): Block {
    if (rng.chance(0.5)) return this.#assemble(proposer.publicKey, [], timeMs, rng.bytes(32));
    const from = rng.int(0, ACCOUNTS - 1);
    const overdraft = encodeTransfer({ from, to: (from + 1) % ACCOUNTS, amount: TOTAL + 1 }, rng.u32());
    return this.#assemble(proposer.publicKey, [overdraft], timeMs, stateHash(this.balances));
  }

  #assemble(proposer: Uint8Array, txs: Uint8Array[], timeMs: number, appHash: Uint8Array): Block {
    const lastCommit = this.lastCommit;
    return {
      header: {
        chainId: this.ctx.chainId,
        height: this.height + 1,
        timeMs,
        prevHash: this.lastHash.slice(),
        appHash,
        dataHash: dataHash(txs, []),
        lastCommitHash: lastCommitHashOf(lastCommit),
        proposer,
      },
      txs,
      evidence: [],
      lastCommit,
    };
  }

  validate(block: Block): { ok: true } | { ok: false; reason: string } {
    const h = block.header;
    if (h.height !== this.height + 1) return { ok: false, reason: 'not the next height' };
    if (!bytesEqual(h.prevHash, this.lastHash)) return { ok: false, reason: 'prevHash' };
    if (!bytesEqual(h.appHash, stateHash(this.balances))) return { ok: false, reason: 'appHash' };
    if (this.height === 0) {
      if (block.lastCommit !== null) return { ok: false, reason: 'lastCommit at height 1' };
    } else {
      const c = block.lastCommit;
      if (c === null || c.height !== this.height) return { ok: false, reason: 'lastCommit missing' };
      const bad = verifyCommit(c, this.ctx.chainId, this.ctx.validators, this.lastHash, this.ctx.sigCache);
      if (bad !== null) return { ok: false, reason: `lastCommit: ${bad}` };
    }
    return this.#run(block.txs) === null ? { ok: false, reason: 'a transfer does not apply' } : { ok: true };
  }

  #run(txs: readonly Uint8Array[]): number[] | null {
    const bal = [...this.balances];
    for (const tx of txs) {
      const t = decodeTransfer(tx);
      if (t === null || t.amount < 1 || (bal[t.from] as number) < t.amount) return null;
      bal[t.from] = (bal[t.from] as number) - t.amount;
      bal[t.to] = (bal[t.to] as number) + t.amount;
    }
    return bal;
  }

  /** Applies a committed block; the caller has checked it. Returns an error text on a broken rule. */
  apply(block: Block, commit: Commit): string | null {
    const v = this.validate(block);
    if (!v.ok) return `committed block refused by the app: ${v.reason}`;
    const next = this.#run(block.txs) as number[];
    this.balances = next;
    this.blocks.push({ block, commit, hash: blockHash(block) });
    const sum = next.reduce((a, b) => a + b, 0);
    if (sum !== TOTAL || next.some((b) => b < 0)) return `conservation broken: total ${sum}`;
    return null;
  }
}
