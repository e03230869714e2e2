// Circuit cells: the fixed-size link cell two adjacent nodes exchange on a `/anonnet/circuit/2.0.0`
// stream, the plaintext relay body inside a RELAY cell, and the relay messages it carries.
// Specification: docs/protocol.md, "Circuits". Pure codecs: decoders never throw.
//
// Link cell, CELL_BYTES = 2048 bytes, back to back on the stream:
//
//   offset  size   field
//   ------  -----  -----------------------------------------------------------
//        0  4      circuitId (u32, nonzero, chosen at random by the node that opened the link stream)
//        4  1      command (u8): PADDING 0, CREATE 1, CREATED 2, RELAY 3, DESTROY 4, RELAY_EARLY 5,
//                  RECEIPT 6 (body: a 153-byte link receipt, wire/receipt.ts, then zeros); others kept
//        5  2043   body (RELAY_BODY_BYTES): zero-padded for CREATE, CREATED, DESTROY and PADDING; RELAY and
//                  RELAY_EARLY carry the same encrypted relay body (at most MAX_RELAY_EARLY_CELLS
//                  RELAY_EARLY cells per circuit, and EXTEND only in one of them)
//
// Relay body (the RELAY cell body once every layer of encryption is off), 2043 bytes:
//
//   offset  size   field
//   ------  -----  -----------------------------------------------------------
//        0  2      recognized (u16) = 0
//        2  2      streamId (u16): 0 = the circuit itself
//        4  16     digest (relay-crypto.ts fills and checks it; zero in this codec's output)
//       20  2      length (u16) = number of data bytes, 0..MAX_RELAY_DATA
//       22  1      command (u8): RelayCommand; unknown commands are kept
//       23  length data: the relay message payload (layouts below, encodeRelayPayload)
//        .  rest   padding: zero bytes, except in DATA, whose padding may be any bytes (random in the DATA
//                  cell that makes a circuit SENDME due, so that its digest cannot be predicted)
//
// Relay message payloads (the `data` above), per command:
//
//   BEGIN 1       hostLen u8 (1..255) | host (UTF-8) | port u16 (1..65535) | flags u8
//   CONNECTED 2   nothing, or one address: family u8 (4|6) | address (4|16) | ttl u32 (seconds)
//   DATA 3        1..MAX_RELAY_DATA bytes of stream data
//   END 4         reason u8 (EndReason)
//   SENDME 5      nothing (version 0: the stream-level SENDME, streamId != 0), or an authenticator:
//                 version u8 (1..255) | dataLen u16 | data (dataLen bytes). Version 1 (every circuit-level
//                 SENDME, streamId 0): dataLen 16, data = the digest field of the DATA cell that made the
//                 SENDME due (Tor proposal 289). Other versions are kept.
//   EXTEND 6      identityKey (32) | CREATE message (CREATE_MESSAGE_BYTES = 1128)
//   EXTENDED 7    CREATED message (CREATED_MESSAGE_BYTES = 64)
//   TRUNCATE 8    nothing
//   TRUNCATED 9   reason u8 (DestroyReason)
//   RESOLVE 10    hostLen u8 (1..255) | host (UTF-8)
//   RESOLVED 11   status u8 (0 ok, 1 transient error, 2 permanent error) | count u8 (ok: 1..16,
//                 error: 0) | count addresses (family u8 | address (4|16) | ttl u32)
//   DROP 12       any bytes (long-range padding; the receiver drops the cell)
//   FIN 13        nothing: the sender will write no more on this stream (half-close)
//   MEASURE 14    bytes u32 (1..MAX_MEASURE_BYTES): a bandwidth measurement (docs/economy.md): the last hop
//                 of a one-hop circuit answers with DROP cells carrying `bytes` bytes, then MEASURED
//   MEASURED 15   nothing: the measurement's last cell
import type { Brand } from './brand.ts';
import { NeedMoreBytes, Reader, Writer } from './bytes.ts';
import { type DecodeResult, decodeError, needMore } from './decode-result.ts';
import { WireError } from './errors.ts';
import { isValidHost, MAX_HOST_BYTES } from './host.ts';

/** Bytes in every link cell. 2048: one CREATE (1128 bytes) and one EXTEND (1183) fit in one cell. */
export const CELL_BYTES = 2048;
export const CELL_HEADER_BYTES = 5;
/** Offset of the link command in a cell (after the 4-byte circuit id). */
export const CELL_COMMAND_OFFSET = 4;
/** The body of a link cell: what the relay layers encrypt. */
export const RELAY_BODY_BYTES = CELL_BYTES - CELL_HEADER_BYTES;

/** Offsets inside a relay body (relay-crypto.ts reads and writes recognized and digest). */
export const RELAY_RECOGNIZED_OFFSET = 0;
export const RELAY_STREAM_ID_OFFSET = 2;
export const RELAY_DIGEST_OFFSET = 4;
export const RELAY_DIGEST_BYTES = 16;
export const RELAY_LENGTH_OFFSET = RELAY_DIGEST_OFFSET + RELAY_DIGEST_BYTES;
export const RELAY_COMMAND_OFFSET = RELAY_LENGTH_OFFSET + 2;
export const RELAY_HEADER_BYTES = RELAY_COMMAND_OFFSET + 1;
/** Most stream bytes one DATA cell carries (2020). */
export const MAX_RELAY_DATA = RELAY_BODY_BYTES - RELAY_HEADER_BYTES;

/** Sizes of the circuit handshake messages (crypto/circuit-handshake.ts). */
export const CREATE_MESSAGE_BYTES = 8 + 32 + 1088;
export const CREATED_MESSAGE_BYTES = 32 + 32;
export const IDENTITY_KEY_BYTES = 32;
export const EXTEND_PAYLOAD_BYTES = IDENTITY_KEY_BYTES + CREATE_MESSAGE_BYTES;

/**
 * RELAY_EARLY cells a circuit may carry from the client side, as Tor's: every EXTEND travels in one and
 * every relay passes them on as RELAY_EARLY, so the first hop sees them all and a circuit has at most
 * 8 extends (9 hops), however it loops.
 */
export const MAX_RELAY_EARLY_CELLS = 8;

/** SENDME authenticator versions: 1 names the digest field of the cell that made the SENDME due. */
export const SENDME_VERSION_DIGEST = 1;
/** Bytes of a version-1 SENDME authenticator (the relay body's digest field). */
export const SENDME_DIGEST_BYTES = 16;

export { isValidHost, MAX_HOST_BYTES } from './host.ts';
export const MAX_RESOLVED_ADDRESSES = 16;

/** A link-local circuit id: nonzero u32. */
export type CircuitId = Brand<number, 'CircuitId'>;

/** The id as a CircuitId when it is a nonzero u32, else undefined. */
export function asCircuitId(n: number): CircuitId | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0xffffffff ? (n as CircuitId) : undefined;
}

/** Link cell commands. An open enum: cells with other numbers decode and keep the number. */
export const LinkCommand = {
  PADDING: 0,
  CREATE: 1,
  CREATED: 2,
  RELAY: 3,
  DESTROY: 4,
  /** A RELAY cell that counts against the circuit's MAX_RELAY_EARLY_CELLS; EXTEND travels only in one. */
  RELAY_EARLY: 5,
  /** A link receipt (docs/economy.md): the receiver of this circuit's cells confirms them to the sender. */
  RECEIPT: 6,
} as const;
export type LinkCommand = (typeof LinkCommand)[keyof typeof LinkCommand];

/** DESTROY cell reasons (body byte 0) and TRUNCATED reasons, as Tor's. Unknown values are kept. */
export const DestroyReason = {
  NONE: 0,
  PROTOCOL: 1,
  INTERNAL: 2,
  REQUESTED: 3,
  HIBERNATING: 4,
  RESOURCELIMIT: 5,
  CONNECTFAILED: 6,
  OR_IDENTITY: 7,
  CHANNEL_CLOSED: 8,
  FINISHED: 9,
  TIMEOUT: 10,
  DESTROYED: 11,
  NOSUCHSERVICE: 12,
} as const;

/** Relay commands. An open enum: unknown numbers decode as `{ kind: 'unknown' }`. */
export const RelayCommand = {
  BEGIN: 1,
  CONNECTED: 2,
  DATA: 3,
  END: 4,
  SENDME: 5,
  EXTEND: 6,
  EXTENDED: 7,
  TRUNCATE: 8,
  TRUNCATED: 9,
  RESOLVE: 10,
  RESOLVED: 11,
  DROP: 12,
  FIN: 13,
  MEASURE: 14,
  MEASURED: 15,
} as const;

/** The most bytes one MEASURE may ask for (docs/economy.md, "Measurement"). */
export const MAX_MEASURE_BYTES = 16 * 1024 * 1024;
export type RelayCommand = (typeof RelayCommand)[keyof typeof RelayCommand];

/** END reasons, Tor's list. Unknown values are kept. */
export const EndReason = {
  MISC: 1,
  RESOLVEFAILED: 2,
  CONNECTREFUSED: 3,
  EXITPOLICY: 4,
  DESTROY: 5,
  DONE: 6,
  TIMEOUT: 7,
  NOROUTE: 8,
  HIBERNATING: 9,
  INTERNAL: 10,
  RESOURCELIMIT: 11,
  CONNRESET: 12,
  TORPROTOCOL: 13,
  NOTDIRECTORY: 14,
} as const;

/** BEGIN flags (Tor's bits). Unknown bits are kept. */
export const BeginFlags = {
  IPV6_OK: 1,
  IPV4_NOT_OK: 2,
  IPV6_PREFERRED: 4,
} as const;

export interface LinkCell {
  readonly circuitId: CircuitId;
  /** A LinkCommand, or any other u8 (kept). */
  readonly command: number;
  /** RELAY_BODY_BYTES long when decoded (a view into the decoder's input, not a copy). */
  readonly body: Uint8Array;
}

// ------------------------------------------------------------------------------------------------
// Link cells

/**
 * The circuit id of a link cell, read in place (channels and relays route cells by it without decoding
 * them): 0, which names no circuit, is the caller's to refuse. `cell` holds at least 4 bytes.
 */
export function cellCircuitId(cell: Uint8Array): number {
  return ((cell[0]! << 24) | (cell[1]! << 16) | (cell[2]! << 8) | cell[3]!) >>> 0;
}

/** Rewrites the circuit id of a link cell in place (a relay passes a cell on to its other link). */
export function setCellCircuitId(cell: Uint8Array, id: CircuitId): void {
  cell[0] = id >>> 24;
  cell[1] = (id >>> 16) & 0xff;
  cell[2] = (id >>> 8) & 0xff;
  cell[3] = id & 0xff;
}

/** CELL_BYTES bytes; a shorter body is zero-padded. Throws WireError on a bad id, command or body. */
export function encodeCell(c: LinkCell): Uint8Array {
  if (asCircuitId(c.circuitId) === undefined)
    throw new WireError('BAD_FIELD', `circuit id ${c.circuitId} is not a nonzero u32`);
  if (!Number.isInteger(c.command) || c.command < 0 || c.command > 0xff)
    throw new WireError('BAD_FIELD', `${c.command} is not a u8 command`);
  if (c.body.length > RELAY_BODY_BYTES)
    throw new WireError('TOO_LARGE', `a cell body is at most ${RELAY_BODY_BYTES} bytes`);
  const out = new Uint8Array(CELL_BYTES);
  setCellCircuitId(out, c.circuitId);
  out[CELL_COMMAND_OFFSET] = c.command;
  out.set(c.body, CELL_HEADER_BYTES);
  return out;
}

/**
 * Decodes the first cell of `bytes` (consumed = CELL_BYTES; the rest is the next cell). needMore when
 * fewer than CELL_BYTES bytes; error 'BAD_FIELD' for circuit id 0. The body is a view into `bytes`,
 * so that relay layers can be removed in place: copy it if `bytes` will be reused.
 */
export function decodeCell(bytes: Uint8Array): DecodeResult<LinkCell> {
  if (bytes.length < CELL_BYTES) return needMore;
  const circuitId = cellCircuitId(bytes);
  if (circuitId === 0) return decodeError('BAD_FIELD', 'circuit id 0');
  return {
    kind: 'ok',
    value: {
      circuitId: circuitId as CircuitId,
      command: bytes[CELL_COMMAND_OFFSET]!,
      body: bytes.subarray(CELL_HEADER_BYTES, CELL_BYTES),
    },
    consumed: CELL_BYTES,
  };
}

// ------------------------------------------------------------------------------------------------
// Relay bodies

/** The plaintext header and data of a relay body, before the payload is interpreted. */
export interface RelayBody {
  readonly streamId: number;
  readonly command: number;
  /** A view into the decoded body. */
  readonly data: Uint8Array;
}

/**
 * A whole RELAY (or RELAY_EARLY) link cell whose body holds this relay message, zero-padded, in one
 * allocation: the hot path of senders (the body, `cell.subarray(CELL_HEADER_BYTES)`, is then encrypted
 * in place; a DATA cell's padding may be overwritten before that).
 */
export function encodeRelayCell(
  circuitId: CircuitId,
  streamId: number,
  command: number,
  data: Uint8Array,
  linkCommand: number = LinkCommand.RELAY,
): Uint8Array {
  if (asCircuitId(circuitId) === undefined)
    throw new WireError('BAD_FIELD', `circuit id ${circuitId} is not a nonzero u32`);
  if (linkCommand !== LinkCommand.RELAY && linkCommand !== LinkCommand.RELAY_EARLY)
    throw new WireError('BAD_FIELD', `link command ${linkCommand} does not carry a relay body`);
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff)
    throw new WireError('BAD_STREAM_ID', `${streamId} is not a u16 stream id`);
  if (!Number.isInteger(command) || command < 0 || command > 0xff)
    throw new WireError('BAD_FIELD', `${command} is not a u8 relay command`);
  if (data.length > MAX_RELAY_DATA)
    throw new WireError('TOO_LARGE', `a relay cell carries at most ${MAX_RELAY_DATA} bytes`);
  const out = new Uint8Array(CELL_BYTES);
  const view = new DataView(out.buffer);
  setCellCircuitId(out, circuitId);
  out[CELL_COMMAND_OFFSET] = linkCommand;
  view.setUint16(CELL_HEADER_BYTES + RELAY_STREAM_ID_OFFSET, streamId);
  view.setUint16(CELL_HEADER_BYTES + RELAY_LENGTH_OFFSET, data.length);
  out[CELL_HEADER_BYTES + RELAY_COMMAND_OFFSET] = command;
  out.set(data, CELL_HEADER_BYTES + RELAY_HEADER_BYTES);
  return out;
}

/**
 * The padding of the relay body in a whole RELAY cell as encodeRelayCell wrote it (before encryption):
 * a view of the bytes after the data, which a sender may overwrite in a DATA cell.
 */
export function relayCellPadding(cell: Uint8Array): Uint8Array {
  if (cell.length !== CELL_BYTES) throw new WireError('BAD_LENGTH', `a cell is ${CELL_BYTES} bytes`);
  const at = CELL_HEADER_BYTES + RELAY_LENGTH_OFFSET;
  const length = Math.min(MAX_RELAY_DATA, (cell[at]! << 8) | cell[at + 1]!);
  return cell.subarray(CELL_HEADER_BYTES + RELAY_HEADER_BYTES + length);
}

/**
 * A RELAY_BODY_BYTES plaintext body: recognized 0, digest 0 (relay-crypto fills it), then `padding`
 * (DATA only) and zeros. Throws WireError on a stream id that is not a u16, a command that is not a u8,
 * too much data, or padding on another command.
 */
export function encodeRelayBody(
  streamId: number,
  command: number,
  data: Uint8Array,
  padding?: Uint8Array,
): Uint8Array {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff)
    throw new WireError('BAD_STREAM_ID', `${streamId} is not a u16 stream id`);
  if (!Number.isInteger(command) || command < 0 || command > 0xff)
    throw new WireError('BAD_FIELD', `${command} is not a u8 relay command`);
  if (data.length > MAX_RELAY_DATA)
    throw new WireError('TOO_LARGE', `a relay cell carries at most ${MAX_RELAY_DATA} bytes`);
  if (padding !== undefined && padding.length > 0) {
    if (command !== RelayCommand.DATA) throw new WireError('BAD_PADDING', 'only DATA carries padding bytes');
    if (data.length + padding.length > MAX_RELAY_DATA)
      throw new WireError('TOO_LARGE', 'the padding does not fit after the data');
  }
  const out = new Uint8Array(RELAY_BODY_BYTES);
  const view = new DataView(out.buffer);
  view.setUint16(RELAY_STREAM_ID_OFFSET, streamId);
  view.setUint16(RELAY_LENGTH_OFFSET, data.length);
  out[RELAY_COMMAND_OFFSET] = command;
  out.set(data, RELAY_HEADER_BYTES);
  if (padding !== undefined) out.set(padding, RELAY_HEADER_BYTES + data.length);
  return out;
}

/**
 * Reads a plaintext relay body (after relay-crypto recognized it). Errors: 'BAD_LENGTH' (body not
 * RELAY_BODY_BYTES, or length field past the body), 'BAD_FIELD' (recognized != 0), 'BAD_PADDING'
 * (nonzero padding in a command other than DATA). The digest field is not checked here (relay-crypto
 * did).
 */
export function decodeRelayBody(body: Uint8Array): DecodeResult<RelayBody> {
  if (body.length !== RELAY_BODY_BYTES)
    return decodeError('BAD_LENGTH', `a relay body is ${RELAY_BODY_BYTES} bytes`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (view.getUint16(RELAY_RECOGNIZED_OFFSET) !== 0) return decodeError('BAD_FIELD', 'recognized is not 0');
  const length = view.getUint16(RELAY_LENGTH_OFFSET);
  if (length > MAX_RELAY_DATA)
    return decodeError('BAD_LENGTH', `length ${length} is above ${MAX_RELAY_DATA}`);
  const end = RELAY_HEADER_BYTES + length;
  const command = body[RELAY_COMMAND_OFFSET]!;
  if (command !== RelayCommand.DATA && !isZero(body, end, body.length))
    return decodeError('BAD_PADDING', 'nonzero padding');
  return {
    kind: 'ok',
    value: {
      streamId: view.getUint16(RELAY_STREAM_ID_OFFSET),
      command,
      data: body.subarray(RELAY_HEADER_BYTES, end),
    },
    consumed: RELAY_BODY_BYTES,
  };
}

// ------------------------------------------------------------------------------------------------
// Relay messages

export interface ResolvedAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, by family. */
  readonly address: Uint8Array;
  /** Seconds the answer may be cached. */
  readonly ttl: number;
}

export type ResolveStatus = 'ok' | 'transient-error' | 'permanent-error';

/** What a SENDME carries besides its command: a version (1..255) and that version's data. */
export interface SendmeAuth {
  readonly version: number;
  /** SENDME_DIGEST_BYTES for version 1; up to 0xffff bytes for versions this codec does not know. */
  readonly data: Uint8Array;
}

export type RelayMessage =
  | { readonly kind: 'begin'; readonly host: string; readonly port: number; readonly flags: number }
  | { readonly kind: 'connected'; readonly address: ResolvedAddress | undefined }
  | { readonly kind: 'data'; readonly data: Uint8Array }
  | { readonly kind: 'end'; readonly reason: number }
  | {
      readonly kind: 'sendme';
      /** Absent: the empty payload (version 0, stream-level). */
      readonly auth?: SendmeAuth;
    }
  | { readonly kind: 'extend'; readonly identityKey: Uint8Array; readonly create: Uint8Array }
  | { readonly kind: 'extended'; readonly created: Uint8Array }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'truncated'; readonly reason: number }
  | { readonly kind: 'resolve'; readonly host: string }
  | {
      readonly kind: 'resolved';
      readonly status: ResolveStatus;
      /** 1..16 addresses when status is 'ok', none otherwise. */
      readonly addresses: readonly ResolvedAddress[];
    }
  | { readonly kind: 'drop'; readonly data: Uint8Array }
  | { readonly kind: 'fin' }
  | { readonly kind: 'measure'; readonly bytes: number }
  | { readonly kind: 'measured' }
  | { readonly kind: 'unknown'; readonly command: number; readonly data: Uint8Array };

export type RelayMessageKind = RelayMessage['kind'];

const COMMAND_OF_KIND: Readonly<Record<Exclude<RelayMessageKind, 'unknown'>, number>> = {
  begin: RelayCommand.BEGIN,
  connected: RelayCommand.CONNECTED,
  data: RelayCommand.DATA,
  end: RelayCommand.END,
  sendme: RelayCommand.SENDME,
  extend: RelayCommand.EXTEND,
  extended: RelayCommand.EXTENDED,
  truncate: RelayCommand.TRUNCATE,
  truncated: RelayCommand.TRUNCATED,
  resolve: RelayCommand.RESOLVE,
  resolved: RelayCommand.RESOLVED,
  drop: RelayCommand.DROP,
  fin: RelayCommand.FIN,
  measure: RelayCommand.MEASURE,
  measured: RelayCommand.MEASURED,
};

/** The relay command number that carries `m`. */
export function relayCommandOf(m: RelayMessage): number {
  return m.kind === 'unknown' ? m.command : COMMAND_OF_KIND[m.kind];
}

/** Stream commands need streamId != 0; circuit commands need 0; SENDME and unknown commands take any. */
export function streamIdAllowed(command: number, streamId: number): boolean {
  switch (command) {
    case RelayCommand.BEGIN:
    case RelayCommand.CONNECTED:
    case RelayCommand.DATA:
    case RelayCommand.END:
    case RelayCommand.RESOLVE:
    case RelayCommand.RESOLVED:
    case RelayCommand.FIN:
      return streamId !== 0;
    case RelayCommand.EXTEND:
    case RelayCommand.EXTENDED:
    case RelayCommand.TRUNCATE:
    case RelayCommand.TRUNCATED:
    case RelayCommand.DROP:
    case RelayCommand.MEASURE:
    case RelayCommand.MEASURED:
      return streamId === 0;
    default:
      return true;
  }
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The payload bytes of `m` (the `data` of its relay body). Throws WireError on a value it cannot carry. */
export function encodeRelayPayload(m: RelayMessage): Uint8Array {
  const w = new Writer();
  switch (m.kind) {
    case 'begin':
      writeHost(w, m.host);
      if (!Number.isInteger(m.port) || m.port < 1 || m.port > 0xffff)
        throw new WireError('BAD_PORT', `port ${m.port} is not 1..65535`);
      w.u16(m.port).u8(m.flags);
      break;
    case 'connected':
      if (m.address !== undefined) writeAddress(w, m.address);
      break;
    case 'data':
      if (m.data.length === 0) throw new WireError('BAD_LENGTH', 'a DATA cell carries at least one byte');
      if (m.data.length > MAX_RELAY_DATA)
        throw new WireError('TOO_LARGE', `a DATA cell carries at most ${MAX_RELAY_DATA} bytes`);
      return m.data;
    case 'end':
    case 'truncated':
      w.u8(m.reason);
      break;
    case 'sendme':
      if (m.auth === undefined) return EMPTY;
      writeSendmeAuth(w, m.auth);
      break;
    case 'truncate':
    case 'fin':
    case 'measured':
      return EMPTY;
    case 'measure':
      if (!Number.isInteger(m.bytes) || m.bytes < 1 || m.bytes > MAX_MEASURE_BYTES)
        throw new WireError('BAD_FIELD', `a measurement asks for 1..${MAX_MEASURE_BYTES} bytes`);
      w.u32(m.bytes);
      break;
    case 'extend':
      checkLength(m.identityKey, IDENTITY_KEY_BYTES, 'identity key');
      checkLength(m.create, CREATE_MESSAGE_BYTES, 'CREATE message');
      w.bytes(m.identityKey).bytes(m.create);
      break;
    case 'extended':
      checkLength(m.created, CREATED_MESSAGE_BYTES, 'CREATED message');
      w.bytes(m.created);
      break;
    case 'resolve':
      writeHost(w, m.host);
      break;
    case 'resolved': {
      const ok = m.status === 'ok';
      if (ok && (m.addresses.length < 1 || m.addresses.length > MAX_RESOLVED_ADDRESSES))
        throw new WireError('TOO_MANY', `a RESOLVED answer has 1..${MAX_RESOLVED_ADDRESSES} addresses`);
      if (!ok && m.addresses.length !== 0)
        throw new WireError('BAD_FIELD', 'an error RESOLVED answer has no addresses');
      w.u8(RESOLVE_STATUS.indexOf(m.status)).u8(m.addresses.length);
      for (const a of m.addresses) writeAddress(w, a);
      break;
    }
    case 'drop':
    case 'unknown':
      if (m.data.length > MAX_RELAY_DATA)
        throw new WireError('TOO_LARGE', `a relay cell carries at most ${MAX_RELAY_DATA} bytes`);
      return m.data;
  }
  return w.finish();
}

/**
 * Interprets the payload of a relay message with command `command`. Never throws. Errors:
 * 'TOO_LARGE' (over MAX_RELAY_DATA), 'BAD_LENGTH' (a payload too short, empty DATA, empty host),
 * 'TRAILING_BYTES',
 * 'BAD_UTF8', 'BAD_HOST', 'BAD_PORT', 'BAD_FIELD' (address family, RESOLVED status or count).
 */
export function decodeRelayPayload(command: number, data: Uint8Array): DecodeResult<RelayMessage> {
  if (data.length > MAX_RELAY_DATA)
    return decodeError('TOO_LARGE', `a relay cell carries at most ${MAX_RELAY_DATA} bytes`);
  if (command === RelayCommand.DATA) {
    if (data.length === 0) return decodeError('BAD_LENGTH', 'empty DATA');
    return { kind: 'ok', value: { kind: 'data', data }, consumed: data.length };
  }
  if (command === RelayCommand.DROP)
    return { kind: 'ok', value: { kind: 'drop', data }, consumed: data.length };
  if (!isKnownRelayCommand(command))
    return { kind: 'ok', value: { kind: 'unknown', command, data }, consumed: data.length };
  try {
    const r = new Reader(data);
    const m = readPayload(command, data, r);
    if (r.remaining !== 0) return decodeError('TRAILING_BYTES', `${r.remaining} bytes after the message`);
    return { kind: 'ok', value: m, consumed: data.length };
  } catch (err) {
    if (err instanceof NeedMoreBytes) return decodeError('BAD_LENGTH', 'the payload ends early');
    if (err instanceof WireError) return decodeError(err.code, err.message);
    return decodeError('INTERNAL', `unexpected: ${(err as Error).message}`);
  }
}

/** Body and payload together, plus the stream id rule (error 'BAD_STREAM_ID'). Never throws. */
export function decodeRelayMessage(
  body: Uint8Array,
): DecodeResult<{ readonly streamId: number; readonly message: RelayMessage }> {
  const b = decodeRelayBody(body);
  if (b.kind !== 'ok') return b;
  const { streamId, command, data } = b.value;
  if (!streamIdAllowed(command, streamId))
    return decodeError('BAD_STREAM_ID', `command ${command} may not use stream id ${streamId}`);
  const m = decodeRelayPayload(command, data);
  if (m.kind !== 'ok') return m;
  return { kind: 'ok', value: { streamId, message: m.value }, consumed: RELAY_BODY_BYTES };
}

/** A full plaintext relay body for `m` on `streamId`. Throws WireError (also on the stream id rule). */
export function encodeRelayMessage(streamId: number, m: RelayMessage): Uint8Array {
  const command = relayCommandOf(m);
  if (!streamIdAllowed(command, streamId))
    throw new WireError('BAD_STREAM_ID', `command ${command} may not use stream id ${streamId}`);
  return encodeRelayBody(streamId, command, encodeRelayPayload(m));
}

const RESOLVE_STATUS: readonly ResolveStatus[] = ['ok', 'transient-error', 'permanent-error'];

function readPayload(command: number, data: Uint8Array, r: Reader): RelayMessage {
  switch (command) {
    case RelayCommand.BEGIN: {
      const host = readHost(r);
      const port = r.u16();
      if (port === 0) throw new WireError('BAD_PORT', 'port 0');
      return { kind: 'begin', host, port, flags: r.u8() };
    }
    case RelayCommand.CONNECTED:
      return { kind: 'connected', address: data.length === 0 ? undefined : readAddress(r) };
    case RelayCommand.END:
      return { kind: 'end', reason: r.u8() };
    case RelayCommand.SENDME:
      return data.length === 0 ? { kind: 'sendme' } : { kind: 'sendme', auth: readSendmeAuth(r) };
    case RelayCommand.EXTEND:
      return {
        kind: 'extend',
        identityKey: r.bytes(IDENTITY_KEY_BYTES),
        create: r.bytes(CREATE_MESSAGE_BYTES),
      };
    case RelayCommand.EXTENDED:
      return { kind: 'extended', created: r.bytes(CREATED_MESSAGE_BYTES) };
    case RelayCommand.TRUNCATE:
      return { kind: 'truncate' };
    case RelayCommand.TRUNCATED:
      return { kind: 'truncated', reason: r.u8() };
    case RelayCommand.RESOLVE:
      return { kind: 'resolve', host: readHost(r) };
    case RelayCommand.RESOLVED: {
      const status = RESOLVE_STATUS[r.u8()];
      if (status === undefined) throw new WireError('BAD_FIELD', 'unknown RESOLVED status');
      const count = r.u8();
      if (status === 'ok' ? count < 1 || count > MAX_RESOLVED_ADDRESSES : count !== 0)
        throw new WireError('BAD_FIELD', `RESOLVED count ${count} does not fit status ${status}`);
      const addresses: ResolvedAddress[] = [];
      for (let i = 0; i < count; i++) addresses.push(readAddress(r));
      return { kind: 'resolved', status, addresses };
    }
    case RelayCommand.FIN:
      return { kind: 'fin' };
    case RelayCommand.MEASURE: {
      const bytes = r.u32();
      if (bytes < 1 || bytes > MAX_MEASURE_BYTES)
        throw new WireError('BAD_FIELD', `a measurement asks for 1..${MAX_MEASURE_BYTES} bytes`);
      return { kind: 'measure', bytes };
    }
    case RelayCommand.MEASURED:
      return { kind: 'measured' };
    default:
      // DATA, DROP and unknown commands are opaque bytes, handled by the caller.
      throw new WireError('INTERNAL', `command ${command} has no structured payload`);
  }
}

const KNOWN_RELAY_COMMANDS: ReadonlySet<number> = new Set(Object.values(RelayCommand));

function isKnownRelayCommand(command: number): boolean {
  return KNOWN_RELAY_COMMANDS.has(command);
}

function writeSendmeAuth(w: Writer, a: SendmeAuth): void {
  if (!Number.isInteger(a.version) || a.version < 1 || a.version > 0xff)
    throw new WireError('BAD_FIELD', `SENDME version ${a.version} is not 1..255`);
  if (a.version === SENDME_VERSION_DIGEST) checkLength(a.data, SENDME_DIGEST_BYTES, 'SENDME v1 digest');
  if (a.data.length > 0xffff) throw new WireError('TOO_LARGE', 'SENDME data is at most 65535 bytes');
  w.u8(a.version).u16(a.data.length).bytes(a.data);
}

function readSendmeAuth(r: Reader): SendmeAuth {
  const version = r.u8();
  // Version 0 is the empty payload: it has no other encoding.
  if (version === 0) throw new WireError('BAD_FIELD', 'SENDME version 0 carries no data');
  const length = r.u16();
  if (version === SENDME_VERSION_DIGEST && length !== SENDME_DIGEST_BYTES)
    throw new WireError('BAD_LENGTH', `a SENDME v1 digest is ${SENDME_DIGEST_BYTES} bytes, not ${length}`);
  return { version, data: r.bytes(length) };
}

function writeHost(w: Writer, host: string): void {
  const bytes = utf8.encode(host);
  if (bytes.length < 1 || bytes.length > MAX_HOST_BYTES)
    throw new WireError('BAD_LENGTH', `a host is 1..${MAX_HOST_BYTES} bytes of UTF-8`);
  if (!isValidHost(host)) throw new WireError('BAD_HOST', 'not a hostname or an IP address literal');
  w.u8(bytes.length).bytes(bytes);
}

function readHost(r: Reader): string {
  const n = r.u8();
  if (n === 0) throw new WireError('BAD_LENGTH', 'empty host');
  let host: string;
  try {
    host = utf8Strict.decode(r.bytes(n));
  } catch (err) {
    if (err instanceof NeedMoreBytes) throw err;
    throw new WireError('BAD_UTF8', 'the host is not UTF-8');
  }
  if (!isValidHost(host)) throw new WireError('BAD_HOST', 'not a hostname or an IP address literal');
  return host;
}

function writeAddress(w: Writer, a: ResolvedAddress): void {
  if (a.family !== 4 && a.family !== 6) throw new WireError('BAD_FIELD', `address family ${a.family}`);
  checkLength(a.address, a.family === 4 ? 4 : 16, `IPv${a.family} address`);
  w.u8(a.family).bytes(a.address).u32(a.ttl);
}

function readAddress(r: Reader): ResolvedAddress {
  const family = r.u8();
  if (family !== 4 && family !== 6) throw new WireError('BAD_FIELD', `address family ${family}`);
  const address = r.bytes(family === 4 ? 4 : 16);
  return { family, address, ttl: r.u32() };
}

function checkLength(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new WireError('BAD_LENGTH', `${what} is ${n} bytes, not ${b.length}`);
}

const ZEROS = new Uint8Array(CELL_BYTES);

function isZero(b: Uint8Array, from: number, to: number): boolean {
  for (let at = from; at < to; at += ZEROS.length) {
    const end = Math.min(to, at + ZEROS.length);
    if (Buffer.compare(b.subarray(at, end), ZEROS.subarray(0, end - at)) !== 0) return false;
  }
  return true;
}
