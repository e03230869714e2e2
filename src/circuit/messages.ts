// Typed relay message payloads used by circuits, streams and the exit, over the wire codec.
import { isIP } from 'node:net';
import { ipBytes } from '../directory/exit-policy.ts';
import {
  decodeRelayPayload,
  encodeRelayPayload,
  RelayCommand,
  type RelayMessage,
  type ResolvedAddress,
} from '../wire/cell.ts';

function decodeAs<K extends RelayMessage['kind']>(
  command: number,
  data: Uint8Array,
  kind: K,
): Extract<RelayMessage, { kind: K }> | undefined {
  const r = decodeRelayPayload(command, data);
  return r.kind === 'ok' && r.value.kind === kind
    ? (r.value as Extract<RelayMessage, { kind: K }>)
    : undefined;
}

export const encodeBeginData = (host: string, port: number): Uint8Array =>
  encodeRelayPayload({ kind: 'begin', host, port, flags: 0 });

export function decodeBeginData(data: Uint8Array): { host: string; port: number } | undefined {
  const m = decodeAs(RelayCommand.BEGIN, data, 'begin');
  return m && { host: m.host, port: m.port };
}

export const encodeExtendData = (identityKey: Uint8Array, create: Uint8Array): Uint8Array =>
  encodeRelayPayload({ kind: 'extend', identityKey, create });

export const decodeExtendData = (data: Uint8Array) => decodeAs(RelayCommand.EXTEND, data, 'extend');

export const encodeExtendedData = (created: Uint8Array): Uint8Array =>
  encodeRelayPayload({ kind: 'extended', created });

export function decodeExtendedData(data: Uint8Array): Uint8Array {
  const m = decodeAs(RelayCommand.EXTENDED, data, 'extended');
  if (m === undefined) throw new Error('malformed EXTENDED');
  return m.created;
}

export function toResolvedAddress(ip: string, ttl = 60): ResolvedAddress {
  return { family: isIP(ip) === 4 ? 4 : 6, address: ipBytes(ip), ttl };
}

export const encodeConnectedData = (ip: string): Uint8Array =>
  encodeRelayPayload({ kind: 'connected', address: toResolvedAddress(ip) });

export const encodeResolveData = (host: string): Uint8Array => encodeRelayPayload({ kind: 'resolve', host });

export function decodeResolveData(data: Uint8Array): string | undefined {
  return decodeAs(RelayCommand.RESOLVE, data, 'resolve')?.host;
}

export interface ResolvedAnswer {
  readonly ok: boolean;
  readonly addresses: readonly string[];
}

function addressText(a: ResolvedAddress): string {
  if (a.family === 4) return [...a.address].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((a.address[i] ?? 0) << 8) | (a.address[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

export function encodeResolvedData(answer: ResolvedAnswer): Uint8Array {
  return encodeRelayPayload(
    answer.ok && answer.addresses.length > 0
      ? {
          kind: 'resolved',
          status: 'ok',
          addresses: answer.addresses.slice(0, 16).map((ip) => toResolvedAddress(ip)),
        }
      : { kind: 'resolved', status: 'permanent-error', addresses: [] },
  );
}

export function decodeResolvedData(data: Uint8Array): ResolvedAnswer {
  const m = decodeAs(RelayCommand.RESOLVED, data, 'resolved');
  if (m === undefined || m.status !== 'ok') return { ok: false, addresses: [] };
  return { ok: true, addresses: m.addresses.map(addressText) };
}
