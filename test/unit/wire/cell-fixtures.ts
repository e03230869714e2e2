// Arbitraries for relay messages, shared by the cell tests and the cell fuzz targets.
import fc from 'fast-check';
import {
  CREATE_MESSAGE_BYTES,
  CREATED_MESSAGE_BYTES,
  MAX_MEASURE_BYTES,
  MAX_RELAY_DATA,
  type RelayMessage,
  type ResolvedAddress,
} from '../../../src/wire/cell.ts';

export const u8 = fc.integer({ min: 0, max: 255 });
export const hostArb = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('localhost', 'example.anon', 'bücher.example', 'a_b.example.', '::1', '::ffff:1.2.3.4'),
);
export const addressArb: fc.Arbitrary<ResolvedAddress> = fc.oneof(
  fc.record({
    family: fc.constant(4 as const),
    address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    ttl: fc.nat(),
  }),
  fc.record({
    family: fc.constant(6 as const),
    address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    ttl: fc.nat(),
  }),
);
export const relayMessageArb: fc.Arbitrary<RelayMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('begin' as const),
    host: hostArb.filter((h) => Buffer.byteLength(h) <= 255),
    port: fc.integer({ min: 1, max: 65535 }),
    flags: u8,
  }),
  fc.record({ kind: fc.constant('connected' as const), address: fc.option(addressArb, { nil: undefined }) }),
  fc.record({
    kind: fc.constant('data' as const),
    data: fc.uint8Array({ minLength: 1, maxLength: MAX_RELAY_DATA }),
  }),
  fc.record({ kind: fc.constant('end' as const), reason: u8 }),
  fc.constant({ kind: 'sendme' as const }),
  fc.record({
    kind: fc.constant('sendme' as const),
    auth: fc.oneof(
      fc.record({ version: fc.constant(1), data: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
      fc.record({ version: fc.integer({ min: 2, max: 255 }), data: fc.uint8Array({ maxLength: 64 }) }),
    ),
  }),
  fc.record({
    kind: fc.constant('extend' as const),
    identityKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    create: fc.uint8Array({ minLength: CREATE_MESSAGE_BYTES, maxLength: CREATE_MESSAGE_BYTES }),
  }),
  fc.record({
    kind: fc.constant('extended' as const),
    created: fc.uint8Array({ minLength: CREATED_MESSAGE_BYTES, maxLength: CREATED_MESSAGE_BYTES }),
  }),
  fc.constant({ kind: 'truncate' as const }),
  fc.record({ kind: fc.constant('truncated' as const), reason: u8 }),
  fc.record({
    kind: fc.constant('resolve' as const),
    host: hostArb.filter((h) => Buffer.byteLength(h) <= 255),
  }),
  fc.oneof(
    fc.record({
      kind: fc.constant('resolved' as const),
      status: fc.constant('ok' as const),
      addresses: fc.array(addressArb, { minLength: 1, maxLength: 16 }),
    }),
    fc.record({
      kind: fc.constant('resolved' as const),
      status: fc.constantFrom('transient-error' as const, 'permanent-error' as const),
      addresses: fc.constant([]),
    }),
  ),
  fc.record({ kind: fc.constant('drop' as const), data: fc.uint8Array({ maxLength: MAX_RELAY_DATA }) }),
  fc.constant({ kind: 'fin' as const }),
  fc.record({ kind: fc.constant('measure' as const), bytes: fc.integer({ min: 1, max: MAX_MEASURE_BYTES }) }),
  fc.constant({ kind: 'measured' as const }),
  fc.record({
    kind: fc.constant('unknown' as const),
    command: fc.integer({ min: 16, max: 255 }).chain((c) => fc.constantFrom(c, 0)),
    data: fc.uint8Array({ maxLength: MAX_RELAY_DATA }),
  }),
);
