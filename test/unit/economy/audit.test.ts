import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MerkleSumTree, merkleParent } from '../../../src/crypto/merkle-sum.ts';
import { type AuditResult, checkAuditAnswer, samplePositions } from '../../../src/economy/audit.ts';
import {
  answerAudit,
  type BuiltClaim,
  buildClaim,
  type ClaimTree,
  type RelayClaim,
  receiptLeaf,
} from '../../../src/economy/claim.ts';
import { type AuditResponse, decodeAuditResponse, encodeAuditResponse } from '../../../src/wire/audit-msg.ts';
import { assembleReceipt, compareReceiptOrder, type SignedReceipt } from '../../../src/wire/receipt.ts';
import { otherRelay, relay, signed, signers } from './receipt-fixtures.ts';

const EPOCH = 7;
const txId = (label: string) => new Uint8Array(createHash('sha256').update(label).digest());

/** Eight honest receipts of different sizes, one per signer. */
const honest: SignedReceipt[] = signers.map((s, i) => signed(s, BigInt(100 * (i + 1)), BigInt(i + 1)));

function sorted(receipts: readonly SignedReceipt[]): SignedReceipt[] {
  return [...receipts].sort((a, b) => compareReceiptOrder(a.receipt, b.receipt));
}

/**
 * A claim over the receipts as given (no checks, the order kept), with the values and the keys the tree
 * states for them where given: what a cheating relay can commit.
 */
function rawClaim(
  receipts: readonly SignedReceipt[],
  sums?: readonly bigint[],
  keys?: readonly (Uint8Array | undefined)[],
): BuiltClaim {
  const tree = MerkleSumTree.build(
    receipts.map((r, i) => {
      const leaf = receiptLeaf(r);
      const key = keys?.[i] ?? leaf.min;
      return { ...leaf, sum: sums?.[i] ?? r.receipt.cells, min: key, max: key };
    }),
  );
  return {
    tree,
    receipts: receipts.map((r) => r.bytes),
    claim: {
      relayKey: relay.publicKey,
      epoch: EPOCH,
      cells: tree.root.sum,
      leaves: tree.leafCount,
      root: tree.root.hash,
    },
  };
}

function audit(built: BuiltClaim, positions: readonly bigint[], answer?: AuditResponse): AuditResult {
  return checkAuditAnswer(built.claim, positions, answer ?? answerAudit(built, positions));
}

/** The position where leaf i starts. */
const at = (t: ClaimTree, i: number) => t.tree.start(i);

function fails(r: AuditResult, reason: string): void {
  assert.equal(r.ok, false, `expected ${reason}`);
  if (!r.ok) assert.equal(r.reason, reason);
}

describe('samplePositions', () => {
  it('is SHA-256("anonnet-audit" || txId || i u32) as a 256-bit integer mod cells', () => {
    const id = txId('claim');
    const ps = samplePositions(id, 1000n, 48);
    assert.equal(ps.length, 48);
    for (const i of [0, 1, 47]) {
      const iBytes = new Uint8Array(4);
      new DataView(iBytes.buffer).setUint32(0, i);
      const d = createHash('sha256').update('anonnet-audit').update(id).update(iBytes).digest('hex');
      assert.equal(ps[i], BigInt(`0x${d}`) % 1000n);
    }
    assert.deepEqual(samplePositions(id, 1000n, 48), ps, 'deterministic');
    assert.notDeepEqual(samplePositions(txId('other'), 1000n, 48), ps);
    assert.ok(samplePositions(id, 7n, 255).every((p) => p >= 0n && p < 7n));
    assert.deepEqual(samplePositions(id, 0n, 48), []);
  });

  it('refuses a txId that is not 32 bytes and sample counts outside 1..255', () => {
    assert.throws(() => samplePositions(new Uint8Array(31), 10n, 4), {
      name: 'EconomyError',
      code: 'BAD_ARGUMENT',
    });
    assert.throws(() => samplePositions(txId('x'), 10n, 0), { code: 'BAD_ARGUMENT' });
    assert.throws(() => samplePositions(txId('x'), 10n, 256), { code: 'BAD_ARGUMENT' });
  });

  it('hits a leaf in proportion to its value', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    const hits = new Array<number>(built.tree.leafCount).fill(0);
    for (let k = 0; k < 100; k++) {
      for (const p of samplePositions(txId(`c${k}`), built.claim.cells, 100)) {
        const i = built.tree.covering(p)!;
        hits[i] = hits[i]! + 1;
      }
    }
    for (let i = 0; i < hits.length; i++) {
      const expected = (10_000 * Number(built.tree.leaf(i).sum)) / Number(built.claim.cells);
      assert.ok(
        Math.abs(hits[i]! - expected) < 5 * Math.sqrt(expected) + 5,
        `leaf ${i}: ${hits[i]} vs ${expected}`,
      );
    }
  });
});

describe('claims', () => {
  it('sorts receipts by (signer, tag) and commits their total', () => {
    const built = buildClaim(relay.publicKey, EPOCH, [...honest].reverse());
    assert.deepEqual(
      built.receipts,
      sorted(honest).map((r) => r.bytes),
    );
    assert.equal(built.claim.cells, 3600n);
    assert.equal(built.claim.leaves, 8);
    assert.deepEqual(built.claim.root, built.tree.root.hash);
  });

  it('refuses no receipts, another relay or epoch, and a (signer, tag) twice', () => {
    const s = signers[0]!;
    assert.throws(() => buildClaim(relay.publicKey, EPOCH, []), { code: 'BAD_RECEIPTS' });
    assert.throws(
      () => buildClaim(relay.publicKey, EPOCH, [signed(s, 1n, 1n, { relay: otherRelay.publicKey })]),
      {
        code: 'BAD_RECEIPTS',
      },
    );
    assert.throws(() => buildClaim(relay.publicKey, EPOCH, [signed(s, 1n, 1n, { epoch: 6 })]), {
      code: 'BAD_RECEIPTS',
    });
    assert.throws(() => buildClaim(relay.publicKey, EPOCH, [signed(s, 1n, 1n), signed(s, 2n, 1n)]), {
      code: 'BAD_RECEIPTS',
    });
  });

  it('the relay cannot answer for a position outside its claim', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    assert.throws(() => answerAudit(built, [built.claim.cells]), {
      name: 'EconomyError',
      code: 'BAD_ARGUMENT',
    });
  });
});

describe('checkAuditAnswer', () => {
  it('passes an honest claim at every sampled position, also through the wire codec', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    for (let k = 0; k < 5; k++) {
      const positions = samplePositions(txId(`honest${k}`), built.claim.cells, 48);
      const answer = answerAudit(built, positions);
      assert.deepEqual(audit(built, positions, answer), { ok: true });
      const wire = decodeAuditResponse(encodeAuditResponse(answer));
      assert.equal(wire.kind, 'ok');
      if (wire.kind === 'ok')
        assert.deepEqual(checkAuditAnswer(built.claim, positions, wire.value), { ok: true });
    }
    const edges = Array.from({ length: 8 }, (_, i) => [
      at(built, i),
      at(built, i) + built.tree.leaf(i).sum - 1n,
    ]).flat();
    assert.deepEqual(audit(built, edges), { ok: true });
  });

  it('passes a claim of one receipt (no path, no neighbour)', () => {
    const built = buildClaim(relay.publicKey, EPOCH, [honest[0]!]);
    assert.deepEqual(audit(built, [0n, 99n]), { ok: true });
  });

  it('fails a fake leaf (a receipt whose signature does not verify), as the covering leaf or the neighbour', () => {
    const s = signers[3]!;
    const fake = assembleReceipt(
      { epoch: EPOCH, relay: relay.publicKey, signer: s.publicKey, tag: 99n, cells: 1000n },
      new Uint8Array(64).fill(7),
    );
    const built = rawClaim(sorted([...honest, fake]));
    const i = built.receipts.indexOf(fake.bytes);
    fails(audit(built, [at(built, i) + 10n]), 'BAD_SIGNATURE');
    fails(audit(built, [at(built, i - 1)]), 'BAD_SIGNATURE');
    // Sampled as the real protocol does: a fifth of the total is fake.
    fails(audit(built, samplePositions(txId('fake'), built.claim.cells, 48)), 'BAD_SIGNATURE');
    // Elsewhere the claim is sound: only positions near the fake leaf find it.
    assert.deepEqual(audit(built, [at(built, 0)]), { ok: true });
  });

  it('fails a good receipt whose signature was altered', () => {
    const victim = honest[2]!;
    const sig = victim.signature.slice();
    sig[10]! ^= 1;
    const forged = assembleReceipt(victim.receipt, sig);
    const built = rawClaim(sorted(honest.map((r) => (r === victim ? forged : r))));
    const i = built.receipts.indexOf(forged.bytes);
    fails(audit(built, [at(built, i)]), 'BAD_SIGNATURE');
  });

  it('fails an inflated leaf sum where it is sampled (the receipt says fewer cells)', () => {
    const receipts = sorted(honest);
    const sums = receipts.map((r, i) => (i === 4 ? r.receipt.cells + 500n : r.receipt.cells));
    const built = rawClaim(receipts, sums);
    assert.equal(built.claim.cells, 3600n + 500n);
    fails(audit(built, [at(built, 4)]), 'BAD_PATH');
    fails(audit(built, [at(built, 4) + receipts[4]!.receipt.cells + 10n]), 'BAD_PATH');
    fails(audit(built, [at(built, 3)]), 'BAD_PATH'); // the neighbour's path
    fails(audit(built, samplePositions(txId('sum'), built.claim.cells, 48)), 'BAD_PATH');
  });

  it('fails an inflated inner sum: the phantom range has no leaf, real leaves under it do not recompute', () => {
    const [a, b, c] = sorted(honest).slice(0, 3) as [SignedReceipt, SignedReceipt, SignedReceipt];
    const [la, lb, lc] = [receiptLeaf(a), receiptLeaf(b), receiptLeaf(c)];
    const ab = merkleParent(la, lb)!;
    const fakeAb = { ...ab, sum: ab.sum + 1000n };
    const root = merkleParent(fakeAb, lc)!;
    const claim: RelayClaim = {
      relayKey: relay.publicKey,
      epoch: EPOCH,
      cells: root.sum,
      leaves: 3,
      root: root.hash,
    };
    const leafA = {
      receipt: a.bytes,
      start: 0n,
      steps: [
        { ...lb, side: 'right' as const },
        { ...lc, side: 'right' as const },
      ],
    };
    const leafB = {
      receipt: b.bytes,
      start: la.sum,
      steps: [
        { ...la, side: 'left' as const },
        { ...lc, side: 'right' as const },
      ],
    };
    const leafC = { receipt: c.bytes, start: fakeAb.sum, steps: [{ ...fakeAb, side: 'left' as const }] };
    // Leaf c's path goes through the inflated node as a sibling: it verifies.
    assert.deepEqual(checkAuditAnswer(claim, [fakeAb.sum], { entries: [{ leaf: leafC, neighbour: null }] }), {
      ok: true,
    });
    const r1 = checkAuditAnswer(claim, [0n], { entries: [{ leaf: leafA, neighbour: leafB }] });
    fails(r1, 'BAD_PATH');
    const phantom = ab.sum + 10n;
    fails(checkAuditAnswer(claim, [phantom], { entries: [{ leaf: leafC, neighbour: null }] }), 'NOT_COVERED');
  });

  it('fails a receipt counted twice next to itself: both paths meet at an unsorted level', () => {
    const receipts = sorted(honest);
    const dup = [...receipts.slice(0, 3), receipts[2]!, ...receipts.slice(3)];
    const built = rawClaim(dup);
    fails(audit(built, [at(built, 2)]), 'NOT_SORTED');
    fails(audit(built, [at(built, 3)]), 'NOT_SORTED');
    fails(audit(built, samplePositions(txId('dup'), built.claim.cells, 48)), 'NOT_SORTED');
    assert.deepEqual(audit(built, [at(built, 0), at(built, 5), at(built, 8)]), { ok: true });
  });

  it('fails leaves out of (signer, tag) order', () => {
    const receipts = sorted(honest);
    const swapped = [receipts[1]!, receipts[0]!, ...receipts.slice(2)];
    fails(audit(rawClaim(swapped), [0n]), 'NOT_SORTED');
  });

  it('fails every copy of receipts appended in order after the real ones, not only the boundary', () => {
    // [A..H, A'..C']: the neighbour rule alone saw only H (whose neighbour A' is smaller). Now every
    // path through the common ancestor of H and A' fails: here the root, so every leaf.
    const receipts = sorted(honest);
    const built = rawClaim([...receipts, ...receipts.slice(0, 3)]);
    for (let i = 0; i < 11; i++) fails(audit(built, [at(built, i)]), 'NOT_SORTED');
    fails(audit(built, samplePositions(txId('appended'), built.claim.cells, 48)), 'NOT_SORTED');
  });

  it('fails copies the tree states under made-up keys (that sort) where a copy is sampled, and nowhere else', () => {
    // The cleverest placement of copies (bench/lib/economy-sim/claims.ts): first, under keys below every
    // real one, so every level is in order. A sampled copy's receipt gives its real key: BAD_PATH.
    const receipts = sorted(honest);
    const copies = [receipts[4]!, receipts[6]!];
    const low = (i: number) => {
      const k = new Uint8Array(40);
      k[39] = i;
      return k;
    };
    const built = rawClaim([...copies, ...receipts], undefined, [low(0), low(1)]);
    fails(audit(built, [at(built, 0)]), 'BAD_PATH');
    fails(audit(built, [at(built, 1) + 5n]), 'BAD_PATH');
    for (let i = 2; i < 10; i++) assert.deepEqual(audit(built, [at(built, i)]), { ok: true }, `leaf ${i}`);
    // The copies are 1200 of 4800 cells: 48 samples all miss them with probability 0.75^48 < 1e-5.
    fails(audit(built, samplePositions(txId('copies'), built.claim.cells, 48)), 'BAD_PATH');
  });

  it('fails a leaf whose key the tree misstates, even where the order holds', () => {
    const receipts = sorted(honest);
    const keys: (Uint8Array | undefined)[] = receipts.map(() => undefined);
    // Leaf 3 stated under leaf 2's key with a larger tag: still between leaves 2 and 4.
    const stated = receiptLeaf(receipts[2]!).min.slice();
    stated[39]! += 1;
    keys[3] = stated;
    const built = rawClaim(receipts, undefined, keys);
    fails(audit(built, [at(built, 3)]), 'BAD_PATH');
    fails(audit(built, [at(built, 2)]), 'BAD_PATH'); // leaf 3 is leaf 2's neighbour
    assert.deepEqual(audit(built, [at(built, 0), at(built, 4), at(built, 5)]), { ok: true });
  });

  it('fails a receipt of another epoch', () => {
    const old = signed(signers[5]!, 300n, 55n, { epoch: EPOCH - 1 });
    const built = rawClaim(sorted([...honest, old]));
    const i = built.receipts.indexOf(old.bytes);
    fails(audit(built, [at(built, i)]), 'WRONG_EPOCH');
  });

  it('fails a receipt for another relay', () => {
    const theirs = signed(signers[5]!, 300n, 55n, { relay: otherRelay.publicKey });
    const built = rawClaim(sorted([...honest, theirs]));
    const i = built.receipts.indexOf(theirs.bytes);
    fails(audit(built, [at(built, i)]), 'WRONG_RELAY');
  });

  it('fails a missing, superfluous or wrong neighbour', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    const p = [at(built, 2)];
    const good = answerAudit(built, p).entries[0]!;
    const answer = (e: AuditResponse['entries'][number]) => ({ entries: [e] });
    fails(checkAuditAnswer(built.claim, p, answer({ ...good, neighbour: null })), 'MISSING_NEIGHBOUR');
    const skip = answerAudit(built, [at(built, 3)]).entries[0]!.neighbour;
    fails(checkAuditAnswer(built.claim, p, answer({ ...good, neighbour: skip })), 'BAD_NEIGHBOUR');
    const lastP = [at(built, 7)];
    const last = answerAudit(built, lastP).entries[0]!;
    assert.equal(last.neighbour, null);
    fails(checkAuditAnswer(built.claim, lastP, answer({ ...last, neighbour: good.leaf })), 'BAD_NEIGHBOUR');
  });

  it('fails a wrong start, a leaf that does not cover the position, garbage, and a wrong entry count', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    const p = [at(built, 2) + 1n];
    const good = answerAudit(built, p).entries[0]!;
    const one = (e: AuditResponse['entries'][number]) => ({ entries: [e] });
    fails(
      checkAuditAnswer(built.claim, p, one({ ...good, leaf: { ...good.leaf, start: good.leaf.start + 1n } })),
      'BAD_START',
    );
    fails(checkAuditAnswer(built.claim, [at(built, 5)], one(good)), 'NOT_COVERED');
    const junk = new Uint8Array(153).fill(9);
    fails(
      checkAuditAnswer(built.claim, p, one({ ...good, leaf: { ...good.leaf, receipt: junk } })),
      'BAD_RECEIPT',
    );
    fails(checkAuditAnswer(built.claim, [...p, ...p], one(good)), 'WRONG_COUNT');
    const steps = good.leaf.steps.slice(1);
    fails(checkAuditAnswer(built.claim, p, one({ ...good, leaf: { ...good.leaf, steps } })), 'BAD_PATH');
  });

  it('fails an answer for another claim of the same relay (another root or leaf count)', () => {
    const built = buildClaim(relay.publicKey, EPOCH, honest);
    const p = samplePositions(txId('x'), built.claim.cells, 48);
    const answer = answerAudit(built, p);
    fails(checkAuditAnswer({ ...built.claim, leaves: 9 }, p, answer), 'BAD_PATH');
    fails(checkAuditAnswer({ ...built.claim, relayKey: otherRelay.publicKey }, p, answer), 'WRONG_RELAY');
    fails(checkAuditAnswer({ ...built.claim, epoch: EPOCH + 1 }, p, answer), 'WRONG_EPOCH');
  });
});
