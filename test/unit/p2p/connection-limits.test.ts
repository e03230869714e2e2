// The pure parts of the connection limits: what an address counts as for the per-IP cap, and which
// connections the pruner closes first (the address holding the most, then the idlest, then the
// oldest; never outbound, young, or circuit-carrying connections).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { ipKey, remoteIpKey } from '../../../src/p2p/connection-limits.ts';
import { choosePrunes, PRUNE_GRACE_MS, type PrunableConnection } from '../../../src/p2p/connection-pruner.ts';

const PEER = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA');

describe('ipKey', () => {
  it('keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    assert.equal(ipKey('203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
    assert.equal(ipKey('::1'), '0:0:0:0::/64');
    assert.equal(ipKey('2001:db8::'), '2001:db8:0:0::/64');
  });

  it('a relayed connection has no address of its own', () => {
    assert.equal(remoteIpKey(multiaddr('/ip4/127.0.0.2/tcp/4000')), '127.0.0.2');
    assert.equal(remoteIpKey(multiaddr('/ip4/127.0.0.2/udp/4000/quic-v1')), '127.0.0.2');
    assert.equal(
      remoteIpKey(multiaddr(`/ip4/198.51.100.1/tcp/4001/p2p/${PEER}/p2p-circuit/p2p/${PEER}`)),
      undefined,
    );
  });
});

describe('choosePrunes', () => {
  const NOW = 1_000_000;
  const old = NOW - PRUNE_GRACE_MS - 1;
  let n = 0;
  const conn = (
    ip: string,
    over: Partial<{ open: number; streams: string[]; direction: 'inbound' | 'outbound' }> = {},
  ): PrunableConnection & { name: string } => ({
    name: `${ip}#${n++}`,
    direction: over.direction ?? 'inbound',
    status: 'open',
    timeline: { open: over.open ?? old },
    streams: (over.streams ?? []).map((protocol) => ({ protocol })),
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/${1000 + n}`),
    remotePeer: PEER,
  });

  it('takes from the address holding the most first', () => {
    const heavy = [conn('10.0.0.1'), conn('10.0.0.1'), conn('10.0.0.1')];
    const light = [conn('10.0.0.2'), conn('10.0.0.3')];
    const chosen = choosePrunes([...light, ...heavy], 3, NOW);
    assert.equal(chosen.length, 2);
    for (const c of chosen) assert.ok(heavy.includes(c), c.name);
  });

  it('never closes outbound, young or circuit-carrying connections', () => {
    const keepers = [
      conn('10.0.0.1', { direction: 'outbound' }),
      conn('10.0.0.1', { open: NOW - 10 }),
      conn('10.0.0.1', { streams: ['/anonnet/circuit/1.0.0'] }),
      conn('10.0.0.1', { streams: ['/anonnet/ledger/1.0.0'] }),
    ];
    const idle = conn('10.0.0.9', { streams: ['/ipfs/id/1.0.0'] });
    assert.deepEqual(choosePrunes([...keepers, idle], 1, NOW), [idle]);
  });

  it('among equals, the idlest and then the oldest goes first', () => {
    const busy = conn('10.0.0.1', { streams: ['/ipfs/ping/1.0.0'] });
    const older = conn('10.0.0.2', { open: old - 5000 });
    const newer = conn('10.0.0.3');
    assert.deepEqual(choosePrunes([busy, newer, older], 2, NOW), [older]);
    assert.deepEqual(choosePrunes([busy, newer, older], 1, NOW), [older, newer]);
    assert.deepEqual(choosePrunes([busy], 1, NOW), []);
  });
});
