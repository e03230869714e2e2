// Fuzzing `/anonnet/circuit/2.0.0` (src/wire/cell.ts): sessions that open a channel to the victim and
// hold a conversation on it. A session builds real circuits with the project's own handshake and relay
// crypto (so the victim recognizes our RELAY cells and parses what is inside), then sends every relay
// command on them, valid, with a mutated plaintext (the digest still checks) or a mutated ciphertext,
// mixed with every link command, ids 0/1/max/random, DESTROY and CREATE reuse of ids, EXTEND to real
// relays; it reads what the victim answers (CREATED, DESTROY, relay answers decrypted with the hop
// keys) and carries on from there. Other sessions write random cells, cut cells at odd places, and
// open bursts of channels that they abort or half-close.
import { CIRCUIT_PROTOCOL } from '../../../../src/circuit/protocol.ts';
import { createHandshakeClient, type HandshakeClient } from '../../../../src/crypto/circuit-handshake.ts';
import { ClientCircuitCrypto } from '../../../../src/crypto/relay-crypto.ts';
import {
  CELL_BYTES,
  CELL_HEADER_BYTES,
  CREATE_MESSAGE_BYTES,
  decodeRelayMessage,
  encodeRelayBody,
  IDENTITY_KEY_BYTES,
  LinkCommand,
  MAX_RELAY_DATA,
  RELAY_BODY_BYTES,
  RelayCommand,
} from '../../../../src/wire/cell.ts';
import type { Prng } from '../../../sim/prng.ts';
import { type FuzzContext, finish, open, type RelayKeys } from './context.ts';
import type { Conversation } from './conversation.ts';
import { sleep } from './conversation.ts';
import * as v from './values.ts';

const TAG = 'circuit';
const RELAY_COMMANDS: readonly number[] = Object.values(RelayCommand);
const LINK_COMMANDS: readonly number[] = Object.values(LinkCommand);

/** A link cell with any id and command (ids 0 and commands the codec refuses included). */
export function rawCell(id: number, command: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(CELL_BYTES);
  new DataView(out.buffer).setUint32(0, id >>> 0);
  out[4] = command & 0xff;
  out.set(body.subarray(0, RELAY_BODY_BYTES), CELL_HEADER_BYTES);
  return out;
}

interface Circ {
  readonly id: number;
  state: 'creating' | 'open' | 'gone';
  /**
   * One entry per CREATE sent on this id and not answered yet, oldest first: its handshake, or
   * undefined for a garbled one. The victim answers each CREATE with CREATED or DESTROY, in order.
   */
  readonly pending: Array<HandshakeClient | undefined>;
  crypto: ClientCircuitCrypto | undefined;
  /** Per hop: is that relay an exit (then no hostname is ever sent to it). */
  exits: boolean[];
  pendingExtend: { hs: HandshakeClient; exit: boolean } | undefined;
  readonly streamIds: number[];
  /** Streams the exit answered with CONNECTED (a live TCP connection on its side). */
  readonly connected: number[];
  lastCell: Uint8Array | undefined;
}

/** One channel to the victim and the circuits we hold on it, following what the victim answers. */
class FuzzChannel {
  readonly circuits = new Map<number, Circ>();
  readonly #ctx: FuzzContext;
  readonly conv: Conversation;

  constructor(ctx: FuzzContext, conv: Conversation) {
    this.#ctx = ctx;
    this.conv = conv;
  }

  send(cell: Uint8Array): boolean {
    this.#ctx.stats.inc(`${TAG}.cellsOut`);
    return this.conv.send(cell);
  }

  /** Waits up to `ms` for the victim's next cell (or a close), then handles every whole cell. */
  async settle(ms: number): Promise<void> {
    if (ms > 0) await this.conv.waitBytes(CELL_BYTES, ms);
    while (this.conv.available >= CELL_BYTES) this.#onCell(this.conv.take(CELL_BYTES)!);
  }

  /** A CREATE on `id`: real when we know the victim's onion key (and `garble` is false). */
  create(p: Prng, id: number, garble: boolean): void {
    const victim = this.#ctx.victim;
    let hs: HandshakeClient | undefined;
    let body: Uint8Array;
    if (victim !== undefined) {
      hs = createHandshakeClient(victim.identityKey, victim.onionKey);
      body = hs.message;
    } else body = p.bytes(CREATE_MESSAGE_BYTES);
    if (garble) {
      body = body.slice();
      v.mutateInPlace(p, body, 3);
      hs = undefined;
    }
    const c = this.circuits.get(id);
    if (c === undefined)
      this.circuits.set(id, {
        id,
        state: 'creating',
        pending: [hs],
        crypto: undefined,
        exits: [victim?.exit ?? true],
        pendingExtend: undefined,
        streamIds: [],
        connected: [],
        lastCell: undefined,
      });
    else {
      // A second CREATE on a live id is a protocol error the victim answers with DESTROY; after a
      // DESTROY it starts a new circuit under the same id.
      c.pending.push(hs);
      if (c.state === 'gone') c.state = 'creating';
    }
    this.#ctx.stats.inc(`${TAG}.createSent`);
    this.send(rawCell(id, LinkCommand.CREATE, body));
  }

  #onCell(cell: Uint8Array): void {
    const stats = this.#ctx.stats;
    stats.inc(`${TAG}.cellsIn`);
    const id = new DataView(cell.buffer, cell.byteOffset).getUint32(0);
    const command = cell[4]!;
    const body = cell.subarray(CELL_HEADER_BYTES);
    const c = this.circuits.get(id);
    if (c === undefined) {
      // Answers to CREATEs we did not follow (random cells) land here.
      stats.inc(`${TAG}.in.untracked`);
      return;
    }
    switch (command) {
      case LinkCommand.CREATED: {
        // Cells cross on the link (our DESTROY or broken cell and a new CREATE in flight together), so
        // which CREATE an answer belongs to is sometimes a guess: counted, not an anomaly.
        if (c.pending.length === 0) return stats.inc(`${TAG}.createdUnmatched`);
        const hs = c.pending.shift();
        // ML-KEM decapsulates any ciphertext (implicit rejection), so a garbled CREATE can get CREATED.
        if (hs === undefined) return stats.inc(`${TAG}.createdForGarbled`);
        try {
          const keys = hs.finish(body);
          c.crypto = new ClientCircuitCrypto();
          c.crypto.addHop(keys);
          c.exits.length = 1;
          c.state = 'open';
          stats.inc(`${TAG}.created`);
        } catch {
          stats.inc(`${TAG}.createdUnmatched`);
        }
        return;
      }
      case LinkCommand.DESTROY:
        c.pending.shift();
        c.state = c.pending.length > 0 ? 'creating' : 'gone';
        c.crypto = undefined;
        c.pendingExtend = undefined;
        stats.inc(`${TAG}.destroyed.reason${body[0]}`);
        return;
      case LinkCommand.RELAY:
        return this.#onRelay(c, body);
      case LinkCommand.PADDING:
        stats.inc(`${TAG}.in.padding`);
        return;
      default:
        this.#anomaly(`link command ${command} from the victim`);
    }
  }

  #onRelay(c: Circ, body: Uint8Array): void {
    const stats = this.#ctx.stats;
    if (c.crypto === undefined) return this.#anomaly('RELAY on a circuit without keys');
    const hop = c.crypto.decryptBackward(body);
    if (hop < 0) {
      // Our forward state can be ahead of the victim's (a cell it dropped): not necessarily its fault.
      stats.inc(`${TAG}.in.unrecognized`);
      return;
    }
    const m = decodeRelayMessage(body);
    if (m.kind !== 'ok') {
      const view = new DataView(body.buffer, body.byteOffset);
      return this.#anomaly(
        `a relay message from hop ${hop} that does not decode (${m.kind === 'error' ? m.code : m.kind}: ` +
          `command ${body[22]}, stream ${view.getUint16(2)}, length ${view.getUint16(20)})`,
      );
    }
    stats.inc(`${TAG}.answer.${m.value.message.kind}`);
    const sid = m.value.streamId;
    if (m.value.message.kind === 'connected' && !c.connected.includes(sid) && c.connected.length < 16)
      c.connected.push(sid);
    if (m.value.message.kind === 'extended' && c.pendingExtend !== undefined) {
      try {
        c.crypto.addHop(c.pendingExtend.hs.finish(m.value.message.created));
        c.exits.push(c.pendingExtend.exit);
        stats.inc(`${TAG}.extended`);
      } catch {
        this.#anomaly('EXTENDED that fails the handshake');
      }
      c.pendingExtend = undefined;
    }
    if (m.value.message.kind === 'truncated' && hop + 1 < c.crypto.hops) {
      c.crypto.truncate(hop + 1);
      c.exits.length = hop + 1;
    }
  }

  #anomaly(what: string): void {
    this.#ctx.stats.inc(`${TAG}.anomalies`);
    this.#ctx.anomalies.add(`circuit: ${what}`);
  }
}

/** An id for a new circuit: edges (0 rarely: it closes the channel), random, or one already used. */
function pickId(p: Prng, ch: FuzzChannel, allowZero: boolean): number {
  const used = [...ch.circuits.keys()];
  if (used.length > 0 && p.chance(0.15)) return p.pick(used);
  const id = v.u32(p);
  return id === 0 && !allowZero ? 1 : id;
}

function pickStreamId(p: Prng, c: Circ, command: number): number {
  const circuitLevel =
    command === RelayCommand.EXTEND ||
    command === RelayCommand.EXTENDED ||
    command === RelayCommand.TRUNCATE ||
    command === RelayCommand.TRUNCATED ||
    command === RelayCommand.DROP;
  if (p.chance(0.1)) return v.u16(p);
  if (circuitLevel || (command === RelayCommand.SENDME && p.chance(0.5))) return 0;
  if (c.connected.length > 0 && p.chance(0.5)) return p.pick(c.connected);
  if (c.streamIds.length > 0 && p.chance(0.6)) return p.pick(c.streamIds);
  const id = p.int(1, 0xffff);
  if (c.streamIds.length < 16) c.streamIds.push(id);
  return id;
}

/** A payload for `command`: well-formed most of the time, any bytes otherwise. */
function relayPayload(p: Prng, ctx: FuzzContext, command: number, namesAllowed: boolean): Uint8Array {
  if (p.chance(0.15)) return p.bytes(v.length(p, MAX_RELAY_DATA));
  const lengthPrefixed = (h: Uint8Array): Uint8Array => Uint8Array.of(h.length, ...h.subarray(0, 255));
  // Names only for relays that are not exits (they refuse before any lookup). An exit gets malformed
  // hosts, and BEGIN to the one target the test named (a local web server) or RESOLVE of a literal.
  const host = (): Uint8Array => lengthPrefixed(namesAllowed ? v.host(p) : v.malformedHost(p));
  const target = namesAllowed ? undefined : ctx.exitTarget;
  switch (command) {
    case RelayCommand.BEGIN: {
      if (target !== undefined && p.chance(0.7)) {
        const h = new TextEncoder().encode(target.host);
        return Uint8Array.of(...lengthPrefixed(h), target.port >> 8, target.port & 0xff, v.u8(p));
      }
      const port = v.u16(p);
      return Uint8Array.of(...host(), port >> 8, port & 0xff, v.u8(p));
    }
    case RelayCommand.CONNECTED:
      return p.chance(0.5) ? new Uint8Array(0) : Uint8Array.of(4, 127, 0, 0, 1, 0, 0, 0, 60);
    case RelayCommand.DATA:
      // A request the exit's web server answers (so data flows back), or any bytes.
      if (p.chance(0.4))
        return new TextEncoder().encode(
          `GET /${p.chance(0.2) ? 'big?mib=1' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
      return p.bytes(p.int(p.chance(0.05) ? 0 : 1, MAX_RELAY_DATA));
    case RelayCommand.END:
    case RelayCommand.TRUNCATED:
      return Uint8Array.of(v.u8(p));
    case RelayCommand.EXTEND: {
      const targets = [...ctx.relays.items.map((r) => r.identityKey)];
      if (ctx.victim !== undefined) targets.push(ctx.victim.identityKey);
      const key = targets.length > 0 && p.chance(0.5) ? p.pick(targets) : p.bytes(IDENTITY_KEY_BYTES);
      return Uint8Array.of(...key, ...p.bytes(CREATE_MESSAGE_BYTES));
    }
    case RelayCommand.EXTENDED:
      return p.bytes(64);
    case RelayCommand.RESOLVE:
      return target !== undefined && p.chance(0.5)
        ? lengthPrefixed(new TextEncoder().encode(target.host))
        : host();
    case RelayCommand.RESOLVED:
      return Uint8Array.of(p.int(0, 3), p.int(0, 17), ...p.bytes(p.int(0, 40)));
    case RelayCommand.DROP:
      return p.bytes(v.length(p, MAX_RELAY_DATA));
    case RelayCommand.SENDME:
    case RelayCommand.TRUNCATE:
    case RelayCommand.FIN:
      return p.chance(0.9) ? new Uint8Array(0) : p.bytes(p.int(1, 8));
    default:
      return p.bytes(v.length(p, MAX_RELAY_DATA));
  }
}

/** One RELAY cell for hop `hop` of `c`, sealed and encrypted; `mutate` says where we break it. */
function relayCell(
  p: Prng,
  ctx: FuzzContext,
  c: Circ,
  command: number,
  hop: number,
  mutate: 'none' | 'plaintext' | 'ciphertext',
  payload?: Uint8Array,
): Uint8Array {
  const namesAllowed = c.exits[hop] === false;
  const data = (payload ?? relayPayload(p, ctx, command, namesAllowed)).subarray(0, MAX_RELAY_DATA);
  const body = encodeRelayBody(pickStreamId(p, c, command), command, data);
  // Plaintext changes survive sealing (recognized and digest are rewritten): the victim recognizes
  // the cell and parses the changed header, length, command and padding. Not towards an exit, whose
  // mutated host could become a name it resolves.
  if (mutate === 'plaintext' && namesAllowed) v.mutateInPlace(p, body, 3);
  c.crypto!.encryptForward(body, hop);
  if (mutate === 'ciphertext') v.mutateInPlace(p, body, 2);
  // EXTEND travels in RELAY_EARLY (else the victim refuses it); now and then any other command too,
  // and now and then an EXTEND in a plain RELAY cell, to reach both refusals.
  const early = command === RelayCommand.EXTEND ? p.chance(0.9) : p.chance(0.05);
  return rawCell(c.id, early ? LinkCommand.RELAY_EARLY : LinkCommand.RELAY, body);
}

/** One step of the conversation on circuit `c`; answers how long to wait for the victim. */
function step(p: Prng, ctx: FuzzContext, ch: FuzzChannel, c: Circ): number {
  const stats = ctx.stats;
  if (c.state === 'creating') return 300;
  if (c.state === 'gone') {
    // DESTROY/CREATE reuse: the same id again, or more cells for the id that is gone.
    if (p.chance(0.6)) ch.create(p, c.id, p.chance(0.2));
    else ch.send(rawCell(c.id, p.pick(LINK_COMMANDS), p.bytes(p.int(0, 64))));
    return 100;
  }
  const crypto = c.crypto!;
  if (c.connected.length > 0 && p.chance(0.3)) {
    // A live exit stream: a request its server answers, so stream data and SENDMEs flow back.
    const request = new TextEncoder().encode(
      `GET /${p.chance(0.3) ? 'big?mib=1' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const body = encodeRelayBody(p.pick(c.connected), RelayCommand.DATA, request);
    crypto.encryptForward(body, crypto.hops - 1);
    stats.inc(`${TAG}.exitRequests`);
    ch.send(rawCell(c.id, LinkCommand.RELAY, body));
    return 300;
  }
  const r = p.float();
  if (r < 0.5) {
    const command = p.chance(0.9) ? p.pick(RELAY_COMMANDS) : v.u8(p);
    const cell = relayCell(p, ctx, c, command, p.int(0, crypto.hops - 1), 'none');
    c.lastCell = cell;
    stats.inc(`${TAG}.relay.${command}`);
    ch.send(cell);
    return command === RelayCommand.BEGIN || command === RelayCommand.RESOLVE ? 200 : 20;
  }
  if (r < 0.65) {
    stats.inc(`${TAG}.relayMutatedPlain`);
    ch.send(relayCell(p, ctx, c, p.pick(RELAY_COMMANDS), p.int(0, crypto.hops - 1), 'plaintext'));
    return 30;
  }
  if (r < 0.7) {
    stats.inc(`${TAG}.relayMutatedCipher`);
    ch.send(relayCell(p, ctx, c, p.pick(RELAY_COMMANDS), p.int(0, crypto.hops - 1), 'ciphertext'));
    return 50;
  }
  if (r < 0.73 && c.lastCell !== undefined) {
    stats.inc(`${TAG}.replay`);
    ch.send(c.lastCell);
    return 50;
  }
  if (r < 0.8) {
    // A burst: stream data and SENDMEs as fast as the link takes them.
    const n = p.int(1, 40);
    const command = p.pick([RelayCommand.DATA, RelayCommand.SENDME, RelayCommand.DROP]);
    for (let i = 0; i < n; i++) ch.send(relayCell(p, ctx, c, command, crypto.hops - 1, 'none'));
    stats.inc(`${TAG}.burstCells`, n);
    return 50;
  }
  if (r < 0.86 && ctx.relays.items.length > 0 && crypto.hops < 3 && c.pendingExtend === undefined) {
    // EXTEND with a real handshake to a relay the victim knows: a second hop we can talk to.
    const target: RelayKeys = p.pick(ctx.relays.items);
    const hs = createHandshakeClient(target.identityKey, target.onionKey);
    c.pendingExtend = { hs, exit: target.exit };
    stats.inc(`${TAG}.extendSent`);
    const payload = Uint8Array.of(...target.identityKey, ...hs.message);
    ch.send(relayCell(p, ctx, c, RelayCommand.EXTEND, crypto.hops - 1, 'none', payload));
    return 1500;
  }
  // Link commands on an open circuit: PADDING, a second CREATE, CREATED the wrong way, DESTROY, unknown.
  const command = p.chance(0.85) ? p.pick(LINK_COMMANDS) : v.u8(p);
  stats.inc(`${TAG}.link.${command}`);
  if (command === LinkCommand.CREATE && p.chance(0.5)) ch.create(p, c.id, false);
  else {
    ch.send(rawCell(c.id, command, command === LinkCommand.DESTROY ? Uint8Array.of(v.u8(p)) : p.bytes(64)));
    if (command === LinkCommand.DESTROY) c.state = 'gone';
  }
  return 50;
}

/** How a session leaves its channel: reset, half-close, DESTROY everything, or a torn last cell. */
async function leave(p: Prng, ctx: FuzzContext, ch: FuzzChannel): Promise<void> {
  const r = p.float();
  if (r < 0.3) return finish(ctx, TAG, ch.conv, 'abort');
  if (r < 0.55) {
    for (const c of ch.circuits.values())
      if (c.state !== 'gone') ch.send(rawCell(c.id, LinkCommand.DESTROY, Uint8Array.of(v.u8(p))));
    await ch.settle(100);
  } else if (r < 0.75) {
    ch.conv.send(p.bytes(p.int(1, CELL_BYTES - 1)));
    await sleep(p.int(0, 300));
  }
  finish(ctx, TAG, ch.conv, p.chance(0.5) ? 'close' : 'abort');
}

/** Real circuits, then a conversation of valid and mutated cells on them. */
export async function conversation(p: Prng, ctx: FuzzContext, deadline: number): Promise<void> {
  const conv = await open(ctx, TAG, CIRCUIT_PROTOCOL);
  if (conv === undefined) return;
  const ch = new FuzzChannel(ctx, conv);
  for (let i = p.int(1, 4); i > 0; i--) ch.create(p, pickId(p, ch, false), p.chance(0.1));
  await ch.settle(2_000);
  const steps = p.int(5, 80);
  for (let s = 0; s < steps && !conv.closed && Date.now() < deadline; s++) {
    const circs = [...ch.circuits.values()];
    if (p.chance(0.05) && circs.length < 8) ch.create(p, pickId(p, ch, false), p.chance(0.2));
    const wait = step(p, ctx, ch, p.pick(circs));
    await ch.settle(p.int(0, wait));
  }
  if (conv.closedByVictim) ctx.stats.inc(`${TAG}.channelClosedByVictim`);
  await leave(p, ctx, ch);
}

/** Random cells: every link command, edge and random ids (0 included), random or garbled bodies. */
export async function randomCells(p: Prng, ctx: FuzzContext): Promise<void> {
  const conv = await open(ctx, TAG, CIRCUIT_PROTOCOL);
  if (conv === undefined) return;
  const ch = new FuzzChannel(ctx, conv);
  const zeroOk = p.chance(0.2);
  for (let i = p.int(1, 48); i > 0 && !conv.closed; i--) {
    const id = pickId(p, ch, zeroOk);
    const command = p.chance(0.8) ? p.pick(LINK_COMMANDS) : v.u8(p);
    const body =
      command === LinkCommand.CREATE && ctx.victim !== undefined && p.chance(0.5)
        ? v.mutateBytes(p, createHandshakeClient(ctx.victim.identityKey, ctx.victim.onionKey).message)
        : p.chance(0.5)
          ? p.bytes(p.int(0, RELAY_BODY_BYTES))
          : new Uint8Array(0);
    ch.send(rawCell(id, command, body));
    if (p.chance(0.2)) await ch.settle(p.int(0, 50));
  }
  await ch.settle(300);
  await leave(p, ctx, ch);
}

/** Cells written in odd pieces (a cell cut across writes, byte by byte), ending with a torn cell. */
export async function framing(p: Prng, ctx: FuzzContext): Promise<void> {
  const conv = await open(ctx, TAG, CIRCUIT_PROTOCOL);
  if (conv === undefined) return;
  const ch = new FuzzChannel(ctx, conv);
  const id = pickId(p, ch, false);
  ch.create(p, id, false);
  await ch.settle(1_500);
  const c = ch.circuits.get(id)!;
  const cells: Uint8Array[] = [];
  for (let i = p.int(1, 12); i > 0; i--) {
    if (c.state === 'open') cells.push(relayCell(p, ctx, c, p.pick(RELAY_COMMANDS), 0, 'none'));
    else cells.push(rawCell(id, p.pick(LINK_COMMANDS), p.bytes(p.int(0, 100))));
  }
  const all = Uint8Array.from(cells.flatMap((x) => [...x]));
  const tail = p.chance(0.5) ? p.bytes(p.int(1, CELL_BYTES - 1)) : new Uint8Array(0);
  const pieces = v.chop(p, Uint8Array.of(...all, ...tail), 40);
  for (const piece of pieces) {
    if (!conv.send(piece)) break;
    if (p.chance(0.2)) await sleep(p.int(0, 20));
  }
  ctx.stats.inc(`${TAG}.framedWrites`, pieces.length);
  await ch.settle(p.int(0, 500));
  await leave(p, ctx, ch);
}

/** Many channels at once, each with a CREATE, then aborted, half-closed or left for the victim. */
export async function burst(p: Prng, ctx: FuzzContext): Promise<void> {
  const n = p.int(2, 24);
  const chans = (await Promise.all(Array.from({ length: n }, () => open(ctx, TAG, CIRCUIT_PROTOCOL)))).filter(
    (c): c is Conversation => c !== undefined,
  );
  const fcs = chans.map((conv) => new FuzzChannel(ctx, conv));
  for (const ch of fcs) ch.create(p, pickId(p, ch, false), p.chance(0.3));
  await sleep(p.int(0, 400));
  for (const ch of fcs) {
    const r = p.float();
    if (r < 0.4) finish(ctx, TAG, ch.conv, 'abort');
    else if (r < 0.7) finish(ctx, TAG, ch.conv, 'close');
  }
  await sleep(p.int(0, 1_000));
  for (const ch of fcs) {
    await ch.settle(0);
    finish(ctx, TAG, ch.conv, 'abort');
  }
}

/** Liveness: a real CREATE is answered with CREATED. */
export async function probe(ctx: FuzzContext, p: Prng): Promise<boolean> {
  if (ctx.victim === undefined) return false;
  const conv = await open(ctx, 'probe.circuit', CIRCUIT_PROTOCOL);
  if (conv === undefined) return false;
  const ch = new FuzzChannel(ctx, conv);
  const id = p.int(1, 0xfffffffe);
  ch.create(p, id, false);
  await ch.settle(10_000);
  const ok = ch.circuits.get(id)?.state === 'open';
  ch.send(rawCell(id, LinkCommand.DESTROY, Uint8Array.of(0)));
  conv.halfClose();
  setTimeout(() => conv.abort(), 1_000).unref();
  return ok;
}
