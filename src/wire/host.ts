// Hosts and IP addresses, text and bytes: the one parser every layer uses (proxies, BEGIN/RESOLVE,
// the exit, exit policies, path diversity, per-IP shares). Pure: no I/O, no DNS, never resolves.
//
//   IPv4 literal  a.b.c.d, each 0..255 in decimal without leading zeros (inet_pton's form)
//   IPv6 literal  RFC 4291 section 2.2: 8 groups of 1..4 hex digits, '::' at most once, a dotted IPv4
//                 tail as the last 32 bits; no brackets; a zone id ("%eth0") only where the caller
//                 allows one (addresses the OS hands us), and then ignored
//   name          what BEGIN and RESOLVE may carry (docs/protocol.md, "Relay messages", Hosts):
//                 ASCII letters, digits, '-', '_', '.' and characters from U+00A0 up (international
//                 names in UTF-8), not starting with '.', no empty label ('..'); a final '.' is allowed
// A host is at most MAX_HOST_BYTES bytes of UTF-8. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// its IPv4 address wherever addresses are grouped or classified (`unmapIp`).

export const MAX_HOST_BYTES = 255;

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes. */
  readonly bytes: Uint8Array;
}

export type Host =
  | { readonly kind: 'ipv4'; readonly text: string; readonly bytes: Uint8Array }
  | { readonly kind: 'ipv6'; readonly text: string; readonly bytes: Uint8Array }
  | { readonly kind: 'name'; readonly text: string };

const utf8 = new TextEncoder();

/** Dotted-quad IPv4 → 4 bytes; undefined unless exactly a.b.c.d, each 0..255, no leading zeros. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** IPv6 text (no brackets, no zone) → 16 bytes; undefined if it is not one. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // A dotted tail may end the text only: "::ffff:1.2.3.4", never "1.2.3.4::".
  const groups = (s: string, endsText: boolean): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (endsText && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(Number.parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** An IPv4 or IPv6 literal; with `zone`, an IPv6 zone id ("fe80::1%eth0") is accepted and dropped. */
export function parseIp(text: string, opts: { readonly zone?: boolean } = {}): IpAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const pct = text.indexOf('%');
  if (pct >= 0 && !(opts.zone === true && pct > 0 && pct < text.length - 1)) return undefined;
  const v6 = parseIPv6(pct >= 0 ? text.slice(0, pct) : text);
  return v6 === undefined ? undefined : { family: 6, bytes: v6 };
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** 16 bytes → RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as '::'. */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIPv4(ip.bytes) : formatIPv6(ip.bytes);
}

/** True for ::ffff:a.b.c.d (16 bytes). */
export function isV4Mapped(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** An IPv4-mapped IPv6 address as the IPv4 address it maps; any other address unchanged. */
export function unmapIp(ip: IpAddress): IpAddress {
  return ip.family === 6 && isV4Mapped(ip.bytes) ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

/** The first `bits` bits of `bytes`, the rest zero (the network of an address: /16, /64, ...). */
export function maskPrefix(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, bits - i * 8));
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * A host as BEGIN and RESOLVE carry it (rules at the top), classified; undefined when the protocol
 * refuses it. IP literals keep the caller's text; `bytes` are their address.
 */
export function parseHost(text: string): Host | undefined {
  if (!isValidHost(text) || utf8.encode(text).length > MAX_HOST_BYTES) return undefined;
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes === undefined ? undefined : { kind: 'ipv6', text, bytes };
  }
  const v4 = parseIPv4(text);
  return v4 === undefined ? { kind: 'name', text } : { kind: 'ipv4', text, bytes: v4 };
}

/**
 * The characters of a BEGIN/RESOLVE host (length aside: the codec answers that with BAD_LENGTH):
 * an IPv6 literal when it contains ':', otherwise a name or IPv4 literal (rules at the top).
 */
export function isValidHost(host: string): boolean {
  if (host.length === 0 || !host.isWellFormed()) return false;
  if (host.includes(':')) return parseIPv6(host) !== undefined;
  if (host.startsWith('.') || host.includes('..')) return false;
  for (const ch of host) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0xa0) continue;
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

// Networks that are not the public internet: an exit refuses them unless told otherwise.
const NOT_PUBLIC: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64: would reach IPv4 behind it
];
const NOT_PUBLIC_NETS = NOT_PUBLIC.map(([net, bits]) => ({ ip: parseIp(net)!, bits }));

function inNetwork(ip: IpAddress, net: IpAddress, bits: number): boolean {
  if (ip.family !== net.family) return false;
  const a = maskPrefix(ip.bytes, bits);
  const b = maskPrefix(net.bytes, bits);
  return a.every((x, i) => x === b[i]);
}

/** 127.0.0.0/8 and ::1 (an IPv4-mapped address as its IPv4). */
export function isLoopback(address: IpAddress): boolean {
  const ip = unmapIp(address);
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** True for loopback, private, link-local, CGNAT, multicast and reserved networks (mapped as IPv4). */
export function isNotPublic(address: IpAddress): boolean {
  const ip = unmapIp(address);
  return NOT_PUBLIC_NETS.some((n) => inNetwork(ip, n.ip, n.bits));
}
