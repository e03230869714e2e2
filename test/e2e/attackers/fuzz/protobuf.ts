// Just enough protobuf for the DHT fuzzer: write kad-dht's Message (and Record, PeerInfo) by hand, so
// fields can be repeated, left out, given the wrong wire type or a lying length, and read the answers
// defensively (a victim's answer that does not parse is an anomaly, not a crash of the fuzzer).

export const WIRE_VARINT = 0;
export const WIRE_BYTES = 2;

export function varint(n: number): number[] {
  const out: number[] = [];
  let x = Math.max(0, Math.floor(n));
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
  return out;
}

export function fieldVarint(tag: number, value: number): number[] {
  return [...varint((tag << 3) | WIRE_VARINT), ...varint(value)];
}

export function fieldBytes(tag: number, value: Uint8Array): number[] {
  return [...varint((tag << 3) | WIRE_BYTES), ...varint(value.length), ...value];
}

/** kad-dht's Message types (dht.proto). */
export const MessageType = {
  PUT_VALUE: 0,
  GET_VALUE: 1,
  ADD_PROVIDER: 2,
  GET_PROVIDERS: 3,
  FIND_NODE: 4,
  PING: 5,
} as const;

export interface PeerInfoFields {
  readonly id: Uint8Array;
  readonly multiaddrs: readonly Uint8Array[];
  readonly connection?: number;
}

export function encodePeerInfo(p: PeerInfoFields): Uint8Array {
  const out = fieldBytes(1, p.id);
  for (const a of p.multiaddrs) out.push(...fieldBytes(2, a));
  if (p.connection !== undefined) out.push(...fieldVarint(3, p.connection));
  return Uint8Array.from(out);
}

export function encodeRecord(key: Uint8Array, value: Uint8Array, timeReceived?: string): Uint8Array {
  const out = [...fieldBytes(1, key), ...fieldBytes(2, value)];
  if (timeReceived !== undefined) out.push(...fieldBytes(5, new TextEncoder().encode(timeReceived)));
  return Uint8Array.from(out);
}

export interface MessageFields {
  readonly type: number;
  readonly key?: Uint8Array;
  readonly record?: Uint8Array;
  readonly closer?: readonly Uint8Array[];
  readonly providers?: readonly Uint8Array[];
  readonly clusterLevel?: number;
}

export function encodeMessage(m: MessageFields): Uint8Array {
  const out = fieldVarint(1, m.type);
  if (m.clusterLevel !== undefined) out.push(...fieldVarint(10, m.clusterLevel));
  if (m.key !== undefined) out.push(...fieldBytes(2, m.key));
  if (m.record !== undefined) out.push(...fieldBytes(3, m.record));
  for (const c of m.closer ?? []) out.push(...fieldBytes(8, c));
  for (const c of m.providers ?? []) out.push(...fieldBytes(9, c));
  return Uint8Array.from(out);
}

/** `varint(length) | bytes`: how kad-dht frames each message on a stream. */
export function lengthPrefixed(b: Uint8Array): Uint8Array {
  return Uint8Array.of(...varint(b.length), ...b);
}

/** Reads a varint at `at`: [value, bytes used], or undefined when it is incomplete or too long. */
export function readVarint(b: Uint8Array, at = 0): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length && i - at < 10; i++) {
    const byte = b[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 0x80;
    if ((byte & 0x80) === 0) return [value, i - at + 1];
  }
  return undefined;
}

export interface Field {
  readonly tag: number;
  readonly wire: number;
  readonly value: number | Uint8Array;
}

/** The fields of a message, or undefined when it is not well-formed protobuf (varint and bytes only). */
export function parseFields(b: Uint8Array): Field[] | undefined {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    const key = readVarint(b, at);
    if (key === undefined) return undefined;
    at += key[1];
    const tag = Math.floor(key[0] / 8);
    const wire = key[0] % 8;
    const value = readVarint(b, at);
    if (value === undefined) return undefined;
    at += value[1];
    if (wire === WIRE_VARINT) out.push({ tag, wire, value: value[0] });
    else if (wire === WIRE_BYTES) {
      if (at + value[0] > b.length) return undefined;
      out.push({ tag, wire, value: b.subarray(at, at + value[0]) });
      at += value[0];
    } else return undefined;
  }
  return out;
}

export function bytesFields(fields: readonly Field[], tag: number): Uint8Array[] {
  return fields
    .filter((f) => f.tag === tag && f.value instanceof Uint8Array)
    .map((f) => f.value as Uint8Array);
}
