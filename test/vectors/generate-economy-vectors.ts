// Generates test/vectors/economy.json: proof-of-relay test vectors for AnonNet and for any other
// implementation: link receipts (valid, with Ed25519 signatures from fixed seeds, and invalid ones with
// their decode codes), a claim's Merkle sum tree (leaves with their keys, root, every leaf's path with the
// siblings' sums and min and max keys), the audit positions
// sampled for a fixed claim txId, and an audit request and answer. Deterministic (Ed25519 signatures
// are), so running it again gives the same file.
//
//   node test/vectors/generate-economy-vectors.ts        (rewrites economy.json)
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { identityFromSeed } from '../../src/crypto/identity.ts';
import type { MerkleSumNode, MerkleSumStep } from '../../src/crypto/merkle-sum.ts';
import { signReceiptWith } from '../../src/crypto/receipt-signature.ts';
import { samplePositions } from '../../src/economy/audit.ts';
import { answerAudit, buildClaim } from '../../src/economy/claim.ts';
import { encodeAuditRequest, encodeAuditResponse } from '../../src/wire/audit-msg.ts';
import { decodeReceipt, receiptSigningMessage, type SignedReceipt } from '../../src/wire/receipt.ts';

export const VECTOR_FILE = new URL('./economy.json', import.meta.url);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha = (label: string) => new Uint8Array(createHash('sha256').update(`anonnet-test-vector:${label}`).digest());

export interface NodeJson {
  hash: string;
  sum: string;
  /** The smallest and largest leaf key below the node: signer (32) || tag u64, hex. */
  min: string;
  max: string;
}

export interface VectorFile {
  description: string;
  relaySeed: string;
  epoch: number;
  receipts: {
    name: string;
    signerSeed: string;
    receipt: { epoch: number; relay: string; signer: string; tag: string; cells: string };
    signingMessage: string;
    bytes: string;
  }[];
  invalidReceipts: { name: string; bytes: string; code: string }[];
  claim: {
    /** Receipt bytes in leaf order: sorted by (signer, tag). */
    leaves: string[];
    leafNodes: NodeJson[];
    root: NodeJson;
    proofs: { index: number; start: string; steps: (NodeJson & { side: 'left' | 'right' })[] }[];
  };
  audit: { claimTxId: string; samples: number; positions: string[]; request: string; response: string };
}

const node = (n: MerkleSumNode): NodeJson => ({
  hash: hex(n.hash),
  sum: n.sum.toString(),
  min: hex(n.min),
  max: hex(n.max),
});
const step = (s: MerkleSumStep) => ({ ...node(s), side: s.side });

export function buildEconomyVectors(): VectorFile {
  const relaySeed = sha('relay');
  const relay = identityFromSeed(relaySeed);
  const epoch = 42;
  const specs = [
    { name: 'client throwaway key, first receipt (512 cells = 1 MiB)', cells: 512n, tag: 0x0123456789abcdefn },
    { name: 'relay receiver, closing receipt', cells: 1337n, tag: 7n },
    { name: 'large count', cells: 0xfedcba9876n, tag: 0xffffffffffffffffn },
    { name: 'a single cell', cells: 1n, tag: 0n },
    { name: 'another circuit', cells: 4096n, tag: 99n },
  ];
  const signed: SignedReceipt[] = [];
  const receipts = specs.map((s, i) => {
    const signerSeed = sha(`signer-${i}`);
    const signer = identityFromSeed(signerSeed);
    const r = signReceiptWith(signer, {
      epoch,
      relay: relay.publicKey,
      signer: signer.publicKey,
      tag: s.tag,
      cells: s.cells,
    });
    signed.push(r);
    return {
      name: s.name,
      signerSeed: hex(signerSeed),
      receipt: {
        epoch,
        relay: hex(relay.publicKey),
        signer: hex(signer.publicKey),
        tag: s.tag.toString(),
        cells: s.cells.toString(),
      },
      signingMessage: hex(receiptSigningMessage(r.body)),
      bytes: hex(r.bytes),
    };
  });
  const good = (signed[0] as SignedReceipt).bytes;
  const changed = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return hex(b);
  };
  const invalidReceipts = [
    { name: 'wrong magic', bytes: changed(3, 0x44), code: 'BAD_MAGIC' },
    { name: 'version 2', bytes: changed(4, 2), code: 'BAD_VERSION' },
    { name: 'one byte too many', bytes: `${hex(good)}00`, code: 'TRAILING_BYTES' },
    { name: 'one byte short', bytes: hex(good.subarray(0, 152)), code: 'needMore' },
  ];
  for (const v of invalidReceipts) {
    const d = decodeReceipt(new Uint8Array(Buffer.from(v.bytes, 'hex')));
    if ((d.kind === 'error' ? d.code : d.kind) !== v.code) throw new Error(`vector ${v.name}: not ${v.code}`);
  }

  const built = buildClaim(relay.publicKey, epoch, signed);
  const claimTxId = sha('claim-tx');
  const samples = 8;
  const positions = samplePositions(claimTxId, built.claim.cells, samples);
  return {
    description:
      'Proof-of-relay vectors (docs/economy.md): receipt v1, the claim Merkle sum tree (nodes commit hash, sum, min and max key), audit sampling and messages.',
    relaySeed: hex(relaySeed),
    epoch,
    receipts,
    invalidReceipts,
    claim: {
      leaves: built.receipts.map(hex),
      leafNodes: built.receipts.map((_, i) => node(built.tree.leaf(i))),
      root: node(built.tree.root),
      proofs: built.receipts.map((_, i) => ({
        index: i,
        start: built.tree.start(i).toString(),
        steps: built.tree.proof(i).steps.map(step),
      })),
    },
    audit: {
      claimTxId: hex(claimTxId),
      samples,
      positions: positions.map(String),
      request: hex(encodeAuditRequest({ epoch, positions })),
      response: hex(encodeAuditResponse(answerAudit(built, positions))),
    },
  };
}

export function renderVectorFile(v: VectorFile): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(VECTOR_FILE, renderVectorFile(buildEconomyVectors()));
  console.log(`wrote ${VECTOR_FILE.pathname}`);
}
