import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compareKeys,
  MAX_MERKLE_SUM,
  MERKLE_KEY_BYTES,
  type MerkleSumNode,
  type MerkleSumProof,
  type MerkleSumStep,
  MerkleSumTree,
  merkleLeaf,
  merkleLeafHash,
  merkleParent,
  pathIndex,
  pathShape,
  proofStart,
  verifyMerkleSumProof,
  walkProof,
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

/** A 40-byte key whose last two bytes are k: keys in k order. */
function keyOf(k: number): Uint8Array {
  const key = new Uint8Array(MERKLE_KEY_BYTES);
  key[MERKLE_KEY_BYTES - 2] = k >> 8;
  key[MERKLE_KEY_BYTES - 1] = k & 0xff;
  return key;
}

/** Leaf i of a sorted tree: key i. */
const leafOf = (i: number, sum: bigint, key = keyOf(i)): MerkleSumNode =>
  merkleLeaf(merkleLeafHash(new Uint8Array([i])), sum, key);

const arbHash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbSum = fc.bigInt({ min: 0n, max: 50n });

/** Leaves with strictly ascending keys, as an honest claim has them. */
const arbLeaves = fc
  .uniqueArray(fc.uint8Array({ minLength: MERKLE_KEY_BYTES, maxLength: MERKLE_KEY_BYTES }), {
    minLength: 1,
    maxLength: 40,
    selector: (k) => Buffer.from(k).toString('hex'),
  })
  .chain((keys) =>
    fc.tuple(
      fc.constant([...keys].sort(compareKeys)),
      fc.array(fc.tuple(arbHash, arbSum), { minLength: keys.length, maxLength: keys.length }),
    ),
  )
  .map(([keys, parts]) => keys.map((k, i) => merkleLeaf(parts[i]![0], parts[i]![1], k)));

/** Leaves with keys from a small range, in any order: repeats and inversions are common. */
const arbAnyOrder = fc.array(
  fc.tuple(arbHash, arbSum, fc.nat(6)).map(([h, sum, k]) => merkleLeaf(h, sum, keyOf(k))),
  { minLength: 2, maxLength: 24 },
);

/** The level at which leaves i and j meet (their lowest common ancestor), and its first leaf. */
function lca(i: number, j: number): { level: number; first: number } {
  let level = 0;
  while (i >> level !== j >> level) level++;
  return { level, first: (i >> level) << level };
}

const flip = (h: Uint8Array) => {
  const c = h.slice();
  c[0]! ^= 1;
  return c;
};

/** Every way to change one thing in a proof. */
function tamperings(p: MerkleSumProof): MerkleSumProof[] {
  const out: MerkleSumProof[] = [];
  out.push({ ...p, leaf: { ...p.leaf, hash: flip(p.leaf.hash) } });
  out.push({ ...p, leaf: { ...p.leaf, min: flip(p.leaf.min) } });
  out.push({ ...p, leaf: { ...p.leaf, max: flip(p.leaf.max) } });
  out.push({ ...p, leaf: { ...p.leaf, min: flip(p.leaf.min), max: flip(p.leaf.max) } });
  out.push({ ...p, leaf: { ...p.leaf, sum: p.leaf.sum + 1n } });
  if (p.leaf.sum > 0n) out.push({ ...p, leaf: { ...p.leaf, sum: p.leaf.sum - 1n } });
  p.steps.forEach((s, i) => {
    const at = (changed: MerkleSumProof['steps'][number]) => ({
      ...p,
      steps: p.steps.map((x, j) => (j === i ? changed : x)),
    });
    out.push(at({ ...s, hash: flip(s.hash) }));
    out.push(at({ ...s, min: flip(s.min) }));
    out.push(at({ ...s, max: flip(s.max) }));
    out.push(at({ ...s, sum: s.sum + 1n }));
    if (s.sum > 0n) out.push(at({ ...s, sum: s.sum - 1n }));
    out.push(at({ ...s, side: s.side === 'left' ? 'right' : 'left' }));
  });
  if (p.steps.length > 0) out.push({ ...p, steps: p.steps.slice(1) });
  out.push({ ...p, steps: [...p.steps, { ...p.leaf, sum: 0n, side: 'right' }] });
  for (let i = 0; i < p.leafCount; i++) if (i !== p.index) out.push({ ...p, index: i });
  return out;
}

describe('Merkle sum tree', () => {
  it('hashes leaves and nodes as docs/economy.md says; an odd node is carried up unchanged', () => {
    const data = new Uint8Array([1, 2, 3]);
    assert.deepEqual(merkleLeafHash(data), sha(new Uint8Array([0]), data));
    const [a, b, c, d, e] = [leafOf(0, 5n), leafOf(1, 7n), leafOf(2, 11n), leafOf(3, 1n), leafOf(4, 2n)];
    assert.deepEqual([a!.min, a!.max], [keyOf(0), keyOf(0)]);
    const ab = merkleParent(a!, b!)!;
    assert.deepEqual(
      ab.hash,
      sha(new Uint8Array([1]), a!.hash, u64(5n), keyOf(0), keyOf(0), b!.hash, u64(7n), keyOf(1), keyOf(1)),
    );
    assert.equal(ab.sum, 12n);
    assert.deepEqual([ab.min, ab.max], [keyOf(0), keyOf(1)]);
    const tree = MerkleSumTree.build([a!, b!, c!]);
    assert.deepEqual(tree.root, merkleParent(ab, c!));
    assert.equal(tree.root.sum, 23n);
    assert.deepEqual([tree.root.min, tree.root.max], [keyOf(0), keyOf(2)]);
    assert.deepEqual(MerkleSumTree.build([a!]).root, a);
    const five = MerkleSumTree.build([a!, b!, c!, d!, e!]);
    const cd = merkleParent(c!, d!)!;
    assert.deepEqual(five.root, merkleParent(merkleParent(ab, cd)!, e!));
  });

  it("a proof commits to the keys: its steps carry each sibling's min and max", () => {
    const leaves = [0, 1, 2, 3, 4].map((i) => leafOf(i, BigInt(i + 1)));
    const tree = MerkleSumTree.build(leaves);
    const steps = tree.proof(4).steps;
    assert.equal(steps.length, 1, 'the odd leaf is carried up twice, then meets the left four');
    assert.deepEqual([steps[0]!.min, steps[0]!.max, steps[0]!.side], [keyOf(0), keyOf(3), 'left']);
    assert.deepEqual(walkProof(tree.proof(4)), { root: tree.root, sorted: true });
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
    assert.throws(() => MerkleSumTree.build([{ ...leafOf(0, 1n), hash: new Uint8Array(31) }]), {
      code: 'BAD_ARGUMENT',
    });
    assert.throws(() => MerkleSumTree.build([leafOf(0, 1n, new Uint8Array(39))]), {
      code: 'BAD_ARGUMENT',
    });
    assert.equal(merkleParent(leafOf(0, 1n), { ...leafOf(1, 1n), max: new Uint8Array(41) }), undefined);
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

/**
 * A tree as a liar may build it: each node's hash is over its children as they are stated, but any
 * node (a leaf too) may state other min and max keys to its parent than it really has.
 */
function liarTree(
  leaves: readonly MerkleSumNode[],
  lie: (level: number, index: number) => readonly [Uint8Array, Uint8Array] | undefined,
): { root: MerkleSumNode; steps(index: number): MerkleSumStep[] } {
  const stated = (n: MerkleSumNode, level: number, index: number): MerkleSumNode => {
    const l = lie(level, index);
    return l === undefined ? n : { ...n, min: l[0], max: l[1] };
  };
  const levels: MerkleSumNode[][] = [leaves.map((n, i) => stated(n, 0, i))];
  for (let level = levels[0]!; level.length > 1; ) {
    const up: MerkleSumNode[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      const node = right === undefined ? level[i]! : merkleParent(level[i]!, right)!;
      up.push(stated(node, levels.length, up.length));
    }
    levels.push(up);
    level = up;
  }
  return {
    root: levels.at(-1)![0]!,
    steps(index) {
      const steps: MerkleSumStep[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        const sibling = levels[level]![i ^ 1];
        if (sibling !== undefined) steps.push({ ...sibling, side: (i & 1) === 1 ? 'left' : 'right' });
      }
      return steps;
    },
  };
}

/** The check without `min <= max` on each side: what the order test would be with left.max < right.min alone. */
function weakVerify(proof: MerkleSumProof, root: MerkleSumNode): boolean {
  let node: MerkleSumNode = proof.leaf;
  for (const s of proof.steps) {
    const [left, right] = s.side === 'left' ? [s, node] : [node, s];
    if (compareKeys(left.max, right.min) >= 0) return false;
    node = merkleParent(left, right)!;
  }
  return Buffer.compare(node.hash, root.hash) === 0 && node.sum === root.sum;
}

describe('Merkle sum tree: key order', () => {
  it('leaves not strictly ascending: every path through the common ancestor of two neighbours out of order fails, and of two leaves with one key at least one (property)', () => {
    let unsorted = 0;
    fc.assert(
      fc.property(arbAnyOrder, (leaves) => {
        const tree = MerkleSumTree.build(leaves);
        const n = leaves.length;
        // Neighbours k, k+1 out of order: at their common ancestor the left child's max is leaf k's key
        // and the right child's min leaf k+1's (an unsorted subtree's max need not be its largest key,
        // so for leaves further apart the failure shows lower down, between some neighbours in between).
        const mustFail = new Set<number>();
        for (let k = 0; k + 1 < n; k++) {
          if (compareKeys(leaves[k]!.min, leaves[k + 1]!.min) < 0) continue;
          const { level, first } = lca(k, k + 1);
          for (let m = first; m < Math.min(n, first + 2 ** level); m++) mustFail.add(m);
        }
        if (mustFail.size > 0) unsorted++;
        const passes: boolean[] = [];
        for (let k = 0; k < n; k++) {
          const proof = tree.proof(k);
          const walk = walkProof(proof);
          assert.ok(walk !== undefined);
          // The tree is built as stated: every path recomputes the root; the order is what fails.
          assert.deepEqual(walk.root, tree.root);
          assert.equal(verifyMerkleSumProof(proof, tree.root), walk.sorted);
          if (mustFail.has(k)) assert.equal(walk.sorted, false, `leaf ${k} of ${n}`);
          passes.push(walk.sorted);
        }
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            if (compareKeys(leaves[i]!.min, leaves[j]!.min) === 0) {
              assert.ok(!passes[i] || !passes[j], `leaves ${i} and ${j} share a key and both pass`);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(unsorted > 200, `${unsorted} of 300 trees were out of order`);
  });

  it('whatever keys a tree states, the leaves whose paths verify with their own keys are strictly ascending (property)', () => {
    // Mostly sorted leaves (repeats common, a swap or two), and a lie about one node in thirteen.
    const arbLeavesNearlySorted = fc
      .tuple(
        fc.array(fc.tuple(arbHash, arbSum, fc.nat(40)), { minLength: 2, maxLength: 24 }),
        fc.array(fc.tuple(fc.nat(23), fc.nat(23)), { maxLength: 2 }),
      )
      .map(([parts, swaps]) => {
        const keys = parts.map((p) => p[2]).sort((x, y) => x - y);
        for (const [x, y] of swaps) {
          const [i, j] = [x % keys.length, y % keys.length];
          [keys[i], keys[j]] = [keys[j]!, keys[i]!];
        }
        return parts.map(([h, sum], i) => merkleLeaf(h, sum, keyOf(keys[i]!)));
      });
    const arbLie = fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(40), fc.nat(40)) },
    );
    let passingPairs = 0;
    let failed = 0;
    fc.assert(
      fc.property(
        arbLeavesNearlySorted,
        fc.array(arbLie, { minLength: 64, maxLength: 64 }),
        (leaves, lies) => {
          const tree = liarTree(leaves, (level, index) => {
            const l = lies[(level * 17 + index) % lies.length];
            return l === undefined || l === null ? undefined : [keyOf(l[0]), keyOf(l[1])];
          });
          const passing: number[] = [];
          for (let k = 0; k < leaves.length; k++) {
            const proof = { index: k, leafCount: leaves.length, leaf: leaves[k]!, steps: tree.steps(k) };
            if (verifyMerkleSumProof(proof, tree.root)) passing.push(k);
            else failed++;
          }
          for (let p = 1; p < passing.length; p++) {
            const [a, b] = [leaves[passing[p - 1]!]!, leaves[passing[p]!]!];
            assert.ok(
              compareKeys(a.min, b.min) < 0,
              `leaves ${passing[p - 1]} and ${passing[p]} pass out of order`,
            );
            passingPairs++;
          }
        },
      ),
      { numRuns: 400 },
    );
    assert.ok(passingPairs > 100 && failed > 100, `${passingPairs} passing pairs, ${failed} failed paths`);
  });

  it('a node that states max < min cannot hide an inversion behind it (why each side checks min <= max)', () => {
    // Real keys 1 2 3 4, then copies of 1 and 2. The liar states leaf 3 as [4, 0]: with left.max <
    // right.min alone, every path but leaf 3's would pass, the copies' included.
    const leaves = [1, 2, 3, 4, 1, 2].map((k, i) => leafOf(i, 10n, keyOf(k)));
    const tree = liarTree(leaves, (level, index) =>
      level === 0 && index === 3 ? [keyOf(4), keyOf(0)] : undefined,
    );
    const proofs = leaves.map((leaf, k) => ({ index: k, leafCount: 6, leaf, steps: tree.steps(k) }));
    assert.deepEqual(
      proofs.map((p) => weakVerify(p, tree.root)),
      [true, true, true, false, true, true],
    );
    assert.deepEqual(
      proofs.map((p) => verifyMerkleSumProof(p, tree.root)),
      [false, false, false, false, false, false],
    );
  });

  it('a sorted tree stating a made-up key for a leaf fails that leaf only', () => {
    const leaves = [0, 2, 4, 6, 8].map((k, i) => leafOf(i, 10n, keyOf(k)));
    const tree = liarTree(leaves, (level, index) =>
      level === 0 && index === 2 ? [keyOf(5), keyOf(5)] : undefined,
    );
    const ok = leaves.map((leaf, k) =>
      verifyMerkleSumProof({ index: k, leafCount: 5, leaf, steps: tree.steps(k) }, tree.root),
    );
    assert.deepEqual(ok, [true, true, false, true, true]);
  });
});
