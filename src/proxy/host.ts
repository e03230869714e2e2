// Destination hosts as the proxies accept them: pure text and byte helpers, no I/O, no DNS.
// A host is a hostname (letters, digits, '-', '_', '.'), a dotted-quad IPv4 literal, or an IPv6
// literal without brackets (RFC 5952 text form when we produce it).

export const MAX_HOSTNAME_BYTES = 255;

const HOSTNAME_RE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

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

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** IPv6 text (with '::' and an optional trailing dotted quad) → 16 bytes; undefined if not one. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (i === parts.length - 1 && p.includes('.')) {
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
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
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

export type HostKind = 'ipv4' | 'ipv6' | 'hostname';

/** What kind of host `text` is, or undefined if the proxies refuse it as a destination. */
export function hostKind(text: string): HostKind | undefined {
  if (parseIPv4(text) !== undefined) return 'ipv4';
  if (parseIPv6(text) !== undefined) return 'ipv6';
  if (text.length === 0 || text.length > MAX_HOSTNAME_BYTES) return undefined;
  if (!HOSTNAME_RE.test(text)) return undefined;
  // All-numeric dotted names that are not a valid dotted quad ("1.2.3", "01.2.3.4") are ambiguous.
  if (/^[0-9.]+$/.test(text)) return undefined;
  return 'hostname';
}

/** Parses `host:port` or `[ipv6]:port` (an HTTP CONNECT authority). */
export function parseAuthority(text: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    if (parseIPv6(host) === undefined) return undefined;
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    const kind = hostKind(host);
    if (kind === undefined || kind === 'ipv6') return undefined;
  }
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/** Decimal 1..65535 without leading zeros or sign. */
export function parsePort(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}
