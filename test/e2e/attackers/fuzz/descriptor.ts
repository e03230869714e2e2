// Fuzzing `/anonnet/descriptor/1.0.0` (src/directory/descriptor-protocol.ts): the victim answers
// `status u8 | descriptor` and closes; a requester is not supposed to write anything. Sessions fetch
// the descriptor properly (and keep it: its onion key makes our CREATEs real), write junk of any size
// into the stream, half-close or abort at any point, never read, or open more streams than allowed.
import { selectOnionKey } from '../../../../src/directory/verify-descriptor.ts';
import { decodeDescriptor, MAX_DESCRIPTOR_BYTES } from '../../../../src/wire/descriptor.ts';
import { Role } from '../../../../src/wire/descriptor-types.ts';
import type { Prng } from '../../../sim/prng.ts';
import { type FuzzContext, finish, open, type RelayKeys } from './context.ts';
import type { Conversation } from './conversation.ts';
import { sleep } from './conversation.ts';
import * as v from './values.ts';

export const DESCRIPTOR_PROTOCOL = '/anonnet/descriptor/1.0.0';
const TAG = 'descriptor';

/** The keys a descriptor record gives (undefined when it does not decode or has no usable onion key). */
export function relayKeysOf(record: Uint8Array, peerId: string): RelayKeys | undefined {
  const d = decodeDescriptor(record);
  if (d.kind !== 'ok') return undefined;
  const onionKey = selectOnionKey(d.value.descriptor.onionKeys, Date.now(), 60_000);
  if (onionKey === undefined) return undefined;
  return {
    peerId,
    identityKey: d.value.descriptor.identityKey,
    onionKey,
    exit: (d.value.descriptor.roles & Role.exit) !== 0,
  };
}

/** Reads the whole answer (the victim closes after it); undefined when there is none in time. */
async function readAnswer(c: Conversation, ms: number): Promise<Uint8Array | undefined> {
  await c.waitBytes(MAX_DESCRIPTOR_BYTES + 2, ms);
  return c.available > 0 ? c.takeAll() : undefined;
}

/** Fetches the victim's descriptor the proper way; sets ctx.victim on success. */
export async function fetchVictim(ctx: FuzzContext): Promise<boolean> {
  const c = await open(ctx, TAG, DESCRIPTOR_PROTOCOL);
  if (c === undefined) return false;
  c.halfClose();
  const answer = await readAnswer(c, 5_000);
  finish(ctx, TAG, c, 'abort');
  if (answer === undefined || answer[0] !== 0) return false;
  ctx.records.add(answer.subarray(1));
  const keys = relayKeysOf(answer.subarray(1), ctx.victimPeerId);
  if (keys !== undefined) ctx.victim = keys;
  return keys !== undefined;
}

/** Junk written into the request side, any size, with a half-close, an abort or nothing after it. */
export async function junk(p: Prng, ctx: FuzzContext): Promise<void> {
  const c = await open(ctx, TAG, DESCRIPTOR_PROTOCOL);
  if (c === undefined) return;
  const total = v.length(p, 256 * 1024);
  for (let sent = 0; sent < total && !c.closed; ) {
    const n = Math.min(total - sent, p.int(1, 16 * 1024));
    if (!c.send(p.bytes(n))) break;
    sent += n;
  }
  const r = p.float();
  if (r < 0.3) c.halfClose();
  else if (r < 0.5) await readAnswer(c, p.int(0, 1_000));
  await sleep(p.int(0, 300));
  finish(ctx, TAG, c, p.chance(0.5) ? 'abort' : 'close');
}

/** More streams at once than the victim takes (8 per connection), some never read. */
export async function parallel(p: Prng, ctx: FuzzContext): Promise<void> {
  const n = p.int(2, 20);
  const cs = (await Promise.all(Array.from({ length: n }, () => open(ctx, TAG, DESCRIPTOR_PROTOCOL)))).filter(
    (c): c is Conversation => c !== undefined,
  );
  for (const c of cs) if (p.chance(0.5)) c.halfClose();
  await sleep(p.int(0, 2_000));
  for (const c of cs) {
    const answer = c.takeAll();
    if (answer.length > 0) ctx.stats.inc(`${TAG}.answers`);
    finish(ctx, TAG, c, 'abort');
  }
}

/** Liveness: the victim still answers a descriptor request. */
export async function probe(ctx: FuzzContext): Promise<boolean> {
  const c = await open(ctx, 'probe.descriptor', DESCRIPTOR_PROTOCOL);
  if (c === undefined) return false;
  c.halfClose();
  const answer = await readAnswer(c, 10_000);
  c.abort();
  return answer !== undefined && (answer[0] === 0 || answer[0] === 1);
}
