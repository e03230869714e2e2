// RELAY_EARLY bookkeeping: a relay accepts 8 RELAY_EARLY cells per circuit and refuses the 9th; a
// client sends every EXTEND and its first cells past the first hop as RELAY_EARLY, never more than 8,
// and has no RELAY_EARLY cell left for a 9th EXTEND.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CIRCUIT_HOPS } from '../../../src/circuit/client-circuit.ts';
import { RelayEarlyBudget, RelayEarlyCounter } from '../../../src/circuit/relay-early.ts';
import { LinkCommand, MAX_RELAY_EARLY_CELLS, RelayCommand } from '../../../src/wire/cell.ts';

describe('RelayEarlyCounter (relay side)', () => {
  it('accepts 8 and refuses every one after', () => {
    const c = new RelayEarlyCounter();
    for (let i = 1; i <= MAX_RELAY_EARLY_CELLS; i++) assert.equal(c.accept(), true, `cell ${i}`);
    assert.equal(c.accept(), false);
    assert.equal(c.accept(), false);
    assert.equal(c.seen, MAX_RELAY_EARLY_CELLS + 2);
  });

  it('counts per circuit: two counters do not share', () => {
    const a = new RelayEarlyCounter();
    const b = new RelayEarlyCounter();
    for (let i = 0; i < MAX_RELAY_EARLY_CELLS; i++) a.accept();
    assert.equal(b.accept(), true);
    assert.equal(a.accept(), false);
  });
});

describe('RelayEarlyBudget (client side)', () => {
  it('a 9-hop build uses all 8 on its EXTENDs; a 9th EXTEND has none', () => {
    assert.equal(MAX_CIRCUIT_HOPS, 9);
    const b = new RelayEarlyBudget();
    for (let hop = 0; hop < MAX_CIRCUIT_HOPS - 1; hop++)
      assert.equal(b.linkCommand(hop, RelayCommand.EXTEND), LinkCommand.RELAY_EARLY);
    assert.equal(b.sent, 8);
    assert.equal(b.linkCommand(8, RelayCommand.EXTEND), undefined);
    assert.equal(b.linkCommand(8, RelayCommand.BEGIN), LinkCommand.RELAY);
  });

  it('a 3-hop circuit: 2 EXTENDs, then its first 6 cells past the first hop go as RELAY_EARLY', () => {
    const b = new RelayEarlyBudget();
    assert.equal(b.linkCommand(0, RelayCommand.EXTEND), LinkCommand.RELAY_EARLY);
    assert.equal(b.linkCommand(1, RelayCommand.EXTEND), LinkCommand.RELAY_EARLY);
    // A cell for the first hop never spends one (it goes no further).
    assert.equal(b.linkCommand(0, RelayCommand.DROP), LinkCommand.RELAY);
    const links = Array.from({ length: 10 }, () => b.linkCommand(2, RelayCommand.DATA));
    assert.deepEqual(links, [
      ...new Array(6).fill(LinkCommand.RELAY_EARLY),
      ...new Array(4).fill(LinkCommand.RELAY),
    ]);
    assert.equal(b.sent, MAX_RELAY_EARLY_CELLS);
  });

  it('a 1-hop circuit sends no RELAY_EARLY at all', () => {
    const b = new RelayEarlyBudget();
    for (let i = 0; i < 20; i++) assert.equal(b.linkCommand(0, RelayCommand.DATA), LinkCommand.RELAY);
    assert.equal(b.sent, 0);
  });
});
