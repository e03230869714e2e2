// Merkle sum tree (docs/economy.md, "Claims"): a Merkle tree whose nodes also carry the sum of their
// leaves' values and the smallest and largest leaf key below them, so one root commits to every leaf,
// to the total and to the leaves' order; a path proves a leaf, its value, where its range
// [start, start + value) lies in the total, and that the keys are strictly ascending wherever the path
// meets a sibling.
//
//   leaf  = (SHA-256(0x00 || data), value, key, key)          (data: a receipt's 153 bytes; key 40 bytes)
//   node  = (SHA-256(0x01 || left.hash || left.sum u64 || left.min || left.max ||
//                           right.hash || right.sum u64 || right.min || right.max),
//            left.sum + right.sum, left.min, right.max)
//   an odd node at the end of a level is carried up unchanged (it has no sibling on that level)
//
// A path is sorted when every level has left.min <= left.max < right.min <= right.max (keys compared as
// bytes). Whatever keys a tree states, the leaves whose paths verify with their own keys are strictly
// ascending: of two leaves out of order or with one key, at least one path fails, and so does the path
// of a leaf whose key the tree misstates. In a tree built over unsorted leaves, every path through the
// lowest common ancestor of two neighbours out of order fails. (Checking min <= max on both sides
// matters: without it a tree could state max < min for one leaf and hide an inversion behind it.)
//
// Sums are u64 (big-endian inside the hash); a tree whose total would pass 2^64-1 cannot be built.
// The shape of the tree, and so the levels at which a leaf's path has a sibling, follows from the
// number of leaves alone: a path with the claimed leaf count fixes the leaf's index (pathIndex).
import { hash } from 'node:crypto';
import { bytesEqual } from '../wire/bytes.ts';
import { CryptoError } from './errors.ts';

export const MERKLE_HASH_BYTES = 32;
/** A leaf's order key: a receipt's signer (32) || tag u64 (8), so byte order is (signer, tag) order. */
export const MERKLE_KEY_BYTES = 40;
/** Levels above the leaves in the largest tree (2^32 - 1 leaves): the most steps a path may have. */
export const MAX_MERKLE_DEPTH = 32;
export const MAX_MERKLE_LEAVES = 0xffffffff;
export const MAX_MERKLE_SUM = 0xffffffffffffffffn;

export interface MerkleSumNode {
  readonly hash: Uint8Array;
  readonly sum: bigint;
  /** The smallest leaf key below the node (a leaf's own key). */
  readonly min: Uint8Array;
  /** The largest leaf key below the node (a leaf's own key). */
  readonly max: Uint8Array;
}

/** Which side of the path's node the sibling sits on. */
export type MerkleSide = 'left' | 'right';

/** One level of a path: the sibling node and its side. */
export interface MerkleSumStep extends MerkleSumNode {
  readonly side: MerkleSide;
}

export interface MerkleSumProof {
  readonly index: number;
  readonly leafCount: number;
  readonly leaf: MerkleSumNode;
  /** Siblings from the leaf's level upwards; levels where the node is carried up have none. */
  readonly steps: readonly MerkleSumStep[];
}

/** What a path recomputes: the root, and whether every level it passed was in strict key order. */
export interface MerkleSumWalk {
  readonly root: MerkleSumNode;
  readonly sorted: boolean;
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const SIDE_BYTES = MERKLE_HASH_BYTES + 8 + 2 * MERKLE_KEY_BYTES;
const nodeInput = new Uint8Array(1 + 2 * SIDE_BYTES);
const nodeView = new DataView(nodeInput.buffer);
nodeInput[0] = 0x01;

/** SHA-256(0x00 || data): the hash of a leaf. */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input.set(LEAF_PREFIX);
  input.set(data, 1);
  return sha256(input);
}

/** A leaf node: its hash, value, and its key as both min and max. */
export function merkleLeaf(hash: Uint8Array, sum: bigint, key: Uint8Array): MerkleSumNode {
  return { hash, sum, min: key, max: key };
}

/**
 * The parent of two nodes, or undefined when a hash is not 32 bytes, a key not 40, or a sum not a
 * u64. It does not look at the order (ordered() does): a tree over unsorted leaves can be built, and
 * its paths then fail.
 */
export function merkleParent(left: MerkleSumNode, right: MerkleSumNode): MerkleSumNode | undefined {
  const sum = left.sum + right.sum;
  if (!isNode(left) || !isNode(right) || sum > MAX_MERKLE_SUM) return undefined;
  writeSide(1, left);
  writeSide(1 + SIDE_BYTES, right);
  return { hash: sha256(nodeInput), sum, min: left.min, max: right.max };
}

/** left.min <= left.max < right.min <= right.max: the two children are in strict key order. */
export function ordered(left: MerkleSumNode, right: MerkleSumNode): boolean {
  return (
    compareKeys(left.min, left.max) <= 0 &&
    compareKeys(left.max, right.min) < 0 &&
    compareKeys(right.min, right.max) <= 0
  );
}

/** Byte order of two keys (Buffer.compare: memcmp, then length). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The sibling sides of the path of leaf `index` in a tree of `leafCount` leaves, bottom-up; undefined
 * when the index is outside the tree.
 */
export function pathShape(index: number, leafCount: number): MerkleSide[] | undefined {
  if (!validCount(leafCount) || !Number.isInteger(index) || index < 0 || index >= leafCount) return undefined;
  const sides: MerkleSide[] = [];
  for (let i = index, size = leafCount; size > 1; i = Math.floor(i / 2), size = Math.ceil(size / 2)) {
    if (i % 2 === 1) sides.push('left');
    else if (i + 1 < size) sides.push('right');
  }
  return sides;
}

/**
 * The index of the leaf whose path has these sibling sides in a tree of `leafCount` leaves, or
 * undefined when no leaf's path has this shape. Walks down from the root: at each level the node has
 * two children (a step, whose side says which one is on the path) or one (carried up, no step).
 */
export function pathIndex(sides: readonly MerkleSide[], leafCount: number): number | undefined {
  if (!validCount(leafCount)) return undefined;
  const sizes: number[] = [];
  for (let size = leafCount; size > 1; size = Math.ceil(size / 2)) sizes.push(size);
  let index = 0;
  let step = sides.length;
  for (let level = sizes.length - 1; level >= 0; level--) {
    const size = sizes[level] as number;
    const left = 2 * index;
    if (left + 1 < size) {
      step--;
      if (step < 0) return undefined;
      index = sides[step] === 'left' ? left + 1 : left;
    } else {
      index = left;
    }
  }
  return step === 0 ? index : undefined;
}

/** Where the proof's leaf starts in the total: the sum of every sibling on its left. */
export function proofStart(proof: MerkleSumProof): bigint {
  let start = 0n;
  for (const s of proof.steps) if (s.side === 'left') start += s.sum;
  return start;
}

/**
 * The root the proof recomputes to and whether every level was in strict key order, or undefined when
 * the proof is malformed: its steps do not have the shape of leaf `index` among `leafCount`, a hash is
 * not 32 bytes, a key not 40, or a sum is not a u64. Never throws.
 */
export function walkProof(proof: MerkleSumProof): MerkleSumWalk | undefined {
  const shape = pathShape(proof.index, proof.leafCount);
  if (shape === undefined || shape.length !== proof.steps.length || !isNode(proof.leaf)) return undefined;
  let node: MerkleSumNode | undefined = proof.leaf;
  let sorted = true;
  for (let i = 0; i < shape.length && node !== undefined; i++) {
    const step = proof.steps[i] as MerkleSumStep;
    if (step.side !== shape[i]) return undefined;
    const left = step.side === 'left' ? step : node;
    const right = step.side === 'left' ? node : step;
    node = merkleParent(left, right);
    if (node !== undefined && !ordered(left, right)) sorted = false;
  }
  return node === undefined ? undefined : { root: node, sorted };
}

/** The root the proof recomputes to (order not considered), or undefined when it is malformed. */
export function proofRoot(proof: MerkleSumProof): MerkleSumNode | undefined {
  return walkProof(proof)?.root;
}

/**
 * True when the proof recomputes exactly `root` (hash, sum, min and max) and is sorted at every
 * level. Never throws.
 */
export function verifyMerkleSumProof(proof: MerkleSumProof, root: MerkleSumNode): boolean {
  const got = walkProof(proof);
  return got?.sorted === true && sameNode(got.root, root);
}

/** Equal hash, sum, min and max. */
export function sameNode(a: MerkleSumNode, b: MerkleSumNode): boolean {
  return (
    a.sum === b.sum && bytesEqual(a.hash, b.hash) && bytesEqual(a.min, b.min) && bytesEqual(a.max, b.max)
  );
}

export class MerkleSumTree {
  /** levels[0] are the leaves, the last level is the root alone. */
  readonly #levels: readonly (readonly MerkleSumNode[])[];
  /** ends[i]: the running sum after leaf i (leaf i covers [ends[i-1], ends[i])). */
  readonly #ends: readonly bigint[];

  private constructor(levels: MerkleSumNode[][], ends: bigint[]) {
    this.#levels = levels;
    this.#ends = ends;
  }

  /**
   * Builds the tree over the leaves in the order given (sorted or not: the paths say). Throws
   * CryptoError 'BAD_ARGUMENT' on no leaves, more than MAX_MERKLE_LEAVES, a hash that is not 32 bytes,
   * a key that is not 40, or a total past 2^64-1.
   */
  static build(leaves: readonly MerkleSumNode[]): MerkleSumTree {
    if (!validCount(leaves.length)) throw new CryptoError('BAD_ARGUMENT', `${leaves.length} leaves`);
    const ends: bigint[] = [];
    let total = 0n;
    for (const leaf of leaves) {
      if (!isNode(leaf)) {
        throw new CryptoError('BAD_ARGUMENT', 'a leaf is not a 32-byte hash, a u64 and 40-byte keys');
      }
      total += leaf.sum;
      ends.push(total);
    }
    if (total > MAX_MERKLE_SUM) throw new CryptoError('BAD_ARGUMENT', 'the leaves sum past 2^64-1');
    const levels: MerkleSumNode[][] = [[...leaves]];
    for (let level = levels[0] as MerkleSumNode[]; level.length > 1; ) {
      const up: MerkleSumNode[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const left = level[i] as MerkleSumNode;
        const right = level[i + 1];
        up.push(right === undefined ? left : (merkleParent(left, right) as MerkleSumNode));
      }
      levels.push(up);
      level = up;
    }
    return new MerkleSumTree(levels, ends);
  }

  get leafCount(): number {
    return this.#ends.length;
  }

  get root(): MerkleSumNode {
    return (this.#levels[this.#levels.length - 1] as MerkleSumNode[])[0] as MerkleSumNode;
  }

  leaf(index: number): MerkleSumNode {
    return this.#level(0)[this.#checkIndex(index)] as MerkleSumNode;
  }

  /** Where leaf `index` starts in the total. */
  start(index: number): bigint {
    const i = this.#checkIndex(index);
    return i === 0 ? 0n : (this.#ends[i - 1] as bigint);
  }

  proof(index: number): MerkleSumProof {
    const steps: MerkleSumStep[] = [];
    let i = this.#checkIndex(index);
    for (let level = 0; level < this.#levels.length - 1; level++, i = Math.floor(i / 2)) {
      const nodes = this.#level(level);
      const siblingIndex = i % 2 === 1 ? i - 1 : i + 1;
      const sibling = nodes[siblingIndex];
      if (sibling === undefined) continue;
      steps.push({ ...sibling, side: siblingIndex < i ? 'left' : 'right' });
    }
    return { index, leafCount: this.leafCount, leaf: this.leaf(index), steps };
  }

  /**
   * The leaf whose range [start, start + value) holds position p, or undefined when p is outside
   * [0, total). Leaves of value 0 cover nothing.
   */
  covering(p: bigint): number | undefined {
    const ends = this.#ends;
    if (p < 0n || p >= (ends[ends.length - 1] as bigint)) return undefined;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ends[mid] as bigint) > p) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #level(level: number): readonly MerkleSumNode[] {
    return this.#levels[level] as readonly MerkleSumNode[];
  }

  #checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.leafCount) {
      throw new CryptoError('BAD_ARGUMENT', `leaf ${index} is not in 0..${this.leafCount - 1}`);
    }
    return index;
  }
}

function validCount(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_MERKLE_LEAVES;
}

function isNode(n: MerkleSumNode): boolean {
  return (
    n.hash instanceof Uint8Array &&
    n.hash.length === MERKLE_HASH_BYTES &&
    typeof n.sum === 'bigint' &&
    n.sum >= 0n &&
    n.sum <= MAX_MERKLE_SUM &&
    isKey(n.min) &&
    isKey(n.max)
  );
}

function isKey(k: Uint8Array): boolean {
  return k instanceof Uint8Array && k.length === MERKLE_KEY_BYTES;
}

/** One child's part of a node's hash input, at `at`: hash | sum u64 | min | max. */
function writeSide(at: number, n: MerkleSumNode): void {
  nodeInput.set(n.hash, at);
  nodeView.setBigUint64(at + MERKLE_HASH_BYTES, n.sum);
  nodeInput.set(n.min, at + MERKLE_HASH_BYTES + 8);
  nodeInput.set(n.max, at + MERKLE_HASH_BYTES + 8 + MERKLE_KEY_BYTES);
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', data, 'buffer'));
}
