// Checks test/vectors/economy.json against this implementation, each part on its own: receipts decode
// to their fields, re-encode and verify; invalid ones are refused with their codes; the tree's leaves,
// root and paths; the sampled positions; the audit request and answer decode, re-encode and pass.
// The file must also be exactly what the generator produces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { identityFromSeed } from '../../../src/crypto/identity.ts';
import {
  MerkleSumTree,
  merkleLeaf,
  merkleLeafHash,
  pathIndex,
  proofStart,
  verifyMerkleSumProof,
} from '../../../src/crypto/merkle-sum.ts';
import { verifyReceiptSignature } from '../../../src/crypto/receipt-signature.ts';
import { checkAuditAnswer, samplePositions } from '../../../src/economy/audit.ts';
import {
  decodeAuditRequest,
  decodeAuditResponse,
  encodeAuditRequest,
  encodeAuditResponse,
} from '../../../src/wire/audit-msg.ts';
import {
  decodeReceipt,
  encodeReceipt,
  receiptOrderKey,
  receiptSigningMessage,
} from '../../../src/wire/receipt.ts';
import {
  buildEconomyVectors,
  renderVectorFile,
  VECTOR_FILE,
  type VectorFile,
} from '../../vectors/generate-economy-vectors.ts';

const text = readFileSync(VECTOR_FILE, 'utf8');
const file = JSON.parse(text) as VectorFile;
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('economy test vectors', () => {
  for (const v of file.receipts) {
    it(`receipt: ${v.name}`, () => {
      const d = decodeReceipt(unhex(v.bytes));
      assert.equal(d.kind, 'ok');
      if (d.kind !== 'ok') return;
      const r = d.value.receipt;
      assert.deepEqual(
        {
          epoch: r.epoch,
          relay: hex(r.relay),
          signer: hex(r.signer),
          tag: String(r.tag),
          cells: String(r.cells),
        },
        v.receipt,
      );
      assert.equal(hex(encodeReceipt(r)), v.bytes.slice(0, 178));
      assert.equal(hex(receiptSigningMessage(d.value.body)), v.signingMessage);
      assert.equal(hex(identityFromSeed(unhex(v.signerSeed)).publicKey), v.receipt.signer);
      assert.ok(verifyReceiptSignature(d.value));
    });
  }

  for (const v of file.invalidReceipts) {
    it(`invalid receipt: ${v.name} → ${v.code}`, () => {
      const d = decodeReceipt(unhex(v.bytes));
      assert.equal(d.kind === 'error' ? d.code : d.kind, v.code);
    });
  }

  it('claim: leaves sorted, leaf hashes and keys, root and every path', () => {
    const c = file.claim;
    const sorted = [...c.leaves].sort((a, b) => (a.slice(82, 146) < b.slice(82, 146) ? -1 : 1));
    assert.deepEqual(c.leaves, sorted, 'sorted by signer (tags differ per signer here)');
    const nodes = c.leaves.map((b, i) => {
      const d = decodeReceipt(unhex(b));
      assert.equal(d.kind, 'ok');
      if (d.kind !== 'ok') return assert.fail('unreachable');
      const { cells, signer, tag } = d.value.receipt;
      // A leaf's key is its receipt's signer || tag u64, as both min and max.
      const key = hex(signer) + tag.toString(16).padStart(16, '0');
      assert.equal(hex(receiptOrderKey(d.value.receipt)), key);
      assert.deepEqual(c.leafNodes[i], {
        hash: hex(merkleLeafHash(unhex(b))),
        sum: String(cells),
        min: key,
        max: key,
      });
      return merkleLeaf(merkleLeafHash(unhex(b)), cells, unhex(key));
    });
    const root = MerkleSumTree.build(nodes).root;
    assert.deepEqual(
      { hash: hex(root.hash), sum: String(root.sum), min: hex(root.min), max: hex(root.max) },
      c.root,
    );
    assert.equal(c.root.min, c.leafNodes[0]?.min);
    assert.equal(c.root.max, c.leafNodes.at(-1)?.max);
    for (const p of c.proofs) {
      const steps = p.steps.map((s) => ({
        hash: unhex(s.hash),
        sum: BigInt(s.sum),
        min: unhex(s.min),
        max: unhex(s.max),
        side: s.side,
      }));
      const proof = { index: p.index, leafCount: nodes.length, leaf: nodes[p.index]!, steps };
      assert.ok(verifyMerkleSumProof(proof, root));
      assert.equal(String(proofStart(proof)), p.start);
      assert.equal(
        pathIndex(
          steps.map((s) => s.side),
          nodes.length,
        ),
        p.index,
      );
    }
  });

  it('audit: positions, request and answer', () => {
    const a = file.audit;
    const cells = BigInt(file.claim.root.sum);
    const positions = samplePositions(unhex(a.claimTxId), cells, a.samples);
    assert.deepEqual(positions.map(String), a.positions);
    const req = decodeAuditRequest(unhex(a.request));
    assert.equal(req.kind, 'ok');
    if (req.kind !== 'ok') return;
    assert.deepEqual(req.value, { epoch: file.epoch, positions });
    assert.equal(hex(encodeAuditRequest(req.value)), a.request);
    const res = decodeAuditResponse(unhex(a.response));
    assert.equal(res.kind, 'ok');
    if (res.kind !== 'ok') return;
    assert.equal(hex(encodeAuditResponse(res.value)), a.response);
    const relayKey = identityFromSeed(unhex(file.relaySeed)).publicKey;
    const claim = {
      relayKey,
      epoch: file.epoch,
      cells,
      leaves: file.claim.leaves.length,
      root: unhex(file.claim.root.hash),
    };
    assert.deepEqual(checkAuditAnswer(claim, positions, res.value), { ok: true });
  });

  it('the file is exactly what the generator produces (deterministic, up to date)', () => {
    assert.equal(renderVectorFile(buildEconomyVectors()), text);
  });
});
