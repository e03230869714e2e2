// The API's governance helpers (src/api/governance.ts): checkParam against the ledger's own ranges, for any
// input a person or a script may send, and the open proposals with votes counted as the ledger counts them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkParam,
  isNextValidator,
  ledgerProposals,
  PARAM_NAMES,
  yesNeeded,
} from '../../../src/api/governance.ts';
import { type ApplyContext, applyTx, PARAM_RANGES } from '../../../src/ledger/apply.ts';
import { validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { keyHex, type LedgerState, PARAM_ID } from '../../../src/ledger/state.ts';
import { type SignedTx, txId } from '../../../src/wire/ledger-tx.ts';
import { testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { tx } from '../ledger/fixtures.ts';

const vs = validatorIds.slice(0, 4);

function ok(state: LedgerState, t: SignedTx): LedgerState {
  const height = state.height + 1;
  const ctx: ApplyContext = { height, validators: validatorsForHeight(state, height) ?? [] };
  const r = applyTx(state, t, ctx);
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
  return { ...r.state, height };
}

describe('checkParam', () => {
  it('takes every parameter at both ends of its range and refuses one past either end', () => {
    for (const name of PARAM_NAMES) {
      const [min, max] = PARAM_RANGES[name];
      for (const v of [min, max]) {
        assert.deepEqual(checkParam(name, String(v)), { ok: true, name, paramId: PARAM_ID[name], value: v });
      }
      const above = checkParam(name, String(max + 1n));
      assert.deepEqual([above.ok, !above.ok && above.field], [false, 'value']);
      if (min > 0n) assert.equal(checkParam(name, String(min - 1n)).ok, false);
    }
  });

  it('never throws, and whatever it takes is a known parameter within its range', () => {
    const names = fc.oneof(
      fc.constantFrom(...PARAM_NAMES, '__proto__', 'constructor', 'toString'),
      fc.string(),
    );
    const values = fc.oneof(fc.bigInt({ min: -5n, max: 2n ** 65n }).map(String), fc.string());
    fc.assert(
      fc.property(names, values, (name, value) => {
        const r = checkParam(name, value);
        if (!r.ok) return r.message.length > 0 && (r.field === 'param' || r.field === 'value');
        const [min, max] = PARAM_RANGES[r.name];
        return (
          Object.hasOwn(PARAM_ID, name) && r.value >= min && r.value <= max && r.paramId === PARAM_ID[r.name]
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('names the field at fault', () => {
    assert.deepEqual(checkParam('nope', '1'), {
      ok: false,
      field: 'param',
      message: `unknown parameter "nope" (one of: ${PARAM_NAMES.join(', ')})`,
    });
    for (const v of ['', ' ', '1.0', '1e3', '0x10', '-1', '01'])
      assert.equal((checkParam('relayBond', v) as { field?: string }).field, 'value', v);
  });
});

describe('ledgerProposals', () => {
  it('lists open proposals with their votes, counted as the ledger counts them, until a vote passes one', () => {
    let s = testGenesisState(vs, { epochLength: 100, startingCredits: 1000n as never });
    for (const v of vs) s = ok(s, tx(v, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }));
    const proposal = tx(vs[0]!, 2n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.relayBond, value: 250n });
    s = ok(s, proposal);
    const id = keyHex(txId(proposal.bytes));
    s = ok(s, tx(vs[1]!, 2n, { kind: 'PARAM_VOTE', proposalId: txId(proposal.bytes), yes: true }));
    s = ok(s, tx(vs[2]!, 2n, { kind: 'PARAM_VOTE', proposalId: txId(proposal.bytes), yes: false }));
    assert.deepEqual(ledgerProposals(s), [
      {
        id,
        param: 'relayBond',
        paramId: PARAM_ID.relayBond,
        value: '250',
        current: '100',
        proposer: keyHex(vs[0]!.publicKey),
        height: 5n,
        votes: [
          { validator: keyHex(vs[1]!.publicKey), yes: true },
          { validator: keyHex(vs[2]!.publicKey), yes: false },
        ].sort((a, b) => (a.validator < b.validator ? -1 : 1)),
        yes: 1,
        no: 1,
        needed: 3,
      },
    ]);
    // Two more yes votes of four: more than 2/3, it passes and leaves the list.
    s = ok(s, tx(vs[0]!, 3n, { kind: 'PARAM_VOTE', proposalId: txId(proposal.bytes), yes: true }));
    assert.equal(ledgerProposals(s)[0]?.yes, 2);
    s = ok(s, tx(vs[3]!, 2n, { kind: 'PARAM_VOTE', proposalId: txId(proposal.bytes), yes: true }));
    assert.deepEqual(ledgerProposals(s), []);
    assert.equal(s.params.relayBond, 250n);
  });

  it('yesNeeded is more than two thirds; isNextValidator knows the next block’s set', () => {
    assert.deepEqual([1, 2, 3, 4, 21].map(yesNeeded), [1, 2, 3, 3, 15]);
    const s = testGenesisState(vs);
    assert.equal(isNextValidator(s, vs[0]!.publicKey), true);
    assert.equal(isNextValidator(s, validatorIds[7]!.publicKey), false);
  });
});
