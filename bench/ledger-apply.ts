// Cost of applying a block of transfers (src/ledger/chain.ts applyBlock) for blocks of 100, 500 and
// 2000 transfers over ledgers of 1k, 10k and 100k accounts, against a baseline measured in the same
// run: raw Ed25519 verification of the same number of signatures, the floor of any ledger that checks
// every signature: `verify` parses the raw key each time (createPublicKey + verify, as
// crypto/identity.ts verifySignature does), `verify*` with the key objects parsed beforehand.
//
//   cold     applyBlock of a block whose transactions this node has never seen (every signature
//            is verified inside applyBlock; the 500 senders' keys were seen in earlier rounds)
//   warm     the same kind of block after its transactions went through this node's mempool (as on
//            a validator: the mempool verified them on arrival)
//   hash     stateHash of the resulting state (once per block: appHash of the next block)
//   propose  proposeBlockTxs over the same transactions from the mempool (a proposer's work)
//   onCommit Mempool.onCommit after the block (the pool replayed on the new state)
//
// Each round uses a fresh block (new signatures), on the same genesis. Prints the median over
// --rounds rounds: ms per block and transfers per second of `cold` and `warm` (apply + hash).
//
//   node bench/ledger-apply.ts [--accounts 1000,10000,100000] [--txs 100,500,2000] [--rounds 3] [--json]
import { createPublicKey, verify } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Mempool } from '../src/consensus/mempool.ts';
import { type Identity, identityFromSeed } from '../src/crypto/identity.ts';
import { applyBlock, proposeBlockTxs } from '../src/ledger/chain.ts';
import { credits } from '../src/ledger/credits.ts';
import { genesisState } from '../src/ledger/genesis.ts';
import { assembleBlock } from '../src/ledger/propose.ts';
import { type LedgerState, stateHash } from '../src/ledger/state.ts';
import type { Block } from '../src/wire/block.ts';
import { type SignedTx, signTx, txSigningMessage } from '../src/wire/ledger-tx.ts';

interface Row {
  readonly accounts: number;
  readonly txs: number;
  readonly verifyMs: number;
  readonly verifyParsedMs: number;
  readonly coldMs: number;
  readonly warmMs: number;
  readonly hashMs: number;
  readonly proposeMs: number;
  readonly onCommitMs: number;
  readonly coldTps: number;
  readonly warmTps: number;
  readonly verifyTps: number;
}

function parse() {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string', default: '1000,10000,100000' },
      txs: { type: 'string', default: '100,500,2000' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const list = (s: string) => s.split(',').map((x) => Number(x.trim()));
  return {
    accounts: list(values.accounts),
    txs: list(values.txs),
    rounds: Math.max(1, Number(values.rounds)),
    json: values.json,
  };
}

/** Deterministic xorshift, so every run builds the same ledgers and blocks. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SENDERS = 500;
const senders: Identity[] = Array.from({ length: SENDERS }, (_, i) => {
  const seed = new Uint8Array(32);
  seed[0] = 0xa5;
  seed[1] = i >> 8;
  seed[2] = i & 0xff;
  return identityFromSeed(seed);
});
const validator = identityFromSeed(new Uint8Array(32).fill(0xee));

function ledger(accounts: number): { state: LedgerState; keys: Uint8Array[] } {
  const next = rng(accounts);
  const keys: Uint8Array[] = senders.slice(0, Math.min(SENDERS, accounts)).map((s) => s.publicKey);
  while (keys.length < accounts) {
    const k = new Uint8Array(32);
    for (let i = 0; i < 32; i += 4) new DataView(k.buffer).setUint32(i, next());
    keys.push(k);
  }
  const state = genesisState({
    chainId: 'anonnet-bench',
    params: { powDifficulty: 0, validatorCount: 1, epochLength: 1000 },
    validators: [validator.publicKey],
    accounts: keys.map((key) => ({ key, balance: credits(1_000_000) })),
  });
  return { state, keys };
}

/** `count` transfers from the senders (round-robin, consecutive nonces) to random accounts. */
function transfers(keys: readonly Uint8Array[], count: number, round: number): SignedTx[] {
  const next = rng(count * 7919 + round + 1);
  const n = Math.min(SENDERS, keys.length);
  const out: SignedTx[] = [];
  for (let i = 0; i < count; i++) {
    const who = senders[i % n]!;
    let to = keys[next() % keys.length]!;
    if (to === who.publicKey) to = keys[(i + 1) % n === i % n ? n : (i % n) + 1] ?? keys[0]!;
    const nonce = BigInt(Math.floor(i / n) + 1);
    const tx = { kind: 'TRANSFER', sender: who.publicKey, nonce, fee: 1n, to, amount: BigInt(1 + round) };
    out.push(signTx(tx as Parameters<typeof signTx>[0], (m) => who.sign(m)));
  }
  return out;
}

function block(state: LedgerState, txs: readonly SignedTx[]): Block {
  return assembleBlock(state, {
    txs: txs.map((t) => t.bytes),
    evidence: [],
    lastCommit: null,
    proposer: validator.publicKey,
    timeMs: 0,
  });
}

function time<T>(fn: () => T): { value: T; ms: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function applied(state: LedgerState, b: Block): { state: LedgerState; txIds: readonly Uint8Array[] } {
  const r = applyBlock(state, b);
  if (!r.ok) throw new Error(`bench block refused: ${r.code}: ${r.reason}`);
  return { state: r.state, txIds: r.receipts.txIds };
}

function measure(accounts: number, count: number, rounds: number): Row {
  const { state, keys } = ledger(accounts);
  stateHash(state); // the genesis hash is cached, as it is for the tip on a running node
  const verifyMs: number[] = [];
  const verifyParsedMs: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  const hash: number[] = [];
  const propose: number[] = [];
  const onCommit: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Baseline: one raw Ed25519 verification per signature of a fresh block.
    const base = transfers(keys, count, 2 * r);
    verifyMs.push(
      time(() => {
        for (const t of base) {
          const key = createPublicKey({
            key: Buffer.from(t.tx.sender),
            format: 'raw-public',
            asymmetricKeyType: 'ed25519',
          });
          if (!verify(null, txSigningMessage(t.body), key, t.signature)) throw new Error('bad signature');
        }
      }).ms,
    );
    const parsed = base.map((t) => ({
      key: createPublicKey({
        key: Buffer.from(t.tx.sender),
        format: 'raw-public',
        asymmetricKeyType: 'ed25519',
      }),
      msg: txSigningMessage(t.body),
      sig: t.signature,
    }));
    verifyParsedMs.push(
      time(() => {
        for (const p of parsed) if (!verify(null, p.msg, p.key, p.sig)) throw new Error('bad signature');
      }).ms,
    );
    // Cold: never seen before (a fresh set of signatures).
    const b = block(state, transfers(keys, count, 2 * r + 1));
    const c = time(() => applied(state, b));
    cold.push(c.ms);
    const fresh = { ...c.value.state }; // a new state object: its hash is not cached yet
    hash.push(time(() => stateHash(fresh)).ms);
    // Warm: the transactions reached this node's mempool first.
    const pool = new Mempool({ maxTxs: 10_000, maxBytes: 64 * 1024 * 1024, maxPerSender: 64 });
    for (const t of base) {
      const a = pool.add(t.bytes, state);
      if (!a.ok) throw new Error(`mempool refused a bench tx: ${a.code} ${a.reason}`);
    }
    const p = time(() => proposeBlockTxs(state, pool.pending(), { maxTxs: 1 << 20, maxBytes: 1 << 30 }));
    if (p.value.txs.length !== count) throw new Error(`proposer kept ${p.value.txs.length} of ${count}`);
    propose.push(p.ms);
    const wb = block(state, base);
    const w = time(() => applied(state, wb));
    warm.push(w.ms);
    onCommit.push(time(() => pool.onCommit(w.value.txIds, w.value.state)).ms);
  }
  const v = median(verifyMs);
  const cm = median(cold);
  const wm = median(warm);
  const hm = median(hash);
  return {
    accounts,
    txs: count,
    verifyMs: v,
    verifyParsedMs: median(verifyParsedMs),
    coldMs: cm,
    warmMs: wm,
    hashMs: hm,
    proposeMs: median(propose),
    onCommitMs: median(onCommit),
    coldTps: (count * 1000) / (cm + hm),
    warmTps: (count * 1000) / (wm + hm),
    verifyTps: (count * 1000) / v,
  };
}

function main(): void {
  const opts = parse();
  const rows: Row[] = [];
  for (const accounts of opts.accounts) {
    for (const count of opts.txs) {
      const row = measure(accounts, count, opts.rounds);
      rows.push(row);
      if (!opts.json) {
        const f = (x: number) => x.toFixed(1).padStart(8);
        const k = (x: number) => Math.round(x).toString().padStart(7);
        console.log(
          `${String(accounts).padStart(7)} accts ${String(count).padStart(5)} txs` +
            ` | verify ${f(row.verifyMs)} ms verify* ${f(row.verifyParsedMs)} ms` +
            ` | cold ${f(row.coldMs)} ms | warm ${f(row.warmMs)} ms | hash ${f(row.hashMs)} ms` +
            ` | propose ${f(row.proposeMs)} ms | onCommit ${f(row.onCommitMs)} ms` +
            ` | tx/s cold ${k(row.coldTps)} warm ${k(row.warmTps)} floor ${k(row.verifyTps)}` +
            ` floor* ${k((count * 1000) / row.verifyParsedMs)}`,
        );
      }
    }
  }
  if (opts.json) console.log(JSON.stringify(rows, null, 2));
}

main();
