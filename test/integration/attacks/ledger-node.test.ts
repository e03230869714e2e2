// A ledger node's height handling and peer bounds against a real attacker host, in one process: a
// one-validator chain (it commits alone) with a 250 ms block interval on a real libp2p host, and a
// stock libp2p attacker speaking /anonnet/ledger/1.0.0 frames by hand (test/e2e/attackers/).
// - STATUS / PROPOSAL / VOTE claiming a height of 2^40 leave the block interval alone, cost the node a
//   sync request or two (the unanswered claim is penalised), and go when the liar disconnects;
// - SYNC_REQUEST answers are bounded per peer (a burst, then the rate);
// - a SYNC_RESPONSE nobody asked for and a frame larger than its type allows are refused unread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LedgerLimitsInput } from '../../../src/consensus/ledger-limits.ts';
import { LedgerNode } from '../../../src/consensus/ledger-node.ts';
import { LedgerNet } from '../../../src/consensus/net/ledger-net.ts';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createHost, type Host } from '../../../src/p2p/host.ts';
import { CONSENSUS_MSG_TYPE, encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { createAttackerHost } from '../../e2e/attackers/attacker-host.ts';
import { junkProposal, junkVote } from '../../e2e/attackers/ledger-junk-msgs.ts';
import { type LedgerLink, listenLedger, openLedgerLink } from '../../e2e/attackers/ledger-link.ts';
import { until } from '../../e2e/lib/testnet.ts';
import { loopbackHostOptions } from '../lib/mini-net.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERVAL_MS = 250;
const CHAIN = 'ledger-node-attacks';

let dir: string;
let host: Host;
let node: LedgerNode;
const validator = generateIdentity();
const genesis = {
  chainId: CHAIN,
  params: { blockIntervalMs: INTERVAL_MS, validatorCount: 1, powDifficulty: 0, epochLength: 1000 },
  validators: [validator.publicKey],
  accounts: [],
};
const extra: Array<{ node: LedgerNode; host: Host }> = [];

/** A ledger node on its own real libp2p host (the validator, or a follower with a fresh key). */
async function startNode(
  name: string,
  identity = generateIdentity(),
  limits: LedgerLimitsInput = {},
): Promise<{ node: LedgerNode; host: Host }> {
  const h = await createHost({
    identitySeed: identity.seed,
    options: loopbackHostOptions,
    validators: {},
    selectors: {},
    agentVersion: 'anonnet-ledger-node-test',
  });
  const net = new LedgerNet(h);
  await net.start();
  const n = new LedgerNode({
    genesis,
    storePath: join(dir, `${name}.sqlite`),
    signStatePath: join(dir, `${name}-sign-state.json`),
    identity,
    net,
    log: createLogger({ level: 'silent' }),
    timeouts: { proposeMs: 400, prevoteMs: 150, precommitMs: 150, deltaMs: 50 },
    limits,
  });
  n.start();
  return { node: n, host: h };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-ledger-node-'));
  // Small sync answers (a few blocks each) at 2 a second with a burst of 2: a late node needs more
  // answers than the burst, as it would to catch up a long chain.
  ({ node, host } = await startNode('validator', validator, {
    sync: { answersPerSecond: 2, burstSeconds: 1, maxAnswerBytes: 2048 },
  }));
  await until(() => node.height >= 2, 20_000, 'first blocks');
});

after(async () => {
  for (const e of extra) {
    e.node.stop();
    await e.host.stop();
  }
  node?.stop();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function attacker(
  onFrame?: (payload: Uint8Array) => void,
): Promise<{ link: LedgerLink; stop: () => Promise<void> }> {
  const a = await createAttackerHost();
  await listenLedger(a, (_from, payload) => onFrame?.(payload));
  const address = host.getMultiaddrs()[0]!.toString();
  const link = await openLedgerLink(a, address);
  return {
    link,
    stop: async () => {
      await a.stop();
    },
  };
}

async function rate(ms: number): Promise<number> {
  const h0 = node.height;
  await sleep(ms);
  return (node.height - h0) / (ms / 1000);
}

describe('ledger node under hostile peers', () => {
  it('lying heights leave the block interval alone and go with the liar', async () => {
    const normal = await rate(2000);
    let syncRequests = 0;
    const liar = await attacker((p) => {
      if (p[0] === CONSENSUS_MSG_TYPE.SYNC_REQUEST) syncRequests++;
    });
    const lies = [
      encodeConsensusMessage({ kind: 'STATUS', height: 2 ** 40 }),
      encodeConsensusMessage({
        kind: 'PROPOSAL',
        proposal: junkProposal(CHAIN, 2 ** 40, 0, generateIdentity().publicKey, 100),
      }),
      encodeConsensusMessage({
        kind: 'VOTE',
        vote: junkVote(CHAIN, 2 ** 40, 0, generateIdentity().publicKey),
      }),
    ];
    const h0 = node.height;
    const t0 = Date.now();
    let sent = 0;
    // Longer than the 5 s a sync request waits for its answer, so the unanswered claim is penalised.
    while (Date.now() - t0 < 6500) {
      for (const m of lies) await liar.link.send(m);
      sent += lies.length;
      await sleep(20);
    }
    const during = (node.height - h0) / ((Date.now() - t0) / 1000);
    assert.ok(node.status().guard.highestClaim <= 2 ** 40);
    await liar.stop();
    await until(() => node.status().guard.highestClaim === 0, 5000, 'the claim gone with the liar');
    const afterRate = await rate(2000);
    const ceiling = Math.max(2 * normal, normal + 1);
    assert.ok(during < ceiling, `during ${during} vs normal ${normal}`);
    assert.ok(afterRate < ceiling, `after ${afterRate} vs normal ${normal}`);
    assert.ok(during <= 1000 / INTERVAL_MS, 'never more than one block per interval');
    assert.ok(syncRequests >= 1 && syncRequests <= 2, `sync requests: ${syncRequests} for ${sent} lies`);
    assert.ok((node.status().guard.refusals['HEIGHT_CLAIM_FAILED'] ?? 0) >= 1, 'the claim was penalised');
  });

  it('refuses proposals and votes that do not verify, for the heights it is deciding', async () => {
    const peer = await attacker();
    const v = node.status().validators[0]!;
    const key = new Uint8Array(Buffer.from(v, 'hex'));
    const refused = () => node.status().guard.refusals['LEDGER_BAD_CONSENSUS'] ?? 0;
    // The tip moves every 250 ms: a message aimed at tip + 1 can arrive once that height is committed
    // (then it is dropped unchecked, rightly). Each kind is sent again, for the new tip, until refused.
    const refusedEach = async (make: (h: number) => Uint8Array, what: string) => {
      const before = refused();
      const deadline = Date.now() + 5000;
      while (refused() === before) {
        assert.ok(Date.now() < deadline, `the ${what} was refused`);
        await peer.link.send(make(node.height + 1));
        await sleep(100);
      }
    };
    await refusedEach(
      (h) => encodeConsensusMessage({ kind: 'PROPOSAL', proposal: junkProposal(CHAIN, h, 0, key, 50_000) }),
      'junk proposal',
    );
    await refusedEach(
      (h) => encodeConsensusMessage({ kind: 'VOTE', vote: junkVote(CHAIN, h + 1, 0, key) }),
      'junk vote',
    );
    await peer.stop();
  });

  it('answers SYNC_REQUESTs within its per-peer budget', async () => {
    let answers = 0;
    const peer = await attacker((p) => {
      if (p[0] === CONSENSUS_MSG_TYPE.SYNC_RESPONSE) answers++;
    });
    // Let the node's stream to us open (its answers travel on it).
    await sleep(500);
    const request = encodeConsensusMessage({ kind: 'SYNC_REQUEST', fromHeight: 1, maxBlocks: 64 });
    for (let i = 0; i < 50; i++) await peer.link.send(request);
    await sleep(1000);
    // The burst (2), and the one request allowed to wait for the budget.
    assert.ok(answers >= 1, 'honest requests are answered');
    assert.ok(answers <= 6, `answers: ${answers} of 50`);
    assert.ok((node.status().guard.refusals['SYNC_LIMIT'] ?? 0) >= 38);
    await peer.stop();
  });

  it('a node that joins late catches up by sync, paced by the budget, never penalising', async () => {
    await until(() => node.height >= 40, 60_000, 'a chain to catch up with');
    const late = await startNode('late');
    extra.push(late);
    const t0 = Date.now();
    await late.host.dial(host.getMultiaddrs()[0]!);
    await until(() => late.node.height >= node.height - 1, 30_000, 'the late node synced');
    const s = late.node.status();
    assert.equal(s.guard.refusals['HEIGHT_CLAIM_FAILED'] ?? 0, 0, 'the honest claim never failed');
    assert.ok(node.status().guard.syncAnswers > 2, 'more answers than the burst');
    process.stdout.write(`# late node: ${late.node.height} blocks in ${Date.now() - t0} ms\n`);
  });

  it('refuses unsolicited sync answers and oversized frames before decoding them', async () => {
    const peer = await attacker();
    const before = node.status().guard.refusals;
    const response = encodeConsensusMessage({ kind: 'SYNC_RESPONSE', blocks: [] });
    await peer.link.send(response);
    const fatVote = new Uint8Array(10_000);
    fatVote[0] = CONSENSUS_MSG_TYPE.VOTE;
    await peer.link.send(fatVote);
    await until(
      () => {
        const r = node.status().guard.refusals;
        return (
          (r['SYNC_UNSOLICITED'] ?? 0) > (before['SYNC_UNSOLICITED'] ?? 0) &&
          (r['LEDGER_OVERSIZE'] ?? 0) > (before['LEDGER_OVERSIZE'] ?? 0)
        );
      },
      5000,
      'both refused',
    );
    await peer.stop();
    const h = node.height;
    await until(() => node.height > h, 5000, 'the node still commits');
  });
});
