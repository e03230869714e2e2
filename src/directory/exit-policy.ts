// Tor-style exit policy lines, parsed into the descriptor's rules. First match wins.
//   accept *:443          reject 10.0.0.0/8:*          accept [2001:db8::]/32:80-81
import type { ExitRule } from '../wire/descriptor-types.ts';
import { maskPrefix, parseIPv4, parseIPv6, parseIp } from '../wire/host.ts';

export class ExitPolicyError extends Error {
  override readonly name = 'ExitPolicyError';
  readonly code = 'BAD_EXIT_POLICY';
}

/** The raw bytes of an IPv4 or IPv6 literal (4 or 16 bytes); the caller checked that it is one. */
export function ipBytes(ip: string): Uint8Array {
  const parsed = parseIp(ip, { zone: true });
  if (parsed === undefined) throw new ExitPolicyError(`"${ip}" is not an IP address`);
  return parsed.bytes;
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
  const v6 = am?.[1] === undefined ? undefined : parseIPv6(am[1]);
  const v4 = am?.[2] === undefined ? undefined : parseIPv4(am[2]);
  if (v4 !== undefined) {
    const prefixLength = am?.[3] === undefined ? 32 : Number(am[3]);
    if (prefixLength > 32) throw new ExitPolicyError(`bad IPv4 prefix in exit policy line "${line}"`);
    return {
      action,
      family: 4,
      address: maskPrefix(v4, prefixLength),
      prefixLength,
      portLow,
      portHigh,
    };
  }
  if (v6 !== undefined) {
    const prefixLength = am?.[3] === undefined ? 128 : Number(am[3]);
    if (prefixLength > 128) throw new ExitPolicyError(`bad IPv6 prefix in exit policy line "${line}"`);
    return {
      action,
      family: 6,
      address: maskPrefix(v6, prefixLength),
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
