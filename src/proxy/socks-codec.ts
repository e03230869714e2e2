// SOCKS4, SOCKS4a (openssh.com/txt/socks4.protocol, socks4a.protocol), SOCKS5 (RFC 1928) and its
// username/password subnegotiation (RFC 1929): pure decoders and encoders, no I/O. Every decoder answers
// ok (value + bytes consumed) | needMore | error, and never throws; every limit is checked as soon as
// the bytes that break it arrive, so a caller never has to buffer more than one message's maximum.
// Decoders exist for both directions (the client's side helps tests and fuzzing); encoders throw
// WireError on values that have no encoding.
import { type DecodeResult, decodeError, needMore } from '../wire/decode-result.ts';
import { WireError } from '../wire/errors.ts';
import { formatIPv4, formatIPv6, MAX_HOST_BYTES, parseHost, parseIPv4, parseIPv6 } from '../wire/host.ts';

export const SOCKS4_VERSION = 0x04;
export const SOCKS5_VERSION = 0x05;
export const USERPASS_VERSION = 0x01;

export const AuthMethod = { NO_AUTH: 0x00, USERNAME_PASSWORD: 0x02, NO_ACCEPTABLE: 0xff } as const;
export const Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;
export const Socks5Rep = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;
export const Socks4Rep = { GRANTED: 0x5a, REJECTED: 0x5b } as const;
export const UserPassStatus = { SUCCESS: 0x00, FAILURE: 0x01 } as const;

const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** Limits: RFC 1929 and RFC 1928 fields are one length byte; SOCKS4 strings are ours. */
export const MAX_USERID_BYTES = 255;
export const MAX_SOCKS4_HOSTNAME_BYTES = MAX_HOST_BYTES;
/** The largest client message of any kind (a SOCKS4a request with both strings at their limits). */
export const MAX_CLIENT_MESSAGE_BYTES = 8 + MAX_USERID_BYTES + 1 + MAX_SOCKS4_HOSTNAME_BYTES + 1;

export type SocksDecodeErrorCode =
  /** Not the version byte this message must start with. */
  | 'BAD_VERSION'
  /** A length byte out of its range (e.g. NMETHODS = 0, a domain of 0 bytes). */
  | 'BAD_LENGTH'
  /** An ATYP other than IPv4, domain, IPv6. */
  | 'BAD_ADDRESS_TYPE'
  /** A domain that is not a hostname or IP literal we accept. */
  | 'BAD_HOST'
  /** Port 0. */
  | 'BAD_PORT'
  /** A reserved byte that is not zero, or another field out of range. */
  | 'BAD_FIELD'
  /** A NUL-terminated SOCKS4 string longer than its limit. */
  | 'TOO_LARGE';

function fail(code: SocksDecodeErrorCode, message: string): DecodeResult<never> {
  return decodeError(code, message);
}

export type AddressType = 'ipv4' | 'domain' | 'ipv6';

export interface SocksAddress {
  readonly type: AddressType;
  /** Dotted quad, RFC 5952 IPv6 text (no brackets), or the domain exactly as sent. */
  readonly host: string;
  readonly port: number;
}

// ---------------------------------------------------------------- SOCKS5 greeting
//   +-----+----------+----------------+
//   | VER | NMETHODS | METHODS        |
//   | 05  | 1..255   | NMETHODS bytes |
//   +-----+----------+----------------+

export interface Socks5Greeting {
  readonly methods: readonly number[];
}

export function decodeSocks5Greeting(b: Uint8Array): DecodeResult<Socks5Greeting> {
  if (b.length < 1) return needMore;
  if (b[0] !== SOCKS5_VERSION) return fail('BAD_VERSION', `greeting version ${b[0]}`);
  if (b.length < 2) return needMore;
  const n = b[1] ?? 0;
  if (n === 0) return fail('BAD_LENGTH', 'greeting offers no methods');
  if (b.length < 2 + n) return needMore;
  return { kind: 'ok', value: { methods: [...b.subarray(2, 2 + n)] }, consumed: 2 + n };
}

export function encodeSocks5Greeting(g: Socks5Greeting): Uint8Array {
  if (g.methods.length < 1 || g.methods.length > 255) throw new WireError('BAD_LENGTH', 'methods: 1..255');
  return Uint8Array.from([SOCKS5_VERSION, g.methods.length, ...g.methods.map(byte)]);
}

//   method selection: | VER 05 | METHOD |

export function encodeMethodSelection(method: number): Uint8Array {
  return Uint8Array.from([SOCKS5_VERSION, byte(method)]);
}

export function decodeMethodSelection(b: Uint8Array): DecodeResult<number> {
  if (b.length < 1) return needMore;
  if (b[0] !== SOCKS5_VERSION) return fail('BAD_VERSION', `method selection version ${b[0]}`);
  if (b.length < 2) return needMore;
  return { kind: 'ok', value: b[1] ?? 0, consumed: 2 };
}

// ---------------------------------------------------------------- RFC 1929 username/password
//   +-----+------+----------+------+----------+
//   | VER | ULEN | UNAME    | PLEN | PASSWD   |
//   | 01  | 0..255 | ULEN B | 0..255 | PLEN B |
//   +-----+------+----------+------+----------+
// RFC 1929 asks for lengths ≥ 1; empty fields are accepted (clients send them to mean "no isolation
// token"), as Tor does. The bytes are opaque: they are never checked, only used as an isolation key.

export interface UserPassRequest {
  readonly username: Uint8Array;
  readonly password: Uint8Array;
}

export function decodeUserPassRequest(b: Uint8Array): DecodeResult<UserPassRequest> {
  if (b.length < 1) return needMore;
  if (b[0] !== USERPASS_VERSION) return fail('BAD_VERSION', `subnegotiation version ${b[0]}`);
  if (b.length < 2) return needMore;
  const ulen = b[1] ?? 0;
  if (b.length < 3 + ulen) return needMore;
  const plen = b[2 + ulen] ?? 0;
  const end = 3 + ulen + plen;
  if (b.length < end) return needMore;
  return {
    kind: 'ok',
    value: { username: b.slice(2, 2 + ulen), password: b.slice(3 + ulen, end) },
    consumed: end,
  };
}

export function encodeUserPassRequest(r: UserPassRequest): Uint8Array {
  if (r.username.length > 255 || r.password.length > 255) throw new WireError('BAD_LENGTH', 'over 255 bytes');
  return Uint8Array.from([
    USERPASS_VERSION,
    r.username.length,
    ...r.username,
    r.password.length,
    ...r.password,
  ]);
}

//   status: | VER 01 | STATUS (00 success) |

export function encodeUserPassStatus(status: number): Uint8Array {
  return Uint8Array.from([USERPASS_VERSION, byte(status)]);
}

export function decodeUserPassStatus(b: Uint8Array): DecodeResult<number> {
  if (b.length < 1) return needMore;
  if (b[0] !== USERPASS_VERSION) return fail('BAD_VERSION', `subnegotiation version ${b[0]}`);
  if (b.length < 2) return needMore;
  return { kind: 'ok', value: b[1] ?? 0, consumed: 2 };
}

// ---------------------------------------------------------------- SOCKS5 request and reply
//   +-----+-----+-----+------+----------+----------+
//   | VER | CMD | RSV | ATYP | DST.ADDR | DST.PORT |
//   | 05  | 1   | 00  | 1    | variable | 2 (BE)   |
//   +-----+-----+-----+------+----------+----------+
//   ATYP 01: 4 bytes; 03: one length byte (1..255) + domain; 04: 16 bytes.
// A reply has the same layout with REP in place of CMD. Unknown commands decode (the server answers
// "command not supported"); an unknown ATYP cannot, since its length is unknown.

export interface Socks5Request extends SocksAddress {
  /** Open: CONNECT, BIND, UDP ASSOCIATE, or any other byte a client sent. */
  readonly command: number;
}

export interface Socks5Reply extends SocksAddress {
  readonly reply: number;
}

/** Decodes ATYP + address + port at offset 3; the port may be 0 only when `allowPortZero`. */
function decodeAddress(b: Uint8Array, allowPortZero: boolean): DecodeResult<SocksAddress> {
  if (b.length < 4) return needMore;
  const atyp = b[3];
  let type: AddressType;
  let host: string;
  let at: number;
  if (atyp === ATYP_IPV4) {
    if (b.length < 8) return needMore;
    type = 'ipv4';
    host = formatIPv4(b.subarray(4, 8));
    at = 8;
  } else if (atyp === ATYP_IPV6) {
    if (b.length < 20) return needMore;
    type = 'ipv6';
    host = formatIPv6(b.subarray(4, 20));
    at = 20;
  } else if (atyp === ATYP_DOMAIN) {
    if (b.length < 5) return needMore;
    const len = b[4] ?? 0;
    if (len === 0) return fail('BAD_LENGTH', 'empty domain');
    // Check the bytes as they arrive: a bad byte is an error before the rest comes.
    const avail = Math.min(b.length, 5 + len);
    for (let i = 5; i < avail; i++) {
      if (!isHostByte(b[i] ?? 0)) return fail('BAD_HOST', 'domain has a control, space or non-UTF-8 byte');
    }
    if (b.length < 5 + len) return needMore;
    type = 'domain';
    const name = hostText(b.subarray(5, 5 + len));
    if (name === undefined) return fail('BAD_HOST', 'domain is not a hostname or IP literal');
    host = name;
    at = 5 + len;
  } else {
    return fail('BAD_ADDRESS_TYPE', `address type ${atyp}`);
  }
  if (b.length < at + 2) return needMore;
  const port = ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
  if (port === 0 && !allowPortZero) return fail('BAD_PORT', 'port 0');
  return { kind: 'ok', value: { type, host, port }, consumed: at + 2 };
}

// Domain names are UTF-8, as BEGIN carries them (docs/protocol.md): international names pass. Bytes
// that no host may hold (controls, space, DEL, and bytes UTF-8 never uses) are refused as they arrive.
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isHostByte(c: number): boolean {
  return c > 0x20 && c !== 0x7f && c !== 0xc0 && c !== 0xc1 && c < 0xf5;
}

/** A complete domain field as text, or undefined unless it is a host the protocol allows. */
function hostText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
  return parseHost(text) === undefined ? undefined : text;
}

/** The UTF-8 of a host to encode; undefined when empty, not well-formed, or holding a refused byte. */
function hostBytes(host: string): Uint8Array | undefined {
  if (host.length === 0 || !host.isWellFormed()) return undefined;
  const bytes = Buffer.from(host, 'utf8');
  return bytes.every(isHostByte) ? bytes : undefined;
}

export function decodeSocks5Request(b: Uint8Array): DecodeResult<Socks5Request> {
  if (b.length < 1) return needMore;
  if (b[0] !== SOCKS5_VERSION) return fail('BAD_VERSION', `request version ${b[0]}`);
  if (b.length < 3) return needMore;
  if (b[2] !== 0) return fail('BAD_FIELD', 'reserved byte is not zero');
  const addr = decodeAddress(b, false);
  if (addr.kind !== 'ok') return addr;
  return { kind: 'ok', value: { command: b[1] ?? 0, ...addr.value }, consumed: addr.consumed };
}

export function decodeSocks5Reply(b: Uint8Array): DecodeResult<Socks5Reply> {
  if (b.length < 1) return needMore;
  if (b[0] !== SOCKS5_VERSION) return fail('BAD_VERSION', `reply version ${b[0]}`);
  if (b.length < 3) return needMore;
  if (b[2] !== 0) return fail('BAD_FIELD', 'reserved byte is not zero');
  const addr = decodeAddress(b, true);
  if (addr.kind !== 'ok') return addr;
  return { kind: 'ok', value: { reply: b[1] ?? 0, ...addr.value }, consumed: addr.consumed };
}

function encodeAddress(a: SocksAddress): number[] {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new WireError('BAD_FIELD', 'port');
  const port = [a.port >> 8, a.port & 0xff];
  if (a.type === 'ipv4') {
    const ip = parseIPv4(a.host);
    if (ip === undefined) throw new WireError('BAD_FIELD', 'not an IPv4 literal');
    return [ATYP_IPV4, ...ip, ...port];
  }
  if (a.type === 'ipv6') {
    const ip = parseIPv6(a.host);
    if (ip === undefined) throw new WireError('BAD_FIELD', 'not an IPv6 literal');
    return [ATYP_IPV6, ...ip, ...port];
  }
  const bytes = hostBytes(a.host);
  if (bytes === undefined || bytes.length > 255) {
    throw new WireError('BAD_FIELD', 'domain: 1..255 bytes of UTF-8, no space or control');
  }
  return [ATYP_DOMAIN, bytes.length, ...bytes, ...port];
}

export function encodeSocks5Request(r: Socks5Request): Uint8Array {
  return Uint8Array.from([SOCKS5_VERSION, byte(r.command), 0, ...encodeAddress(r)]);
}

/** A reply; the bound address defaults to 0.0.0.0:0 (we never tell the application anything real). */
export function encodeSocks5Reply(
  reply: number,
  bound: SocksAddress = { type: 'ipv4', host: '0.0.0.0', port: 0 },
): Uint8Array {
  return Uint8Array.from([SOCKS5_VERSION, byte(reply), 0, ...encodeAddress(bound)]);
}

/** The reply for a request that did not decode. */
export function socks5RepForDecodeError(code: string): number {
  if (code === 'BAD_ADDRESS_TYPE') return Socks5Rep.ADDRESS_TYPE_NOT_SUPPORTED;
  if (code === 'BAD_HOST') return Socks5Rep.HOST_UNREACHABLE;
  return Socks5Rep.GENERAL_FAILURE;
}

// ---------------------------------------------------------------- SOCKS4 / SOCKS4a
//   +----+----+---------+--------+-----------+-------------------+
//   | VN | CD | DSTPORT | DSTIP  | USERID 00 | (4a) HOSTNAME 00  |
//   | 04 | 1  | 2 (BE)  | 4      | ≤255 + 1  | ≤255 + 1          |
//   +----+----+---------+--------+-----------+-------------------+
// SOCKS4a: DSTIP 0.0.0.x with x ≠ 0 means "the hostname follows the userid". DSTIP 0.0.0.0 is refused.
// Reply: | VN 00 | CD 5A granted / 5B rejected | DSTPORT | DSTIP |

export interface Socks4Request {
  readonly command: number;
  readonly port: number;
  /** DSTIP as sent (0.0.0.x for SOCKS4a). */
  readonly ip: string;
  readonly userid: Uint8Array;
  /** Present for SOCKS4a. */
  readonly hostname?: string;
}

export interface Socks4Reply {
  readonly status: number;
  readonly port: number;
  readonly ip: string;
}

/** Index of the NUL ending a string starting at `from`, or needMore / TOO_LARGE past `max` bytes. */
function findNul(b: Uint8Array, from: number, max: number, what: string): number | DecodeResult<never> {
  const limit = Math.min(b.length, from + max + 1);
  for (let i = from; i < limit; i++) if (b[i] === 0) return i;
  if (b.length > from + max) return fail('TOO_LARGE', `${what} over ${max} bytes`);
  return needMore;
}

export function decodeSocks4Request(b: Uint8Array): DecodeResult<Socks4Request> {
  if (b.length < 1) return needMore;
  if (b[0] !== SOCKS4_VERSION) return fail('BAD_VERSION', `SOCKS4 version ${b[0]}`);
  if (b.length < 8) return needMore;
  const port = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  if (port === 0) return fail('BAD_PORT', 'port 0');
  const ipBytes = b.subarray(4, 8);
  const ip = formatIPv4(ipBytes);
  if (ip === '0.0.0.0') return fail('BAD_FIELD', 'destination 0.0.0.0');
  const is4a = ipBytes[0] === 0 && ipBytes[1] === 0 && ipBytes[2] === 0;
  const uEnd = findNul(b, 8, MAX_USERID_BYTES, 'userid');
  if (typeof uEnd !== 'number') return uEnd;
  const userid = b.slice(8, uEnd);
  const command = b[1] ?? 0;
  if (!is4a) return { kind: 'ok', value: { command, port, ip, userid }, consumed: uEnd + 1 };
  const hStart = uEnd + 1;
  for (let i = hStart; i < Math.min(b.length, hStart + MAX_SOCKS4_HOSTNAME_BYTES); i++) {
    const c = b[i] ?? 0;
    if (c === 0) break;
    if (!isHostByte(c)) return fail('BAD_HOST', 'hostname has a control, space or non-UTF-8 byte');
  }
  const hEnd = findNul(b, hStart, MAX_SOCKS4_HOSTNAME_BYTES, 'hostname');
  if (typeof hEnd !== 'number') return hEnd;
  if (hEnd === hStart) return fail('BAD_LENGTH', 'empty hostname');
  const hostname = hostText(b.subarray(hStart, hEnd));
  if (hostname === undefined) return fail('BAD_HOST', 'hostname is not a hostname or IP literal');
  return { kind: 'ok', value: { command, port, ip, userid, hostname }, consumed: hEnd + 1 };
}

export function encodeSocks4Request(r: Socks4Request): Uint8Array {
  const ip = parseIPv4(r.ip);
  if (ip === undefined) throw new WireError('BAD_FIELD', 'not an IPv4 literal');
  if (r.port < 1 || r.port > 65535 || !Number.isInteger(r.port)) throw new WireError('BAD_FIELD', 'port');
  if (r.userid.length > MAX_USERID_BYTES || r.userid.includes(0)) throw new WireError('BAD_FIELD', 'userid');
  const out = [SOCKS4_VERSION, byte(r.command), r.port >> 8, r.port & 0xff, ...ip, ...r.userid, 0];
  if (r.hostname !== undefined) {
    const h = hostBytes(r.hostname);
    if (h === undefined || h.length > MAX_SOCKS4_HOSTNAME_BYTES) throw new WireError('BAD_FIELD', 'hostname');
    out.push(...h, 0);
  }
  return Uint8Array.from(out);
}

export function encodeSocks4Reply(status: number, port = 0, ip = '0.0.0.0'): Uint8Array {
  const ipBytes = parseIPv4(ip);
  if (ipBytes === undefined) throw new WireError('BAD_FIELD', 'not an IPv4 literal');
  return Uint8Array.from([0x00, byte(status), (port >> 8) & 0xff, port & 0xff, ...ipBytes]);
}

export function decodeSocks4Reply(b: Uint8Array): DecodeResult<Socks4Reply> {
  if (b.length < 1) return needMore;
  if (b[0] !== 0x00) return fail('BAD_VERSION', `SOCKS4 reply version ${b[0]}`);
  if (b.length < 8) return needMore;
  const port = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  return { kind: 'ok', value: { status: b[1] ?? 0, port, ip: formatIPv4(b.subarray(4, 8)) }, consumed: 8 };
}

function byte(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new WireError('BAD_FIELD', `not a byte: ${n}`);
  return n;
}
