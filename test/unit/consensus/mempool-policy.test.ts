// The mempool's admission policy (hardening issue, class 2): admission costs the sender. Fresh keys
// cannot queue anything but a claim; a funded sender's queue is covered by its balance; gapped
// transactions are capped per sender and in all; claims sit under their own bound; a full pool evicts
// the worst (gapped, lowest fee, oldest) for a better newcomer, never for an equal one. The property
// test drives random floods from funded and unfunded senders and checks the invariants after every step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AddResult, Mempool, type MempoolOptions } from '../../../src/consensus/mempool.ts';
import { txCost } from '../../../src/consensus/mempool-policy.ts';
import { type Identity, identityFromSeed } from '../../../src/crypto/identity.ts';
import { solvePow } from '../../../src/crypto/pow.ts';
import { proposeBlockTxs } from '../../../src/ledger/chain.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { genesisState } from '../../../src/ledger/genesis.ts';
import { getAccount, keyHex, type LedgerParams, type LedgerState } from '../../../src/ledger/state.ts';
import { decodeTx, txId } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, keyring, testGenesis, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';

const vs = validatorIds.slice(0, 4);
/** Distinct deterministic identities (seeds 200, i, 0, ...), apart from the shared fixtures'. */
const key = (i: number): Identity => {
  const seed = new Uint8Array(32);
  seed[0] = 200;
  seed[1] = i;
  return identityFromSeed(seed);
};
const rich = key(1);
const poor = key(2);
const payee = key(3);

function state(params: Partial<LedgerParams> = {}, balance = 1000): LedgerState {
  return genesisState(
    testGenesis(vs, params, [
      { key: rich.publicKey, balance: credits(balance) },
      { key: poor.publicKey, balance: credits(5) },
    ]),
  );
}

const pay = (who: Identity, nonce: bigint, fee = 1n, amount = 1n) =>
  tx(who, nonce, { kind: 'TRANSFER', to: payee.publicKey, amount }, fee).bytes;
const claim = (who: Identity, nonce = 1n, fee = 1n, difficulty = 0) =>
  tx(who, nonce, { kind: 'CLAIM_GENESIS', powNonce: solvePow(who.publicKey, difficulty) ?? 0n }, fee).bytes;
const code = (r: AddResult): string => (r.ok ? 'ok' : r.code);

describe('Mempool admission policy', () => {
  it("the issue's flood: 80 fresh keys x 64 future nonces are all refused, an honest claim and transfer get in", () => {
    const s = state();
    const m = new Mempool();
    let refused = 0;
    for (let k = 0; k < 80; k++) {
      const fresh = key(100 + k);
      for (let n = 2n; n <= 65n; n++) {
        const r = m.add(pay(fresh, n), s);
        assert.equal(code(r), n <= 64n ? 'UNFUNDED' : 'SENDER_LIMIT');
        refused++;
      }
    }
    assert.equal(refused, 80 * 64);
    assert.equal(m.size, 0, 'nothing of the flood is queued');
    assert.equal(code(m.add(claim(key(50)), s)), 'ok', 'an honest claim from a fresh key');
    assert.equal(code(m.add(pay(rich, 1n), s)), 'ok', 'an honest transfer from a funded account');
    assert.equal(m.stats().refused['UNFUNDED'], 80 * 63);
  });

  it("covers every queued transaction with the sender's balance", () => {
    const s = state({}, 30);
    const m = new Mempool();
    assert.equal(code(m.add(pay(rich, 1n, 1n, 10n), s)), 'ok'); // 11
    assert.equal(code(m.add(pay(rich, 2n, 1n, 10n), s)), 'ok'); // 22
    const over = m.add(pay(rich, 3n, 1n, 8n), s); // 31 > 30
    assert.equal(code(over), 'UNFUNDED');
    assert.match(!over.ok ? over.reason : '', /31 credits, its balance is 30/);
    assert.equal(code(m.add(pay(rich, 3n, 1n, 7n), s)), 'ok'); // 30
    assert.equal(code(m.add(pay(poor, 1n, 1n, 5n), s)), 'INVALID', 'the next nonce must apply in full');
    assert.equal(code(m.add(pay(poor, 2n, 1n, 1n), s)), 'ok', 'gapped but covered (5 >= 2)');
    assert.equal(code(m.add(pay(poor, 3n, 4n, 1n), s)), 'UNFUNDED');
  });

  it("a claim's starting credits cover its sender's later transactions; one claim per account", () => {
    const s = state({ powDifficulty: 6, startingCredits: credits(50) });
    const m = new Mempool();
    const fresh = key(60);
    assert.equal(code(m.add(pay(fresh, 2n), s)), 'UNFUNDED', 'nothing but a claim before it');
    const bad = tx(fresh, 1n, { kind: 'CLAIM_GENESIS', powNonce: 12345n }).bytes;
    const r = m.add(bad, s);
    assert.equal(!r.ok && r.txCode, 'INSUFFICIENT_POW');
    assert.equal(code(m.add(claim(fresh, 1n, 1n, 6), s)), 'ok');
    assert.equal(code(m.add(claim(fresh, 1n, 2n, 6), s)), 'NONCE_TAKEN', 'a second claim of one account');
    assert.equal(code(m.add(pay(fresh, 2n, 1n, 40n), s)), 'ok', '1 + 41 <= 50');
    assert.equal(code(m.add(pay(fresh, 3n, 1n, 8n), s)), 'UNFUNDED', '1 + 41 + 9 > 50');
    assert.deepEqual(
      proposeBlockTxs(s, m.pending()).txs.length,
      2,
      'the claim and the transfer it funds go into one block',
    );
  });

  it('claims have their own bound: a flood of claims leaves transfers alone; a higher fee evicts the oldest cheapest', () => {
    const s = state();
    const m = new Mempool({ maxClaims: 3, maxTxs: 2 });
    for (let i = 0; i < 3; i++) assert.equal(code(m.add(claim(key(70 + i)), s)), 'ok');
    assert.equal(code(m.add(claim(key(73)), s)), 'FULL', 'equal fee: the queue keeps what it has');
    assert.equal(code(m.add(pay(rich, 1n), s)), 'ok', 'transfers are outside the claims bound');
    // key(70)'s claim funds a transfer of its own; evicting the claim drops that transfer too.
    assert.equal(code(m.add(pay(key(70), 2n, 1n, 5n), s)), 'ok');
    const better = m.add(claim(key(74), 1n, 2n), s);
    assert.deepEqual(better.ok && better.evicted, 1);
    const first = claim(key(70));
    assert.deepEqual(m.status(txId(first)), { status: 'dropped', code: 'EVICTED' });
    assert.deepEqual(m.status(txId(pay(key(70), 2n, 1n, 5n))), { status: 'dropped', code: 'UNFUNDED' });
    assert.equal(m.stats().claims, 3);
    assert.equal(m.stats().txs, 1);
  });

  it('caps gapped transactions per sender and in all; a ready transaction evicts a gapped one', () => {
    const s = state();
    const m = new Mempool({ maxGappedPerSender: 2, maxGappedTxs: 3, maxTxs: 4 });
    assert.equal(code(m.add(pay(rich, 3n), s)), 'ok');
    assert.equal(code(m.add(pay(rich, 4n), s)), 'ok');
    assert.equal(code(m.add(pay(rich, 6n), s)), 'GAP_LIMIT', 'per sender');
    assert.equal(code(m.add(pay(poor, 3n), s)), 'ok');
    assert.equal(m.stats().gapped, 3);
    assert.equal(code(m.add(pay(key(4), 2n), s)), 'UNFUNDED');
    // Global gapped bound: poor's gapped #4 needs room; equal fee evicts nothing.
    assert.equal(code(m.add(pay(poor, 4n), s)), 'GAP_LIMIT');
    assert.equal(code(m.add(pay(rich, 1n), s)), 'ok');
    assert.equal(m.size, 4);
    // Full (maxTxs 4): rich #2 fills rich's gap (ready) and evicts poor's gapped #3, the worst.
    const r = m.add(pay(rich, 2n), s);
    assert.equal(r.ok && r.evicted, 1);
    assert.deepEqual(m.status(txId(pay(poor, 3n))), { status: 'dropped', code: 'EVICTED' });
    assert.equal(m.stats().gapped, 0);
  });

  it('when full, the lowest fee goes first, then the oldest, and only the highest nonce of a sender', () => {
    const m = new Mempool({ maxTxs: 3 });
    const senders = [key(80), key(81), key(82)];
    const d = genesisState(
      testGenesis(
        vs,
        {},
        senders.map((k) => ({ key: k.publicKey, balance: credits(100) })),
      ),
    );
    assert.equal(code(m.add(pay(senders[0]!, 1n, 3n), d)), 'ok');
    assert.equal(code(m.add(pay(senders[1]!, 1n, 2n), d)), 'ok');
    assert.equal(code(m.add(pay(senders[2]!, 1n, 2n), d)), 'ok');
    assert.equal(code(m.add(pay(senders[0]!, 2n, 2n), d)), 'FULL', 'fee 2 does not outrank fee 2');
    const r = m.add(pay(senders[0]!, 2n, 5n), d);
    assert.equal(r.ok && r.evicted, 1);
    // senders[1] and [2] both pay 2; senders[1]'s is older.
    assert.deepEqual(m.status(txId(pay(senders[1]!, 1n, 2n))), { status: 'dropped', code: 'EVICTED' });
    assert.deepEqual(m.status(txId(pay(senders[2]!, 1n, 2n))), { status: 'pending' });
  });

  it('after a commit, what the new balance no longer covers is dropped as UNFUNDED', () => {
    const d = new ChainDriver(state({}, 20), keyring(validatorIds, [rich, poor, payee]));
    const m = new Mempool();
    for (const n of [2n, 3n]) assert.equal(code(m.add(pay(rich, n, 1n, 5n), d.state)), 'ok'); // 12 of 20
    // Another node's block spends 15 of rich's 20 with nonce 1: 5 left, #2 (6) and #3 (6) uncovered.
    const { receipts } = d.apply(d.build({ txs: [pay(rich, 1n, 1n, 14n)] }));
    m.onCommit(receipts.txIds, d.state);
    // #2 is next now and fails in full (INSUFFICIENT_FUNDS); #3 then waits for it and is uncovered.
    assert.equal(m.size, 0);
    assert.equal(getAccount(d.state, keyHex(rich.publicKey)).balance, 5n);
  });
});

// ---- property: random floods keep every bound and every queued transaction covered ----

const actors = Array.from({ length: 8 }, (_, i) => key(120 + i));
const STARTING = 50n;

function funded(): LedgerState {
  return genesisState(
    testGenesis(
      vs,
      { startingCredits: credits(STARTING) },
      actors.slice(0, 4).map((k, i) => ({ key: k.publicKey, balance: credits(10 + 20 * i) })),
    ),
  );
}

const arbOp = fc.record({
  who: fc.nat(actors.length - 1),
  nonce: fc.integer({ min: 1, max: 12 }),
  fee: fc.integer({ min: 1, max: 4 }),
  amount: fc.integer({ min: 1, max: 9 }),
  claim: fc.boolean(),
});

function checkInvariants(m: Mempool, s: LedgerState, o: MempoolOptions): void {
  const st = m.stats();
  assert.ok(st.txs <= o.maxTxs, 'maxTxs');
  assert.ok(st.claims <= o.maxClaims, 'maxClaims');
  assert.ok(st.bytes <= o.maxBytes, 'maxBytes');
  assert.ok(st.gapped <= o.maxGappedTxs, 'maxGappedTxs');
  const bySender = new Map<string, { cost: bigint; mints: boolean; nonces: bigint[] }>();
  for (const bytes of m.pending()) {
    const d = decodeTx(bytes);
    assert.equal(d.kind, 'ok');
    if (d.kind !== 'ok') continue;
    const t = d.value.tx;
    const k = keyHex(t.sender);
    const g = bySender.get(k) ?? { cost: 0n, mints: false, nonces: [] };
    g.cost += txCost(t, s.params);
    g.mints ||= t.kind === 'CLAIM_GENESIS';
    g.nonces.push(t.nonce);
    bySender.set(k, g);
  }
  for (const [k, g] of bySender) {
    const a = getAccount(s, k);
    const available = a.balance + (g.mints && !a.genesisClaimed ? s.params.startingCredits : 0n);
    assert.ok(g.cost <= available, `sender covered: ${g.cost} <= ${available}`);
    assert.ok(available > 0n, 'no unfunded sender queues');
    assert.ok(g.nonces.length <= o.maxPerSender, 'maxPerSender');
    let end = a.nonce;
    const set = new Set(g.nonces);
    while (set.has(end + 1n)) end++;
    assert.ok(g.nonces.filter((n) => n > end).length <= o.maxGappedPerSender, 'maxGappedPerSender');
  }
}

describe('Mempool admission policy (property)', () => {
  it('random floods from funded and fresh senders, with commits between: bounds and cover always hold', () => {
    const o: MempoolOptions = {
      maxTxs: 12,
      maxBytes: 12 * 160,
      maxPerSender: 6,
      maxGappedPerSender: 2,
      maxGappedTxs: 4,
      maxClaims: 3,
      maxAgeBlocks: 5,
      recentMemory: 100,
    };
    fc.assert(
      fc.property(fc.array(fc.array(arbOp, { maxLength: 25 }), { minLength: 1, maxLength: 4 }), (rounds) => {
        const d = new ChainDriver(funded(), keyring(validatorIds, actors));
        const m = new Mempool(o);
        for (const ops of rounds) {
          for (const op of ops) {
            const who = actors[op.who] as Identity;
            const bytes = op.claim
              ? claim(who, BigInt(op.nonce), BigInt(op.fee))
              : pay(who, BigInt(op.nonce), BigInt(op.fee), BigInt(op.amount));
            const r = m.add(bytes, d.state);
            if (r.ok) assert.deepEqual(m.status(txId(bytes)), { status: 'pending' });
            checkInvariants(m, d.state, o);
          }
          // A block of what applies, as a proposer would build it: the pool survives it intact.
          const { txs } = proposeBlockTxs(d.state, m.pending());
          const { receipts } = d.apply(d.build({ txs }));
          m.onCommit(receipts.txIds, d.state);
          checkInvariants(m, d.state, o);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('an honest next-nonce transfer that outbids the pool is always admitted, whatever filled it', () => {
    const o: MempoolOptions = { ...defaultsSmall() };
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 40 }), (ops) => {
        const s = funded();
        const m = new Mempool(o);
        for (const op of ops) {
          const who = actors[op.who + 1 < actors.length ? op.who + 1 : op.who] as Identity;
          if (who === actors[0]) continue;
          m.add(
            op.claim
              ? claim(who, BigInt(op.nonce), BigInt(op.fee))
              : pay(who, BigInt(op.nonce), BigInt(op.fee), BigInt(op.amount)),
            s,
          );
        }
        // actors[0] holds 10 credits and has queued nothing: fee 5 beats every fee above (<= 4).
        const honest = pay(actors[0] as Identity, 1n, 5n, 1n);
        assert.equal(code(m.add(honest, s)), 'ok');
      }),
      { numRuns: 200 },
    );
  });
});

function defaultsSmall(): MempoolOptions {
  return {
    maxTxs: 6,
    maxBytes: 6 * 160,
    maxPerSender: 4,
    maxGappedPerSender: 2,
    maxGappedTxs: 3,
    maxClaims: 2,
    maxAgeBlocks: 5,
    recentMemory: 50,
  };
}
