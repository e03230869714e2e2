// Fuzzing the private DHT protocol (`/anonnet/kad/1.0.0`: libp2p kad-dht, varint-length-prefixed
// protobuf Messages). Sessions ask real questions (PING, FIND_NODE, GET_VALUE of relay records,
// GET_PROVIDERS), learn peers and descriptor records from the answers, and send every message type
// valid, mutated, with lying or broken length prefixes, unknown types, and PUT_VALUE of relay records
// they mutated (the victim's record validator parses each one). Random bytes too.
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { relayRecordKey } from '../../../../src/directory/dht-records.ts';
import type { Prng } from '../../../sim/prng.ts';
import { type FuzzContext, finish, open } from './context.ts';
import type { Conversation } from './conversation.ts';
import { relayKeysOf } from './descriptor.ts';
import * as pb from './protobuf.ts';
import * as v from './values.ts';

export const DHT_PROTOCOL = '/anonnet/kad/1.0.0';
const TAG = 'dht';

/** The string form of an Ed25519 peer id in its binary (identity multihash) form, else undefined. */
function peerIdOfBytes(b: Uint8Array): string | undefined {
  const prefix = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
  if (b.length !== 38 || prefix.some((x, i) => b[i] !== x)) return undefined;
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(b.subarray(6))).toString();
  } catch {
    return undefined;
  }
}

function randomKey(p: Prng, ctx: FuzzContext): Uint8Array {
  const r = p.float();
  if (r < 0.35)
    return relayRecordKey(
      p.chance(0.5) || ctx.peers.items.length === 0 ? ctx.victimPeerId : p.pick(ctx.peers.items),
    );
  if (r < 0.5)
    return new TextEncoder().encode(
      p.pick(['/pk/', '/ipns/', '/anonnet-relay/', '/', '//x/y', '/anonnet-relay/not-a-peer-id']),
    );
  if (r < 0.6) return new Uint8Array(0);
  return p.bytes(v.length(p, 4096));
}

/** A message of any type, mostly well-formed; `expectsAnswer` when the victim should reply. */
function message(p: Prng, ctx: FuzzContext): { bytes: Uint8Array; expectsAnswer: boolean } {
  const own = ctx.host.peerId.toMultihash().bytes;
  const peerInfo = (): Uint8Array =>
    pb.encodePeerInfo({
      id: p.chance(0.7) ? own : p.bytes(p.int(0, 64)),
      multiaddrs: Array.from({ length: p.int(0, 3) }, () => p.bytes(p.int(0, 40))),
      ...(p.chance(0.3) ? { connection: v.u8(p) } : {}),
    });
  const type = p.chance(0.9) ? p.int(0, 5) : v.u32(p);
  const fields: pb.MessageFields = {
    type,
    ...(p.chance(0.1) ? { clusterLevel: v.u32(p) } : {}),
    ...(p.chance(0.9) ? { key: randomKey(p, ctx) } : {}),
  };
  let m: pb.MessageFields = fields;
  if (type === pb.MessageType.PUT_VALUE) {
    const record =
      ctx.records.items.length > 0 && p.chance(0.8)
        ? v.mutateBytes(p, p.pick(ctx.records.items), 3)
        : p.bytes(v.length(p, 16 * 1024));
    const key = fields.key ?? relayRecordKey(ctx.victimPeerId);
    m = {
      ...fields,
      key,
      record: pb.encodeRecord(key, record, p.chance(0.3) ? new Date().toISOString() : undefined),
    };
  } else if (type === pb.MessageType.ADD_PROVIDER) {
    m = { ...fields, providers: Array.from({ length: p.int(0, 4) }, peerInfo) };
  } else if (p.chance(0.1)) {
    m = { ...fields, closer: Array.from({ length: p.int(1, 4) }, peerInfo) };
  }
  return { bytes: pb.encodeMessage(m), expectsAnswer: type >= 0 && type <= 5 };
}

/** Reads one length-prefixed answer (up to `ms`) and learns what it carries. */
async function readAnswer(ctx: FuzzContext, c: Conversation, ms: number): Promise<boolean> {
  await c.waitBytes(1, ms);
  const head = pb.readVarint(c.peek(8));
  if (head === undefined) return false;
  const [len, used] = head;
  if (!(await c.waitBytes(used + len, ms))) return false;
  c.take(used);
  const answer = c.take(len)!;
  const fields = pb.parseFields(answer);
  if (fields === undefined) {
    ctx.stats.inc(`${TAG}.anomalies`);
    ctx.anomalies.add(
      `dht: an answer that is not protobuf: ${Buffer.from(answer.subarray(0, 48)).toString('hex')}`,
    );
    return false;
  }
  ctx.stats.inc(`${TAG}.answers`);
  for (const info of [...pb.bytesFields(fields, 8), ...pb.bytesFields(fields, 9)]) {
    const id = pb.parseFields(info);
    const peer = id && peerIdOfBytes(pb.bytesFields(id, 1)[0] ?? new Uint8Array(0));
    if (peer !== undefined && !ctx.peers.items.includes(peer)) ctx.peers.add(peer);
  }
  for (const rec of pb.bytesFields(fields, 3)) {
    const r = pb.parseFields(rec);
    const key = r && pb.bytesFields(r, 1)[0];
    const value = r && pb.bytesFields(r, 2)[0];
    if (key === undefined || value === undefined) continue;
    ctx.records.add(value);
    learnRelay(ctx, key, value);
  }
  return true;
}

function learnRelay(ctx: FuzzContext, key: Uint8Array, value: Uint8Array): void {
  const name = new TextDecoder().decode(key);
  const peerId = name.startsWith('/anonnet-relay/') ? name.slice('/anonnet-relay/'.length) : undefined;
  if (peerId === undefined || peerId === ctx.victimPeerId) return;
  if (ctx.relays.items.some((r) => r.peerId === peerId)) return;
  const keys = relayKeysOf(value, peerId);
  // Extend targets are never exits: nothing we send may make anyone resolve a name.
  if (keys !== undefined && !keys.exit) ctx.relays.add(keys);
}

/** Finds peers through the victim and fetches their relay records from it (extend targets). */
export async function discover(ctx: FuzzContext, p: Prng): Promise<void> {
  const c = await open(ctx, TAG, DHT_PROTOCOL);
  if (c === undefined) return;
  c.send(pb.lengthPrefixed(pb.encodeMessage({ type: pb.MessageType.FIND_NODE, key: p.bytes(32) })));
  await readAnswer(ctx, c, 5_000);
  for (const peer of [ctx.victimPeerId, ...ctx.peers.items]) {
    c.send(
      pb.lengthPrefixed(pb.encodeMessage({ type: pb.MessageType.GET_VALUE, key: relayRecordKey(peer) })),
    );
    await readAnswer(ctx, c, 5_000);
  }
  finish(ctx, TAG, c, 'close');
}

/** A conversation of valid and mutated messages; answers read and learnt from. */
export async function conversation(p: Prng, ctx: FuzzContext, deadline: number): Promise<void> {
  const c = await open(ctx, TAG, DHT_PROTOCOL);
  if (c === undefined) return;
  const steps = p.int(1, 24);
  for (let s = 0; s < steps && !c.closed && Date.now() < deadline; s++) {
    const m = message(p, ctx);
    const r = p.float();
    if (r < 0.55) {
      ctx.stats.inc(`${TAG}.valid`);
      c.send(pb.lengthPrefixed(m.bytes));
      if (m.expectsAnswer) await readAnswer(ctx, c, 2_000);
    } else if (r < 0.85) {
      ctx.stats.inc(`${TAG}.mutated`);
      c.send(pb.lengthPrefixed(v.mutateBytes(p, m.bytes)));
      if (p.chance(0.5)) await readAnswer(ctx, c, 300);
    } else {
      // The length prefix lies: shorter or longer than the message, or not a varint at all.
      ctx.stats.inc(`${TAG}.lyingLength`);
      const lie = p.pick([0, 1, m.bytes.length + p.int(1, 100), 0x7fffffff, 4 * 1024 * 1024 + 1]);
      const prefix = p.chance(0.2) ? new Array(10).fill(0xff) : pb.varint(lie);
      c.send(Uint8Array.of(...prefix, ...m.bytes));
      await readAnswer(ctx, c, 200);
    }
  }
  const r = p.float();
  finish(ctx, TAG, c, r < 0.5 ? 'abort' : 'close');
}

/** Random bytes, any amount, written in pieces. */
export async function randomBytes(p: Prng, ctx: FuzzContext): Promise<void> {
  const c = await open(ctx, TAG, DHT_PROTOCOL);
  if (c === undefined) return;
  const data = p.bytes(v.length(p, 64 * 1024));
  for (const piece of v.chop(p, data, 8)) if (!c.send(piece)) break;
  await readAnswer(ctx, c, p.int(0, 500));
  finish(ctx, TAG, c, p.chance(0.5) ? 'abort' : 'close');
}

/** Liveness: the victim answers a PING. */
export async function probe(ctx: FuzzContext): Promise<boolean> {
  const c = await open(ctx, 'probe.dht', DHT_PROTOCOL);
  if (c === undefined) return false;
  c.send(pb.lengthPrefixed(pb.encodeMessage({ type: pb.MessageType.PING })));
  const ok = await readAnswer(ctx, c, 10_000);
  c.abort();
  return ok;
}
