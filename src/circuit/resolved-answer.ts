// Name-lookup answers as the client's API and the exit's resolver see them (address text), beside the
// wire codec's RESOLVED and CONNECTED messages (address bytes, wire/cell.ts).
import { isIP } from 'node:net';
import { ipBytes } from '../directory/exit-policy.ts';
import type { RelayMessage, ResolvedAddress } from '../wire/cell.ts';

export interface ResolvedAnswer {
  readonly ok: boolean;
  readonly addresses: readonly string[];
}

type Resolved = Extract<RelayMessage, { kind: 'resolved' }>;

/** The wire form of an address the exit resolved or connected to (`ip` is an IP literal). */
export function resolvedAddressOf(ip: string, ttl = 60): ResolvedAddress {
  return { family: isIP(ip) === 4 ? 4 : 6, address: ipBytes(ip), ttl };
}

/** The RESOLVED message for `answer`: at most 16 addresses; no address is a permanent error. */
export function resolvedMessageOf(answer: ResolvedAnswer): Resolved {
  return answer.ok && answer.addresses.length > 0
    ? {
        kind: 'resolved',
        status: 'ok',
        addresses: answer.addresses.slice(0, 16).map((ip) => resolvedAddressOf(ip)),
      }
    : { kind: 'resolved', status: 'permanent-error', addresses: [] };
}

/** The answer a RESOLVED message carries (any error status is "not ok"). */
export function resolvedAnswerOf(m: Resolved): ResolvedAnswer {
  if (m.status !== 'ok') return { ok: false, addresses: [] };
  return { ok: true, addresses: m.addresses.map(addressText) };
}

function addressText(a: ResolvedAddress): string {
  if (a.family === 4) return [...a.address].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((a.address[i] ?? 0) << 8) | (a.address[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}
