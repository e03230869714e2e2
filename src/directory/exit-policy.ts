// Tor-style exit policy lines, parsed into the descriptor's rules. First match wins.
//   accept *:443          reject 10.0.0.0/8:*          accept [2001:db8::]/32:80-81
import { isIPv4, isIPv6 } from 'node:net';
import type { ExitRule } from '../wire/descriptor-types.ts';

export class ExitPolicyError extends Error {
  override readonly name = 'ExitPolicyError';
  readonly code = 'BAD_EXIT_POLICY';
}

function ipv4Bytes(s: string): Uint8Array {
  return new Uint8Array(s.split('.').map((p) => Number.parseInt(p, 10)));
}

export function ipv6Bytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  // A trailing embedded IPv4 (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = ipv4Bytes(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

/** Clears the bits past the prefix: "10.1.2.3/8" means the network 10.0.0.0/8. */
function network(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(address);
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** The raw bytes of an IPv4 or IPv6 literal (4 or 16 bytes); the caller checked it with isIP. */
export function ipBytes(ip: string): Uint8Array {
  return isIPv4(ip) ? ipv4Bytes(ip) : ipv6Bytes(ip);
}

function parsePorts(s: string, line: string): [number, number] {
  if (s === '*') return [1, 65535];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  const lo = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!(lo >= 1 && hi <= 65535 && lo <= hi))
    throw new ExitPolicyError(`bad port range in exit policy line "${line}"`);
  return [lo, hi];
}

export function parseExitRule(line: string): ExitRule {
  const m = /^\s*(accept|reject)\s+(\S+)\s*$/.exec(line);
  if (!m?.[1] || !m[2])
    throw new ExitPolicyError(`exit policy line "${line}" is not "accept|reject ADDRESS:PORTS"`);
  const action = m[1] as 'accept' | 'reject';
  const spec = m[2];
  const colon = spec.lastIndexOf(':');
  if (colon < 0) throw new ExitPolicyError(`exit policy line "${line}" has no :PORTS`);
  const [portLow, portHigh] = parsePorts(spec.slice(colon + 1), line);
  const addr = spec.slice(0, colon);
  if (addr === '*')
    return { action, family: 0, address: new Uint8Array(0), prefixLength: 0, portLow, portHigh };
  const am = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?:\/(\d{1,3}))?$/.exec(addr);
  const v6 = am?.[1];
  const v4 = am?.[2];
  if (v4 !== undefined && isIPv4(v4)) {
    const prefixLength = am?.[3] === undefined ? 32 : Number(am[3]);
    if (prefixLength > 32) throw new ExitPolicyError(`bad IPv4 prefix in exit policy line "${line}"`);
    return {
      action,
      family: 4,
      address: network(ipv4Bytes(v4), prefixLength),
      prefixLength,
      portLow,
      portHigh,
    };
  }
  if (v6 !== undefined && isIPv6(v6)) {
    const prefixLength = am?.[3] === undefined ? 128 : Number(am[3]);
    if (prefixLength > 128) throw new ExitPolicyError(`bad IPv6 prefix in exit policy line "${line}"`);
    return {
      action,
      family: 6,
      address: network(ipv6Bytes(v6), prefixLength),
      prefixLength,
      portLow,
      portHigh,
    };
  }
  throw new ExitPolicyError(`bad address in exit policy line "${line}"`);
}

export function parseExitPolicy(lines: readonly string[]): ExitRule[] {
  return lines.map(parseExitRule);
}
