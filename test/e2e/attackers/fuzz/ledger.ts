// Fuzzing `/anonnet/ledger/1.0.0`: length-prefixed frames (src/consensus/net/frame-link.ts) carrying
// consensus messages (src/wire/consensus-msg.ts). The attacker also serves the protocol, so the victim
// opens its own send stream to us and we see its STATUS, votes, proposals, committed blocks and sync
// answers. Sessions send every message type: messages it sent us, replayed or with fields changed and
// re-encoded (heights, rounds, keys, signatures, block headers: structurally valid, semantically
// wrong), fresh ones signed by keys that are no validator's, byte-mutated ones, random types, and
// frames whose length prefix lies (short, zero, at and past the 8 MiB limit, cut off by a half-close
// or an abort), written whole or in pieces. SYNC_REQUESTs make the victim answer, and the answers
// become material for the next mutations.
import type { Libp2p, Stream } from '@libp2p/interface';
import { FrameReader } from '../../../../src/consensus/net/frame-link.ts';
import { type Identity, identityFromSeed } from '../../../../src/crypto/identity.ts';
import {
  type Block,
  MAX_HEIGHT,
  MAX_ROUND,
  proposalSigningBytes,
  type Vote,
  voteSigningBytes,
} from '../../../../src/wire/block.ts';
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  MAX_CONSENSUS_MESSAGE_BYTES,
} from '../../../../src/wire/consensus-msg.ts';
import { signTx, TX_KIND, type Tx } from '../../../../src/wire/ledger-tx.ts';
import type { Prng } from '../../../sim/prng.ts';
import { type FuzzContext, finish, open, Recent } from './context.ts';
import { sleep } from './conversation.ts';
import * as v from './values.ts';

export const LEDGER_PROTOCOL = '/anonnet/ledger/1.0.0';
const TAG = 'ledger';
const MAX_FRAME = MAX_CONSENSUS_MESSAGE_BYTES;

function frame(payload: Uint8Array, claimed = payload.length): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, claimed >>> 0);
  out.set(payload, 4);
  return out;
}

/** Serves the ledger protocol so the victim sends to us; keeps what it sends as fuzzing material. */
export async function listen(host: Libp2p, ctx: FuzzContext): Promise<void> {
  await host.handle(
    LEDGER_PROTOCOL,
    (stream: Stream) => {
      const reader = new FrameReader(MAX_FRAME);
      stream.addEventListener('message', (evt) => {
        let frames: Uint8Array[];
        try {
          frames = reader.push(evt.data.subarray());
        } catch {
          ctx.anomalies.add('ledger: the victim sent an oversized frame');
          stream.abort(new Error('oversized frame'));
          return;
        }
        for (const f of frames) {
          ctx.stats.inc(`${TAG}.framesIn`);
          const d = decodeConsensusMessage(f);
          if (d.kind !== 'ok') {
            ctx.stats.inc(`${TAG}.anomalies`);
            ctx.anomalies.add(`ledger: the victim sent a message that does not decode (${d.kind})`);
            continue;
          }
          if (d.value.kind === 'STATUS') ctx.ledgerTip = Math.max(ctx.ledgerTip, d.value.height);
          const kept = ctx.ledgerSeen.get(d.value.kind) ?? new Recent<Uint8Array>(8);
          ctx.ledgerSeen.set(d.value.kind, kept);
          if (f.length <= 1024 * 1024) kept.add(f);
        }
      });
    },
    { maxInboundStreams: 8, runOnLimitedConnection: false },
  );
}

function height(p: Prng, tip: number): number {
  return p.pick([
    0,
    1,
    tip,
    tip + 1,
    tip + 1,
    tip + 2,
    tip + 100,
    Math.max(0, tip - 1),
    MAX_HEIGHT,
    v.u32(p),
  ]);
}

function round(p: Prng): number {
  return p.pick([0, 0, 1, 2, 100, MAX_ROUND, Math.min(v.u32(p), MAX_ROUND)]);
}

function key(p: Prng, me: Identity): Uint8Array {
  return p.chance(0.6) ? me.publicKey : p.bytes(32);
}

function resignVote(p: Prng, vote: Vote, me: Identity): Vote {
  const { signature: _old, ...body } = vote;
  return { ...body, signature: p.chance(0.8) ? me.sign(voteSigningBytes(body)) : p.bytes(64) };
}

/** A vote with one or more fields changed, re-signed by us (no validator) or with a broken signature. */
function changeVote(p: Prng, vote: Vote, me: Identity, tip: number): Vote {
  let out: Vote = { ...vote };
  for (let i = p.int(1, 3); i > 0; i--) {
    switch (p.int(0, 5)) {
      case 0:
        out = { ...out, height: height(p, tip) };
        break;
      case 1:
        out = { ...out, round: round(p) };
        break;
      case 2:
        out = { ...out, type: out.type === 'PREVOTE' ? 'PRECOMMIT' : 'PREVOTE' };
        break;
      case 3:
        out = { ...out, blockHash: p.chance(0.5) ? null : p.bytes(32) };
        break;
      case 4:
        out = { ...out, validator: key(p, me) };
        break;
      default:
        out = { ...out, chainId: p.pick(['x', out.chainId.toUpperCase(), 'c'.repeat(32)]) };
    }
  }
  return p.chance(0.7) ? resignVote(p, out, me) : out;
}

function changeBlock(p: Prng, b: Block, tip: number): Block {
  const h = b.header;
  switch (p.int(0, 4)) {
    case 0:
      return { ...b, header: { ...h, height: height(p, tip) } };
    case 1:
      return { ...b, header: { ...h, prevHash: p.bytes(32), appHash: p.bytes(32) } };
    case 2:
      return { ...b, txs: [...b.txs, p.bytes(p.int(1, 512))] };
    case 3:
      return { ...b, lastCommit: null };
    default:
      return { ...b, header: { ...h, timeMs: v.u32(p) * 1000, proposer: p.bytes(32) } };
  }
}

/** A message of the same kind with fields changed (structurally valid, semantically wrong). */
function changeFields(p: Prng, m: ConsensusMessage, me: Identity, tip: number): ConsensusMessage {
  switch (m.kind) {
    case 'VOTE':
      return { kind: 'VOTE', vote: changeVote(p, m.vote, me, tip) };
    case 'PROPOSAL': {
      let pr = { ...m.proposal };
      const r = p.float();
      if (r < 0.3) pr = { ...pr, height: height(p, tip), round: round(p) };
      else if (r < 0.5) pr = { ...pr, polRound: p.pick([-1, 0, 1, pr.round, pr.round + 1]) };
      else pr = { ...pr, block: changeBlock(p, pr.block, tip) };
      pr = { ...pr, proposer: key(p, me) };
      const { signature: _s, ...body } = pr;
      return { kind: 'PROPOSAL', proposal: { ...pr, signature: me.sign(proposalSigningBytes(body)) } };
    }
    case 'COMMITTED': {
      const c = m.commit;
      const sigs = c.signatures;
      const commit = p.chance(0.5)
        ? { ...c, height: height(p, tip), round: round(p) }
        : { ...c, signatures: p.chance(0.5) ? [...sigs, ...sigs] : sigs.slice(0, p.int(0, sigs.length)) };
      return { kind: 'COMMITTED', block: p.chance(0.5) ? changeBlock(p, m.block, tip) : m.block, commit };
    }
    case 'SYNC_RESPONSE': {
      const blocks = [...m.blocks];
      if (blocks.length > 0 && p.chance(0.5)) blocks.reverse();
      if (blocks.length > 0 && p.chance(0.5)) blocks.push(blocks[0]!);
      return { kind: 'SYNC_RESPONSE', blocks: blocks.slice(0, 64) };
    }
    case 'STATUS':
      return { kind: 'STATUS', height: height(p, tip) };
    case 'SYNC_REQUEST':
      return { kind: 'SYNC_REQUEST', fromHeight: Math.max(1, height(p, tip)), maxBlocks: p.int(1, 64) };
    case 'TX':
      return { kind: 'TX', tx: v.mutateBytes(p, m.tx).subarray(0, 512) };
  }
}

function freshTx(p: Prng, me: Identity): Uint8Array {
  const kinds = Object.keys(TX_KIND) as Array<keyof typeof TX_KIND>;
  const header = {
    sender: me.publicKey,
    nonce: BigInt(p.pick([0, 1, 2, 1000, v.u32(p)])),
    fee: BigInt(p.int(0, 10)),
  };
  const kind = p.pick(kinds);
  const body: Tx =
    kind === 'TRANSFER'
      ? { ...header, kind, to: p.bytes(32), amount: BigInt(v.u32(p)) }
      : kind === 'CLAIM_GENESIS'
        ? { ...header, kind, powNonce: BigInt(v.u32(p)) }
        : kind === 'PARAM_PROPOSAL'
          ? { ...header, kind, paramId: v.u8(p), value: BigInt(v.u32(p)) }
          : kind === 'PARAM_VOTE'
            ? { ...header, kind, proposalId: p.bytes(32), yes: p.chance(0.5) }
            : kind === 'REGISTER_NAME'
              ? { ...header, kind, name: `n${p.u32().toString(36)}`, target: p.bytes(32) }
              : kind === 'REGISTER_RELAY'
                ? {
                    ...header,
                    kind,
                    roles: v.u8(p),
                    bandwidth: v.u32(p),
                    onionKeyHash: p.bytes(32),
                    payout: new Uint8Array(32).fill(0xcd),
                    exitPolicySummary: p.bytes(p.int(0, 256)),
                  }
                : { ...header, kind: 'VALIDATOR_CANDIDACY' };
  return signTx(body, (m) => me.sign(m)).bytes;
}

/** The chain id of the victim's own votes (a vote from another chain is refused early). */
function chainIdSeen(ctx: FuzzContext): string {
  for (const bytes of ctx.ledgerSeen.get('VOTE')?.items ?? []) {
    const d = decodeConsensusMessage(bytes);
    if (d.kind === 'ok' && d.value.kind === 'VOTE') return d.value.vote.chainId;
  }
  return 'anonnet';
}

/** One payload: a message the victim sent (replayed or changed), a fresh one, or random bytes. */
function payload(p: Prng, ctx: FuzzContext, me: Identity): Uint8Array {
  const tip = ctx.ledgerTip;
  const r = p.float();
  const seen = [...ctx.ledgerSeen.values()].flatMap((k) => k.items);
  try {
    if (r < 0.35 && seen.length > 0) {
      const bytes = p.pick(seen);
      if (p.chance(0.2)) return bytes;
      const d = decodeConsensusMessage(bytes);
      if (d.kind === 'ok') return encodeConsensusMessage(changeFields(p, d.value, me, tip));
    }
    if (r < 0.45 && seen.length > 0) return v.mutateBytes(p, p.pick(seen));
    if (r < 0.8) {
      const fresh: ConsensusMessage = p.pick<() => ConsensusMessage>([
        () => ({ kind: 'STATUS', height: height(p, tip) }),
        () => ({ kind: 'SYNC_REQUEST', fromHeight: Math.max(1, height(p, tip)), maxBlocks: p.int(1, 64) }),
        () => ({ kind: 'TX', tx: freshTx(p, me) }),
        () => ({
          kind: 'VOTE',
          vote: resignVote(
            p,
            {
              type: p.chance(0.5) ? 'PREVOTE' : 'PRECOMMIT',
              chainId: chainIdSeen(ctx),
              height: Math.max(1, height(p, tip)),
              round: round(p),
              blockHash: p.chance(0.5) ? null : p.bytes(32),
              validator: me.publicKey,
              signature: new Uint8Array(64),
            },
            me,
          ),
        }),
        () => ({ kind: 'SYNC_RESPONSE', blocks: [] }),
      ])();
      const bytes = encodeConsensusMessage(fresh);
      return p.chance(0.25) ? v.mutateBytes(p, bytes) : bytes;
    }
  } catch {
    // A changed field the encoder cannot carry: fall through to raw bytes.
  }
  return Uint8Array.of(p.chance(0.7) ? p.int(0, 9) : v.u8(p), ...p.bytes(v.length(p, 4096)));
}

/** A conversation of frames: valid, changed, mutated, random, with lying lengths now and then. */
export async function conversation(p: Prng, ctx: FuzzContext, deadline: number): Promise<void> {
  const c = await open(ctx, TAG, LEDGER_PROTOCOL);
  if (c === undefined) return;
  const me = identityFromSeed(p.bytes(32));
  const steps = p.int(1, 40);
  for (let s = 0; s < steps && !c.closed && Date.now() < deadline; s++) {
    const body = payload(p, ctx, me);
    const f = frame(body);
    if (p.chance(0.2)) {
      for (const piece of v.chop(p, f, 16)) c.send(piece);
      ctx.stats.inc(`${TAG}.framesChopped`);
    } else c.send(f);
    ctx.stats.inc(`${TAG}.framesOut`);
    if (p.chance(0.3)) await sleep(p.int(0, 100));
  }
  await lie(p, ctx, c.send.bind(c), p.chance(0.3));
  finish(ctx, TAG, c, p.chance(0.5) ? 'abort' : 'close');
}

/**
 * A frame whose length prefix lies: zero, short, exactly the limit, past it, 2^32-1; followed by fewer
 * bytes than it claims (the victim waits for the rest), then whatever the session does next.
 */
async function lie(
  p: Prng,
  ctx: FuzzContext,
  send: (b: Uint8Array) => boolean,
  always: boolean,
): Promise<void> {
  if (!always && !p.chance(0.3)) return;
  const claimed = p.pick([0, 1, 5, 100, 64 * 1024, MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1, 0xffffffff]);
  const sent = Math.min(claimed, v.length(p, 256 * 1024));
  ctx.stats.inc(`${TAG}.lyingFrames`);
  send(frame(p.bytes(sent), claimed));
  await sleep(p.int(0, 500));
}

/** Only lying frames, one after the other, at most a few MiB in all. */
export async function lyingFrames(p: Prng, ctx: FuzzContext): Promise<void> {
  const c = await open(ctx, TAG, LEDGER_PROTOCOL);
  if (c === undefined) return;
  for (let i = p.int(1, 4); i > 0 && !c.closed; i--) await lie(p, ctx, c.send.bind(c), true);
  if (p.chance(0.5)) c.halfClose();
  await sleep(p.int(0, 1_000));
  finish(ctx, TAG, c, p.chance(0.5) ? 'abort' : 'close');
}

/**
 * One large frame (up to the 8 MiB limit) written in small pieces, as a slow or cunning peer sends it:
 * the victim has to hold it until the last byte, and must not pay more than once per byte for that.
 */
export async function slowFrame(p: Prng, ctx: FuzzContext): Promise<void> {
  const c = await open(ctx, TAG, LEDGER_PROTOCOL);
  if (c === undefined) return;
  const claimed = p.pick([64 * 1024, 1024 * 1024, 4 * 1024 * 1024, MAX_FRAME]);
  const piece = p.int(512, 16 * 1024);
  c.send(frame(new Uint8Array(0), claimed));
  const junk = p.bytes(piece);
  for (let sent = 0; sent < claimed && !c.closed; sent += piece) {
    c.send(junk.subarray(0, Math.min(piece, claimed - sent)));
    await c.whenWritable(5_000);
  }
  ctx.stats.inc(`${TAG}.slowFrameBytes`, claimed);
  finish(ctx, TAG, c, p.chance(0.5) ? 'abort' : 'close');
}

/** Liveness: the victim keeps sending us STATUS (every 2 s) on its own stream. */
export async function probe(ctx: FuzzContext): Promise<boolean> {
  const before = ctx.stats.get(`${TAG}.framesIn`);
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    if (ctx.stats.get(`${TAG}.framesIn`) > before) return true;
  }
  return false;
}
