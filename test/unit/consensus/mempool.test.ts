// The mempool against the real ledger: limits with explicit refusals, dedupe, nonce ordering per
// sender, and clean-up after blocks commit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mempool } from '../../../src/consensus/mempool.ts';
import { applyBlock, proposeBlockTxs } from '../../../src/ledger/chain.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { genesisState } from '../../../src/ledger/genesis.ts';
import type { LedgerState } from '../../../src/ledger/state.ts';
import { txId } from '../../../src/wire/ledger-tx.ts';
import { ChainDriver, keyring, testGenesis, validatorIds } from '../ledger/chain-fixtures.ts';
import { ids, tx } from '../ledger/fixtures.ts';

const vs = validatorIds.slice(0, 4);
const [a, b, c] = [ids[0]!, ids[1]!, ids[2]!];
const funded = (): LedgerState =>
  genesisState(
    testGenesis(vs, {}, [
      { key: a.publicKey, balance: credits(100) },
      { key: b.publicKey, balance: credits(100) },
    ]),
  );
const pay = (who: typeof a, nonce: bigint, amount = 1n, fee = 1n) =>
  tx(who, nonce, { kind: 'TRANSFER', to: c.publicKey, amount }, fee).bytes;

describe('Mempool', () => {
  it('refuses junk, duplicates, stale and taken nonces, and invalid transactions, with reasons', () => {
    const s = funded();
    const m = new Mempool();
    assert.equal(m.add(new Uint8Array([1, 2]), s).ok, false);
    const t1 = pay(a, 1n);
    const added = m.add(t1, s);
    assert.deepEqual(added, { ok: true, txId: txId(t1), evicted: 0 });
    assert.deepEqual(m.status(txId(t1)), { status: 'pending' });
    const code = (bytes: Uint8Array) => {
      const r = m.add(bytes, s);
      return r.ok ? 'ok' : r.code;
    };
    assert.equal(code(t1), 'DUPLICATE');
    assert.equal(code(pay(a, 1n, 2n)), 'NONCE_TAKEN');
    assert.equal(code(pay(a, 0n)), 'STALE_NONCE');
    const broke = m.add(pay(b, 1n, 1000n), s);
    assert.equal(broke.ok, false);
    assert.equal(!broke.ok && broke.code, 'INVALID');
    assert.equal(!broke.ok && broke.txCode, 'INSUFFICIENT_FUNDS');
    assert.equal(code(pay(b, 2n, 1n, 0n)), 'INVALID', 'fee below the minimum even with a nonce gap');
    const forged = pay(b, 3n).slice();
    forged[forged.length - 1]! ^= 1;
    assert.equal(code(forged), 'INVALID');
    assert.equal(code(pay(b, 70n)), 'SENDER_LIMIT');
    assert.equal(m.size, 1);
    assert.deepEqual(m.status(txId(pay(b, 1n, 1000n))), { status: 'unknown' });
  });

  it('is bounded by count and bytes and says FULL', () => {
    const s = funded();
    const m = new Mempool({ maxTxs: 2 });
    assert.ok(m.add(pay(a, 1n), s).ok);
    assert.ok(m.add(pay(a, 2n), s).ok);
    const r = m.add(pay(b, 1n), s);
    assert.equal(!r.ok && r.code, 'FULL');
    const one = pay(a, 1n);
    const small = new Mempool({ maxBytes: one.length * 2 - 1 });
    assert.ok(small.add(one, s).ok);
    assert.equal(small.bytes, one.length);
    const r2 = small.add(pay(b, 1n), s);
    assert.equal(!r2.ok && r2.code, 'FULL');
    const perSender = new Mempool({ maxPerSender: 2 });
    assert.ok(perSender.add(pay(a, 1n), s).ok);
    assert.ok(perSender.add(pay(a, 2n), s).ok);
    const r3 = perSender.add(pay(a, 3n), s);
    assert.equal(!r3.ok && r3.code, 'SENDER_LIMIT');
  });

  it('orders each sender by nonce, senders by arrival, so a proposer can take them all', () => {
    const s = funded();
    const m = new Mempool();
    const [a3, a1, b1, a2] = [pay(a, 3n), pay(a, 1n), pay(b, 1n), pay(a, 2n)];
    for (const t of [a3, a1, b1, a2]) assert.ok(m.add(t, s).ok);
    assert.deepEqual(m.pending(), [a1, a2, a3, b1]);
    assert.deepEqual(proposeBlockTxs(s, m.pending()).txs, [a1, a2, a3, b1]);
  });

  it('after a commit drops included, stale and no-longer-valid transactions, keeps the rest', () => {
    const d = new ChainDriver(funded(), keyring(validatorIds, ids));
    const m = new Mempool();
    const first = pay(a, 1n, 10n);
    const second = pay(a, 2n, 10n); // covered by a's 100 at admission, not after a spends 96 elsewhere
    const competing = pay(b, 1n, 5n);
    const replacementA = pay(a, 1n, 95n); // same nonce, other tx (say, from another node's mempool)
    const replacementB = pay(b, 1n, 7n);
    const later = pay(b, 2n, 5n);
    for (const t of [first, second, competing, later]) assert.ok(m.add(t, d.state).ok);
    const { receipts } = d.apply(d.build({ txs: [replacementA, replacementB] }));
    const r = m.onCommit(receipts.txIds, d.state);
    assert.equal(r.dropped, 3);
    assert.deepEqual(m.status(txId(replacementA)), { status: 'committed', height: 1 });
    assert.deepEqual(m.status(txId(first)), { status: 'dropped', code: 'STALE_NONCE' });
    assert.deepEqual(m.status(txId(second)), { status: 'dropped', code: 'INSUFFICIENT_FUNDS' });
    assert.deepEqual(m.status(txId(competing)), { status: 'dropped', code: 'STALE_NONCE' });
    assert.deepEqual(m.pending(), [later]);
    assert.ok(applyBlock(d.state, d.build({ txs: m.pending() })).ok);
  });

  it('expires transactions whose nonce gap never fills', () => {
    const d = new ChainDriver(funded(), keyring(validatorIds, ids));
    const m = new Mempool({ maxAgeBlocks: 2 });
    const gap = pay(a, 2n);
    assert.ok(m.add(gap, d.state).ok);
    for (let i = 0; i < 2; i++) {
      d.apply(d.build());
      assert.equal(m.onCommit([], d.state).dropped, 0);
    }
    d.apply(d.build());
    assert.equal(m.onCommit([], d.state).dropped, 1);
    assert.deepEqual(m.status(txId(gap)), { status: 'dropped', code: 'EXPIRED' });
    assert.equal(m.size, 0);
    assert.equal(m.bytes, 0);
  });
});
