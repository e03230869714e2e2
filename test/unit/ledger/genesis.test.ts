// The genesis document: strict JSON codec and the height-0 state it defines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credits } from '../../../src/ledger/credits.ts';
import { epochAt, validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { encodeGenesis, GenesisError, genesisState, parseGenesis } from '../../../src/ledger/genesis.ts';
import { getAccount, keyHex, stateHash } from '../../../src/ledger/state.ts';
import { testGenesis, validatorIds } from './chain-fixtures.ts';
import { ids } from './fixtures.ts';

const vs = validatorIds.slice(0, 4);
const hex = (i: number) => keyHex(vs[i]!.publicKey);

describe('genesis', () => {
  it('round-trips through its JSON text and keeps credit amounts exact', () => {
    const doc = testGenesis(
      vs,
      { startingCredits: credits(18_446_744_073_709_551_615n), minFee: credits(2) },
      [{ key: ids[0]!.publicKey, balance: credits(500) }],
    );
    const text = encodeGenesis(doc);
    const back = parseGenesis(text);
    assert.equal(encodeGenesis(back), text);
    assert.equal(back.params.startingCredits, 18_446_744_073_709_551_615n);
    assert.equal(back.params.epochLength, 4);
    assert.deepEqual(stateHash(genesisState(back)), stateHash(genesisState(doc)));
  });

  it('gives the height-0 state: epochs 0 and 1 ruled by the initial validators, prefunds minted', () => {
    const doc = testGenesis(vs, { epochLength: 5 }, [{ key: ids[0]!.publicKey, balance: credits(700) }]);
    const s = genesisState(doc);
    assert.equal(s.height, 0);
    assert.equal(s.chainId, 'anonnet-unit');
    assert.deepEqual(s.lastBlockHash, new Uint8Array(32));
    assert.equal(s.minted, 700n);
    assert.equal(getAccount(s, keyHex(ids[0]!.publicKey)).balance, 700n);
    assert.deepEqual(epochAt(s, 1), {
      epoch: 0,
      startHeight: 1,
      length: 5,
      validators: [...vs.map((_, i) => hex(i))].sort(),
    });
    assert.equal(epochAt(s, 6)?.epoch, 1);
    assert.equal(epochAt(s, 10)?.epoch, 1);
    assert.equal(validatorsForHeight(s, 11), undefined, 'epoch 2 is elected at the end of epoch 0');
    assert.equal(validatorsForHeight(s, 0), undefined);
    assert.equal(s.candidates.size, 4);
    for (let i = 0; i < 4; i++) assert.equal(getAccount(s, hex(i)).reputation.since, 0);
  });

  it('refuses unknown fields, duplicates, bad keys, bad chain ids and out-of-range params', () => {
    const good = JSON.parse(encodeGenesis(testGenesis(vs))) as Record<string, unknown>;
    const bad: Record<string, unknown>[] = [
      { ...good, extra: 1 },
      { ...good, chainId: 'has space' },
      { ...good, chainId: '' },
      { ...good, validators: [] },
      { ...good, validators: [hex(0), hex(0)] },
      { ...good, validators: [hex(0).toUpperCase()] },
      { ...good, validators: [hex(0).slice(2)] },
      { ...good, params: { epochLength: 0 } },
      { ...good, params: { validatorCount: 2000 } },
      { ...good, params: { powDifficulty: 1.5 } },
      { ...good, params: { unknown: 1 } },
      { ...good, params: { minFee: '-1' } },
      { ...good, params: { minFee: '18446744073709551616' } },
      {
        ...good,
        accounts: [
          { key: hex(1), balance: '1' },
          { key: hex(1), balance: '2' },
        ],
      },
      {
        ...good,
        accounts: [
          { key: hex(1), balance: '18446744073709551615' },
          { key: hex(2), balance: '1' },
        ],
      },
      { ...good, accounts: [{ key: hex(1), balance: '1', more: true }] },
    ];
    for (const doc of bad) {
      assert.throws(() => parseGenesis(JSON.stringify(doc)), GenesisError, JSON.stringify(doc));
    }
    assert.throws(() => parseGenesis('{'), GenesisError);
    assert.doesNotThrow(() => parseGenesis(JSON.stringify(good)));
  });
});
