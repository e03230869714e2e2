// Block rules: header linkage and hashes, the previous block's commit, transactions as a whole,
// evidence, uptime, epochs and election, governance through blocks, and proposing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyBlock, proposeBlockTxs, validateBlockForState } from '../../../src/ledger/chain.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { epochAt, validatorsForHeight } from '../../../src/ledger/epochs.ts';
import { genesisState } from '../../../src/ledger/genesis.ts';
import { assembleBlock, selectEvidence } from '../../../src/ledger/propose.ts';
import { reputation } from '../../../src/ledger/reputation.ts';
import { getAccount, keyHex, type LedgerState, PARAM_ID, stateHash } from '../../../src/ledger/state.ts';
import { type Block, blockHash } from '../../../src/wire/block.ts';
import { type TxBody, txId } from '../../../src/wire/ledger-tx.ts';
import {
  buildBlock,
  ChainDriver,
  commitFor,
  equivocation,
  keyring,
  signVote,
  testGenesis,
  testGenesisState,
  validatorIds,
} from './chain-fixtures.ts';
import { ids, tx } from './fixtures.ts';

const vs = validatorIds.slice(0, 4);
const newcomers = validatorIds.slice(4, 8);
const keys = keyring(validatorIds, ids);
const hex = (k: { publicKey: Uint8Array }) => keyHex(k.publicKey);
const relayBody: TxBody = {
  kind: 'REGISTER_RELAY',
  roles: 1,
  bandwidth: 1000,
  onionKeyHash: new Uint8Array(32).fill(9),
  payout: new Uint8Array(32).fill(0xcd),
  exitPolicySummary: new Uint8Array(0),
};

function driver(params = {}): ChainDriver {
  return new ChainDriver(testGenesisState(vs, params), keys);
}

function refusal(state: LedgerState, block: Block): string {
  const r = applyBlock(state, block);
  assert.equal(r.ok, false, 'block should be refused');
  assert.deepEqual(validateBlockForState(state, block), r);
  return r.ok ? '' : r.code;
}

/** Claims, registers as relays and stands as candidates: the newcomers' first three transactions. */
function standTxs(who: typeof newcomers): Uint8Array[] {
  return who.flatMap((n) => [
    tx(n, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes,
    tx(n, 2n, relayBody).bytes,
    tx(n, 3n, { kind: 'VALIDATOR_CANDIDACY' }).bytes,
  ]);
}

describe('applyBlock', () => {
  it('links blocks: height, prevHash, appHash, lastBlockHash', () => {
    const d = driver();
    const genesisHash = stateHash(d.state);
    const b1 = d.build();
    assert.deepEqual(b1.header.appHash, genesisHash);
    d.apply(b1);
    assert.equal(d.state.height, 1);
    assert.deepEqual(d.state.lastBlockHash, blockHash(b1));
    const b2 = d.build();
    assert.deepEqual(b2.header.prevHash, blockHash(b1));
    d.apply(b2);
    assert.equal(d.state.height, 2);
  });

  it('refuses a block that does not extend the state', () => {
    const d = driver();
    d.apply(d.build());
    const good = d.build();
    assert.deepEqual(validateBlockForState(d.state, good), { ok: true });
    const h = good.header;
    const variants: [string, Block][] = [
      ['WRONG_CHAIN', { ...good, header: { ...h, chainId: 'other-chain' } }],
      ['BAD_HEIGHT', { ...good, header: { ...h, height: 3 } }],
      ['BAD_PREV_HASH', { ...good, header: { ...h, prevHash: new Uint8Array(32).fill(7) } }],
      ['BAD_APP_HASH', { ...good, header: { ...h, appHash: new Uint8Array(32).fill(7) } }],
      [
        'BAD_BLOCK_HASHES',
        { ...good, txs: [tx(ids[0]!, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes] },
      ],
      ['BAD_BLOCK_HASHES', { ...good, lastCommit: null }],
      ['BAD_PROPOSER', buildBlock(d.state, { proposer: ids[0]!.publicKey, lastCommit: good.lastCommit })],
      ['BAD_BLOCK_HASHES', { ...good, header: { ...h, proposer: new Uint8Array(5) } }],
    ];
    for (const [code, block] of variants) assert.equal(refusal(d.state, block), code, code);
  });

  it('requires a commit of the previous block by more than 2/3 of its validators', () => {
    const d = driver();
    const b1 = d.build();
    assert.equal(refusal(d.state, buildBlock(d.state, { lastCommit: commitFor(b1, vs) })), 'BAD_LAST_COMMIT');
    d.apply(b1);
    const cases: [string, Block][] = [
      ['missing', buildBlock(d.state, { lastCommit: null })],
      ['2 of 4', buildBlock(d.state, { lastCommit: commitFor(b1, vs.slice(0, 2)) })],
      ['outsider', buildBlock(d.state, { lastCommit: commitFor(b1, [...vs.slice(0, 2), ids[0]!]) })],
      [
        'wrong block',
        buildBlock(d.state, { lastCommit: { ...commitFor(b1, vs), blockHash: new Uint8Array(32) } }),
      ],
      ['wrong height', buildBlock(d.state, { lastCommit: { ...commitFor(b1, vs), height: 2 } })],
    ];
    const forged = commitFor(b1, vs);
    const sigs = forged.signatures.map((s, i) =>
      i === 0 ? { validator: s.validator, signature: ids[0]!.sign(new Uint8Array(1)) } : s,
    );
    cases.push(['forged', buildBlock(d.state, { lastCommit: { ...forged, signatures: sigs } })]);
    for (const [what, block] of cases) assert.equal(refusal(d.state, block), 'BAD_LAST_COMMIT', what);
    assert.ok(applyBlock(d.state, buildBlock(d.state, { lastCommit: commitFor(b1, vs.slice(0, 3)) })).ok);
  });

  it('is invalid as a whole when one transaction is refused, and never changes its input', () => {
    const d = driver();
    const a = ids[0]!;
    const claim = tx(a, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes;
    const replay = tx(a, 1n, { kind: 'TRANSFER', to: ids[1]!.publicKey, amount: 5n }).bytes;
    const before = stateHash(d.state);
    const bad = d.build({ txs: [claim, replay] });
    const r = applyBlock(d.state, bad);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.code, 'TX_REFUSED');
      assert.equal(r.txIndex, 1);
      assert.equal(r.txCode, 'BAD_NONCE');
    }
    assert.equal(refusal(d.state, d.build({ txs: [new Uint8Array([1, 2, 3])] })), 'BAD_TX_ENCODING');
    assert.deepEqual(stateHash(d.state), before);
    assert.deepEqual(d.apply(d.build({ txs: [claim] })).receipts.txIds, [txId(claim)]);
    assert.equal(getAccount(d.state, hex(a)).balance, 999n);
    // The same transaction can never apply again, in any later block.
    assert.equal(refusal(d.state, d.build({ txs: [claim] })), 'TX_REFUSED');
  });

  it('governs parameters with the validator set of the block height', () => {
    const d = driver();
    const proposal = tx(vs[0]!, 1n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.epochLength, value: 6n }, 0n);
    assert.equal(refusal(d.state, d.build({ txs: [proposal.bytes] })), 'TX_REFUSED', 'fee 0 < minFee 1');
    const outsider = tx(ids[0]!, 1n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.epochLength, value: 6n });
    const r = applyBlock(d.state, d.build({ txs: [outsider.bytes] }));
    assert.equal(!r.ok && r.txCode, 'NOT_A_VALIDATOR');
  });
});

describe('evidence', () => {
  it('penalises an equivocating validator once: reputation 0, no longer a candidate', () => {
    const d = driver();
    d.apply(d.build());
    const cheat = vs[2]!;
    const ev = equivocation(cheat, 1, 0);
    assert.equal(refusal(d.state, d.build({ evidence: [ev, ev] })), 'DUPLICATE_EVIDENCE');
    const swapped = { voteA: ev.voteB, voteB: ev.voteA };
    assert.equal(refusal(d.state, d.build({ evidence: [ev, swapped] })), 'DUPLICATE_EVIDENCE');
    const r = d.apply(d.build({ evidence: [ev] }));
    assert.deepEqual(r.receipts.evidence, [{ validator: hex(cheat), height: 1, round: 0, voteType: 1 }]);
    const account = getAccount(d.state, hex(cheat));
    assert.equal(account.reputation.penalties, 1n);
    assert.equal(reputation(d.state, hex(cheat)), 0n);
    assert.equal(d.state.candidates.has(hex(cheat)), false);
    // Never counted twice: not the same pair, nor another pair for the same slot.
    assert.equal(refusal(d.state, d.build({ evidence: [ev] })), 'DUPLICATE_EVIDENCE');
    const other = {
      voteA: signVote(cheat, { type: 'PREVOTE', height: 1, round: 0, blockHash: null }),
      voteB: ev.voteA,
    };
    assert.equal(refusal(d.state, d.build({ evidence: [other] })), 'DUPLICATE_EVIDENCE');
    // A different slot (the precommit step) is a new offence.
    d.apply(d.build({ evidence: [equivocation(cheat, 1, 0, 'PRECOMMIT')] }));
    assert.equal(getAccount(d.state, hex(cheat)).reputation.penalties, 2n);
  });

  it('refuses evidence that proves nothing', () => {
    const d = driver();
    d.apply(d.build());
    const v = vs[1]!;
    const a = signVote(v, { type: 'PREVOTE', height: 1, round: 0, blockHash: new Uint8Array(32).fill(1) });
    const same = signVote(v, { type: 'PREVOTE', height: 1, round: 0, blockHash: new Uint8Array(32).fill(1) });
    const cases: [string, { voteA: typeof a; voteB: typeof a }][] = [
      ['BAD_EVIDENCE', { voteA: a, voteB: same }],
      [
        'BAD_EVIDENCE',
        { voteA: a, voteB: signVote(vs[0]!, { type: 'PREVOTE', height: 1, round: 0, blockHash: null }) },
      ],
      [
        'BAD_EVIDENCE',
        { voteA: a, voteB: signVote(v, { type: 'PREVOTE', height: 1, round: 1, blockHash: null }) },
      ],
      [
        'BAD_EVIDENCE',
        { voteA: a, voteB: signVote(v, { type: 'PRECOMMIT', height: 1, round: 0, blockHash: null }) },
      ],
      [
        'BAD_EVIDENCE',
        {
          voteA: a,
          voteB: {
            ...signVote(v, { type: 'PREVOTE', height: 1, round: 0, blockHash: null }),
            signature: a.signature,
          },
        },
      ],
      [
        'BAD_EVIDENCE',
        {
          voteA: signVote(v, { type: 'PREVOTE', height: 1, round: 0, blockHash: null, chainId: 'other' }),
          voteB: signVote(v, {
            type: 'PREVOTE',
            height: 1,
            round: 0,
            blockHash: new Uint8Array(32),
            chainId: 'other',
          }),
        },
      ],
      ['NOT_A_VALIDATOR_THEN', equivocation(ids[0]!, 1, 0)],
      ['EVIDENCE_OUT_OF_RANGE', equivocation(v, 3, 0)],
    ];
    for (const [code, ev] of cases) assert.equal(refusal(d.state, d.build({ evidence: [ev] })), code, code);
  });

  it('refuses candidacy from a penalised key', () => {
    const d = driver();
    const cheat = vs[3]!;
    d.apply(
      d.build({
        txs: [tx(cheat, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes, tx(cheat, 2n, relayBody).bytes],
      }),
    );
    d.apply(d.build({ evidence: [equivocation(cheat, 1, 0)] }));
    const r = applyBlock(d.state, d.build({ txs: [tx(cheat, 3n, { kind: 'VALIDATOR_CANDIDACY' }).bytes] }));
    assert.equal(!r.ok && r.txCode, 'PENALIZED');
  });
});

describe('epochs and election', () => {
  it('elects epoch e+2 at the end of epoch e, by reputation, and never changes it afterwards', () => {
    const d = driver({ epochLength: 4, validatorCount: 4 });
    const genesisSet = [...vs.map(hex)].sort();
    d.apply(d.build({ txs: standTxs(newcomers) }));
    assert.equal(d.state.candidates.size, 8);
    for (let h = 2; h <= 3; h++) d.apply(d.build());
    assert.equal(validatorsForHeight(d.state, 9), undefined);
    const end0 = d.apply(d.build());
    // Genesis validators: age 1 epoch + one uptime epoch (signed all 3 commits); newcomers: 0.
    assert.deepEqual(epochAt(d.state, 9), { epoch: 2, startHeight: 9, length: 4, validators: genesisSet });
    assert.deepEqual(end0.receipts.elected, epochAt(d.state, 9));
    for (const v of vs) assert.equal(getAccount(d.state, hex(v)).reputation.uptimeEpochs, 1n);
    for (const n of newcomers) assert.equal(reputation(d.state, hex(n)), 0n);

    // A penalty in epoch 1 removes vs[0] from the election at the end of epoch 1 (epoch 3) only.
    d.apply(d.build({ evidence: [equivocation(vs[0]!, 4, 0)] }));
    const epoch2 = epochAt(d.state, 9);
    for (let h = 6; h <= 8; h++) d.apply(d.build());
    assert.deepEqual(epochAt(d.state, 9), epoch2, 'the set for epoch 2 is fixed');
    const epoch3 = epochAt(d.state, 13);
    assert.ok(epoch3);
    assert.equal(epoch3.validators.includes(hex(vs[0]!)), false);
    const lowestNewcomer = [...newcomers.map(hex)].sort()[0];
    assert.deepEqual(
      epoch3.validators,
      [...vs.slice(1).map(hex), lowestNewcomer].sort(),
      'ties broken by key bytes',
    );
    assert.equal(epochAt(d.state, 1), undefined, 'epoch 0 is pruned once epoch 1 ends');
    assert.equal(epochAt(d.state, 5)?.epoch, 1, 'the epoch just ended is kept for late evidence');
  });

  it('elects a relay whose audited work outranks a validator: proven bytes raise reputation', () => {
    const d = driver({ epochLength: 4, validatorCount: 4 });
    const relay = newcomers[0]!;
    d.apply(d.build({ txs: standTxs([relay]) }));
    for (let h = 2; h <= 4; h++) d.apply(d.build());
    // Epoch 1 (heights 5..8): the relay claims its work of epoch 0 (within its unmeasured capacity);
    // no validator fails it, so it is paid and its proven bytes count at the end of epoch 1.
    const claim = {
      kind: 'RELAY_CLAIM',
      epoch: 0,
      cells: 50_000n,
      leaves: 10,
      root: new Uint8Array(32),
    } as const;
    d.apply(d.build({ txs: [tx(relay, 4n, claim).bytes] }));
    for (let h = 6; h <= 7; h++) d.apply(d.build());
    const before = reputation(d.state, hex(relay));
    const end1 = d.apply(d.build());
    assert.equal(d.state.economy.settlements.get(hex(relay))?.paidCells, 50_000n);
    assert.equal(getAccount(d.state, hex(relay)).reputation.relayedBytes, 50_000n * 2048n);
    assert.ok(reputation(d.state, hex(relay)) > before + 40n, 'proven work raised its reputation');
    // The set elected for epoch 3 takes the relay in, in place of the genesis validator that ranks last.
    const elected = end1.receipts.elected?.validators ?? [];
    assert.ok(elected.includes(hex(relay)), 'the relay was elected');
    assert.equal(elected.length, 4);
    assert.deepEqual(
      elected.filter((k) => k !== hex(relay)),
      [...vs.map(hex)].sort().slice(0, 3),
      'the genesis validators tie; the highest key gives way',
    );
  });

  it('keeps the previous set when too few candidates stand, so the set is never empty', () => {
    const d = new ChainDriver(testGenesisState(vs, { epochLength: 2, validatorCount: 4 }), keys);
    const evidence = vs.slice(0, 2).map((v) => equivocation(v, 1, 0));
    d.apply(d.build({ txs: standTxs(newcomers.slice(0, 1)), evidence }));
    assert.equal(d.state.candidates.size, 3);
    d.apply(d.build());
    // Only vs[2], vs[3] and one newcomer stand: 3 < min(4, 4), so epoch 2 inherits epoch 1's set.
    assert.deepEqual(epochAt(d.state, 5)?.validators, [...vs.map(hex)].sort());
  });

  it("credits uptime only to validators whose signatures are in 2/3 of the epoch's commits", () => {
    const d = driver({ epochLength: 4 });
    d.apply(d.build());
    // Blocks 2..4 carry 3 commits: vs[3] signs 1 of them, vs[2] signs 2 (exactly 2/3), the rest all.
    for (const absent of [[vs[3]!], [vs[3]!], [vs[2]!]]) d.apply(d.build({ absent }));
    assert.equal(d.state.height, 4);
    const uptime = (i: number) => getAccount(d.state, hex(vs[i]!)).reputation.uptimeEpochs;
    assert.deepEqual([0, 1, 2, 3].map(uptime), [1n, 1n, 1n, 0n]);
  });

  it('applies a governed epochLength to the epochs elected after it', () => {
    const funded = vs.map((v) => ({ key: v.publicKey, balance: credits(100) }));
    const d = new ChainDriver(genesisState(testGenesis(vs, { epochLength: 4 }, funded)), keys);
    const id = txId(
      tx(vs[0]!, 1n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.epochLength, value: 6n }).bytes,
    );
    d.apply(
      d.build({
        txs: [
          tx(vs[0]!, 1n, { kind: 'PARAM_PROPOSAL', paramId: PARAM_ID.epochLength, value: 6n }).bytes,
          // Three yes votes of four pass (3 * 3 > 2 * 4); the proposal then closes.
          ...vs
            .slice(0, 3)
            .map((v, i) => tx(v, i === 0 ? 2n : 1n, { kind: 'PARAM_VOTE', proposalId: id, yes: true }).bytes),
        ],
        absent: [],
      }),
    );
    assert.equal(d.state.params.epochLength, 6);
    assert.equal(epochAt(d.state, 8)?.length, 4, 'epoch 1 keeps its length');
    for (let h = 2; h <= 4; h++) d.apply(d.build());
    assert.deepEqual(epochAt(d.state, 9), { ...epochAt(d.state, 9), startHeight: 9, length: 6 });
    assert.equal(epochAt(d.state, 14)?.epoch, 2);
    assert.equal(validatorsForHeight(d.state, 15), undefined);
  });
});

describe('proposeBlockTxs', () => {
  it('keeps the transactions that apply in order, retrying nonce gaps, and respects the limits', () => {
    const d = driver();
    const a = ids[0]!;
    const b = ids[1]!;
    const claimA = tx(a, 1n, { kind: 'CLAIM_GENESIS', powNonce: 0n }).bytes;
    const payA = tx(a, 2n, { kind: 'TRANSFER', to: b.publicKey, amount: 10n }).bytes;
    const broke = tx(b, 1n, { kind: 'TRANSFER', to: a.publicKey, amount: 10_000n }).bytes;
    const junk = new Uint8Array([0x41, 0x4e]);
    const picked = proposeBlockTxs(d.state, [payA, broke, claimA, junk]);
    assert.deepEqual(picked.txs, [claimA, payA]);
    assert.deepEqual(picked.skipped.map((s) => s.code).sort(), ['BAD_TX_ENCODING', 'INSUFFICIENT_FUNDS']);
    // What it proposes is a valid block.
    d.apply(d.build({ txs: picked.txs }));
    assert.equal(getAccount(d.state, hex(b)).balance, 10n);
    const d2 = driver();
    assert.deepEqual(proposeBlockTxs(d2.state, [claimA, payA], { maxTxs: 1, maxBytes: 10_000 }).txs, [
      claimA,
    ]);
    assert.deepEqual(proposeBlockTxs(d2.state, [claimA, payA], { maxTxs: 10, maxBytes: claimA.length }).txs, [
      claimA,
    ]);
  });
});

describe('assembleBlock and selectEvidence', () => {
  it('build the block applyBlock accepts, with only evidence that still counts', () => {
    const d = driver();
    d.apply(d.build());
    const ev = equivocation(vs[1]!, 1, 0);
    const outsider = equivocation(ids[0]!, 1, 0);
    const chosen = selectEvidence(d.state, [ev, outsider, { voteA: ev.voteB, voteB: ev.voteA }, ev]);
    assert.deepEqual(chosen, [ev]);
    const lastCommit = d.commitLast();
    const block = assembleBlock(d.state, {
      txs: [],
      evidence: chosen,
      lastCommit,
      proposer: vs[2]!.publicKey,
      timeMs: 5,
    });
    const reference = buildBlock(d.state, { evidence: chosen, lastCommit, proposer: vs[2]!.publicKey });
    assert.deepEqual(block, { ...reference, header: { ...reference.header, timeMs: 5 } });
    d.apply(block);
    assert.deepEqual(selectEvidence(d.state, [ev]), []);
  });
});
