// The audit protocol between two real libp2p hosts (/anonnet/audit/1.0.0, docs/protocol.md "Audits"): a
// validator gets an answer that checks against the relay's claim; a peer outside the validator set is
// refused; a request for an epoch with no claim gets "no claim"; an oversized or malformed request ends
// the stream and leaves the relay serving the next audit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Libp2p } from '@libp2p/interface';
import { identityFromSeed } from '../../src/crypto/identity.ts';
import { checkAuditAnswer, samplePositions } from '../../src/economy/audit.ts';
import {
  AUDIT_PROTOCOL,
  AuditFetchError,
  fetchAudit,
  serveAudits,
} from '../../src/economy/audit-protocol.ts';
import { receiptSigner } from '../../src/economy/circuit-economy.ts';
import { Claimer } from '../../src/economy/claimer.ts';
import type { IdentityTxs } from '../../src/economy/identity-txs.ts';
import { ReceiptBook } from '../../src/economy/receipt-book.ts';
import { genesisState } from '../../src/ledger/genesis.ts';
import { keyHex, type LedgerState } from '../../src/ledger/state.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createHost, type Host } from '../../src/p2p/host.ts';
import { MAX_AUDIT_REQUEST_BYTES } from '../../src/wire/audit-msg.ts';
import { loopbackHostOptions } from './lib/mini-net.ts';

const seeds = { relay: 11, validator: 12, stranger: 13, neighbour: 14 } as const;
const id = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
const relay = id(seeds.relay);
const validator = id(seeds.validator);
const host = (n: number) =>
  createHost({
    identitySeed: new Uint8Array(32).fill(n),
    options: loopbackHostOptions,
    validators: {},
    selectors: {},
    agentVersion: 'test',
  });

const claimTxId = new Uint8Array(32).fill(5);
let relayHost: Host;
let validatorHost: Host;
let strangerHost: Host;
let claimer: Claimer;
let state: LedgerState;
/** What the relay submitted: the RELAY_CLAIM body. */
let submitted: { epoch: number; cells: bigint; leaves: number; root: Uint8Array };

/** A relay with a claim for epoch 0 built from its receipts of 3 circuits, and a validator. */
before(async () => {
  [relayHost, validatorHost, strangerHost] = await Promise.all([
    host(seeds.relay),
    host(seeds.validator),
    host(seeds.stranger),
  ]);
  state = genesisState({
    chainId: 'audit-test',
    params: { epochLength: 10, powDifficulty: 0, validatorCount: 1 },
    validators: [validator.publicKey],
  });
  // At height 12 (epoch 1): the claim for epoch 0 may be made.
  state = { ...state, height: 12 };
  const book = new ReceiptBook(relay.publicKey);
  const signer = receiptSigner(id(seeds.neighbour), () => 0);
  for (let tag = 1n; tag <= 3n; tag++) book.accept(signer.sign(0, relay.publicKey, tag, 512n * tag).bytes, 0);
  const sent: (typeof submitted)[] = [];
  const txs = {
    send: async (body: typeof submitted) => {
      sent.push(body);
      return { ok: true, height: 13 };
    },
  } as unknown as IdentityTxs;
  claimer = new Claimer(
    relay.publicKey,
    book,
    txs,
    '/tmp/anonnet-audit-test',
    createLogger({ level: 'silent' }),
  );
  // The relay must be registered with a bond to claim.
  state = {
    ...state,
    relays: new Map([
      [
        keyHex(relay.publicKey),
        {
          roles: 1,
          bandwidth: 1,
          onionKeyHash: new Uint8Array(32),
          exitPolicySummary: new Uint8Array(0),
          height: 1,
          payout: keyHex(relay.publicKey),
          bond: 100n as never,
          measured: null,
          earned: 0n as never,
        },
      ],
    ]),
  };
  claimer.onState(state, AbortSignal.timeout(10_000));
  await until(() => sent.length === 1);
  submitted = sent[0]!;
  // Committed: the relay answers audits of the claim the ledger holds (by its root).
  const claimOnLedger = { ...submitted, txId: claimTxId };
  state = {
    ...state,
    economy: { ...state.economy, claims: new Map([[keyHex(relay.publicKey), claimOnLedger]]) },
  };
  await serveAudits(relayHost, (from, req) => claimer.answer(state, from, req));
  await validatorHost.dial(relayHost.getMultiaddrs());
  await strangerHost.dial(relayHost.getMultiaddrs());
});

after(async () => {
  await Promise.all([relayHost?.stop(), validatorHost?.stop(), strangerHost?.stop()]);
});

async function until(p: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!p()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fetchFrom(h: Libp2p, epoch = 0) {
  const positions = samplePositions(claimTxId, submitted.cells, 48);
  const answer = await fetchAudit(h, relayHost.peerId, { epoch, positions }, AbortSignal.timeout(10_000));
  return { positions, answer };
}

describe('audit protocol', () => {
  it("answers a validator with leaves that check against the relay's claim", async () => {
    const { positions, answer } = await fetchFrom(validatorHost);
    assert.equal(answer.entries.length, 48);
    assert.deepEqual([submitted.epoch, submitted.cells, submitted.leaves], [0, 512n * 6n, 3]);
    const claim = { relayKey: relay.publicKey, ...submitted };
    assert.deepEqual(checkAuditAnswer(claim, positions, answer), { ok: true });
    // The same answer does not check against another root (a claim the relay did not make).
    const other = { ...claim, root: new Uint8Array(32) };
    assert.equal(checkAuditAnswer(other, positions, answer).ok, false);
  });

  it('refuses a peer outside the validator set', async () => {
    await assert.rejects(
      fetchFrom(strangerHost),
      (e: unknown) => e instanceof AuditFetchError && e.code === 'REFUSED',
    );
  });

  it('says "no claim" for an epoch it did not claim', async () => {
    await assert.rejects(
      fetchFrom(validatorHost, 3),
      (e: unknown) => e instanceof AuditFetchError && e.code === 'NO_CLAIM',
    );
  });

  it('ends an oversized or malformed request and keeps serving', async () => {
    for (const bytes of [new Uint8Array(MAX_AUDIT_REQUEST_BYTES + 100), new Uint8Array([1, 2, 3])]) {
      const stream = await strangerHost.dialProtocol(relayHost.peerId, AUDIT_PROTOCOL);
      const closed = new Promise<void>((resolve) =>
        stream.addEventListener('close', () => resolve(), { once: true }),
      );
      stream.send(bytes);
      await stream.close().catch(() => {});
      await closed;
    }
    const { answer } = await fetchFrom(validatorHost);
    assert.equal(answer.entries.length, 48);
  });
});
