import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_MERKLE_SUM,
  type MerkleSumNode,
  type MerkleSumProof,
  MerkleSumTree,
  merkleLeafHash,
  merkleParent,
  pathIndex,
  pathShape,
  proofStart,
  verifyMerkleSumProof,
} from '../../../src/crypto/merkle-sum.ts';

function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

const leafOf = (i: number, sum: bigint): MerkleSumNode => ({
  hash: merkleLeafHash(new Uint8Array([i])),
  sum,
});

const arbLeaves = fc.array(
  fc.record(
    { hash: fc.uint8Array({ minLength: 32, maxLength: 32 }), sum: fc.bigInt({ min: 0n, max: 50n }) },
    { noNullPrototype: true },
  ),
  { minLength: 1, maxLength: 40 },
);

/** Every way to change one thing in a proof. */
function tamperings(p: MerkleSumProof): MerkleSumProof[] {
  const out: MerkleSumProof[] = [];
  const flip = (h: Uint8Array) => {
    const c = h.slice();
    c[0]! ^= 1;
    return c;
  };
  out.push({ ...p, leaf: { ...p.leaf, hash: flip(p.leaf.hash) } });
  out.push({ ...p, leaf: { ...p.leaf, sum: p.leaf.sum + 1n } });
  if (p.leaf.sum > 0n) out.push({ ...p, leaf: { ...p.leaf, sum: p.leaf.sum - 1n } });
  p.steps.forEach((s, i) => {
    const at = (changed: MerkleSumProof['steps'][number]) => ({
      ...p,
      steps: p.steps.map((x, j) => (j === i ? changed : x)),
    });
    out.push(at({ ...s, hash: flip(s.hash) }));
    out.push(at({ ...s, sum: s.sum + 1n }));
    if (s.sum > 0n) out.push(at({ ...s, sum: s.sum - 1n }));
    out.push(at({ ...s, side: s.side === 'left' ? 'right' : 'left' }));
  });
  if (p.steps.length > 0) out.push({ ...p, steps: p.steps.slice(1) });
  out.push({ ...p, steps: [...p.steps, { hash: p.leaf.hash, sum: 0n, side: 'right' }] });
  for (let i = 0; i < p.leafCount; i++) if (i !== p.index) out.push({ ...p, index: i });
  return out;
}

describe('Merkle sum tree', () => {
  it('hashes leaves and nodes as docs/economy.md says; an odd node is carried up unchanged', () => {
    const data = new Uint8Array([1, 2, 3]);
    assert.deepEqual(merkleLeafHash(data), sha(new Uint8Array([0]), data));
    const [a, b, c] = [leafOf(0, 5n), leafOf(1, 7n), leafOf(2, 11n)] as const;
    const ab = merkleParent(a, b)!;
    assert.deepEqual(ab.hash, sha(new Uint8Array([1]), a.hash, u64(5n), b.hash, u64(7n)));
    assert.equal(ab.sum, 12n);
    const tree = MerkleSumTree.build([a, b, c]);
    assert.deepEqual(tree.root, merkleParent(ab, c));
    assert.equal(tree.root.sum, 23n);
    assert.deepEqual(MerkleSumTree.build([a]).root, a);
    const five = MerkleSumTree.build([a, b, c, a, b]);
    const cab = merkleParent(c, a)!;
    assert.deepEqual(five.root, merkleParent(merkleParent(ab, cab)!, b));
  });

  it('every proof verifies, starts where the leaf starts, and its shape gives back its index (property)', () => {
    fc.assert(
      fc.property(arbLeaves, (leaves) => {
        const tree = MerkleSumTree.build(leaves);
        let start = 0n;
        for (let i = 0; i < leaves.length; i++) {
          const proof = tree.proof(i);
          assert.ok(verifyMerkleSumProof(proof, tree.root), `leaf ${i} of ${leaves.length}`);
          assert.equal(proofStart(proof), start);
          assert.equal(tree.start(i), start);
          const sides = proof.steps.map((s) => s.side);
          assert.deepEqual(pathShape(i, leaves.length), sides);
          assert.equal(pathIndex(sides, leaves.length), i);
          start += leaves[i]!.sum;
        }
        assert.equal(tree.root.sum, start);
      }),
      { numRuns: 200 },
    );
  });

  it('any change to the leaf, a sibling, a sum, a side, the steps or the index fails (property)', () => {
    fc.assert(
      fc.property(arbLeaves, fc.nat(), (leaves, pick) => {
        const tree = MerkleSumTree.build(leaves);
        const proof = tree.proof(pick % leaves.length);
        for (const t of tamperings(proof)) assert.equal(verifyMerkleSumProof(t, tree.root), false);
        const root = tree.root;
        assert.equal(verifyMerkleSumProof(proof, { ...root, sum: root.sum + 1n }), false);
        const otherHash = root.hash.slice();
        otherHash[31]! ^= 0x80;
        assert.equal(verifyMerkleSumProof(proof, { ...root, hash: otherHash }), false);
      }),
      { numRuns: 150 },
    );
  });

  it('covering positions partition [0, sum): each leaf covers exactly its value (property)', () => {
    fc.assert(
      fc.property(arbLeaves, (leaves) => {
        const tree = MerkleSumTree.build(leaves);
        const covered = new Array<bigint>(leaves.length).fill(0n);
        for (let p = 0n; p < tree.root.sum; p++) {
          const i = tree.covering(p);
          assert.ok(i !== undefined);
          assert.ok(tree.start(i) <= p && p < tree.start(i) + leaves[i]!.sum);
          covered[i] = covered[i]! + 1n;
        }
        assert.deepEqual(
          covered,
          leaves.map((l) => l.sum),
        );
        assert.equal(tree.covering(-1n), undefined);
        assert.equal(tree.covering(tree.root.sum), undefined);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses no leaves, bad hashes and totals past 2^64-1; malformed paths answer undefined', () => {
    assert.throws(() => MerkleSumTree.build([]), { name: 'CryptoError', code: 'BAD_ARGUMENT' });
    assert.throws(() => MerkleSumTree.build([{ hash: new Uint8Array(31), sum: 1n }]), {
      code: 'BAD_ARGUMENT',
    });
    assert.throws(() => MerkleSumTree.build([leafOf(0, MAX_MERKLE_SUM), leafOf(1, 1n)]), {
      code: 'BAD_ARGUMENT',
    });
    assert.equal(merkleParent(leafOf(0, MAX_MERKLE_SUM), leafOf(1, 1n)), undefined);
    assert.ok(merkleParent(leafOf(0, MAX_MERKLE_SUM - 1n), leafOf(1, 1n)));
    assert.equal(pathShape(3, 3), undefined);
    assert.equal(pathShape(0, 0), undefined);
    assert.equal(pathIndex(['left', 'left', 'left'], 4), undefined);
    assert.equal(pathIndex([], 2), undefined);
    assert.equal(pathIndex([], 1), 0);
    const tree = MerkleSumTree.build([leafOf(0, 1n), leafOf(1, 2n)]);
    assert.throws(() => tree.proof(2), { code: 'BAD_ARGUMENT' });
    const huge = { ...tree.proof(0), steps: [{ ...tree.proof(0).steps[0]!, sum: MAX_MERKLE_SUM }] };
    assert.equal(verifyMerkleSumProof(huge, tree.root), false);
  });
});
