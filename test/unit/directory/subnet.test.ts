// Network keys (src/directory/subnet.ts): IPv4 /16, IPv6 /32, an IPv4-mapped IPv6 address counted as
// its IPv4 network, every network a descriptor names, and the IPv6 parser checked against Node's URL
// parser on random addresses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import fc from 'fast-check';
import { accountingSubnets, freshStanding, relaySubnets } from '../../../src/directory/relay-view.ts';
import {
  claimedSubnets,
  subnetOfIp,
  subnetOfMultiaddr,
  UNKNOWN_SUBNET,
} from '../../../src/directory/subnet.ts';
import { parseIPv6 } from '../../../src/wire/host.ts';
import { NOW, relay } from './relay-view-helpers.ts';

const bytes = (...addrs: string[]) => addrs.map((a) => multiaddr(a).bytes);

describe('subnetOfIp', () => {
  it('keys IPv4 by its /16 and IPv6 by its /32', () => {
    assert.equal(subnetOfIp('10.1.2.3'), 'v4:10.1');
    assert.equal(subnetOfIp('10.1.200.7'), 'v4:10.1');
    assert.equal(subnetOfIp('10.2.0.1'), 'v4:10.2');
    assert.equal(subnetOfIp('2001:db8::1'), 'v6:2001:0db8');
    assert.equal(subnetOfIp('2001:db8:ffff:1::1'), 'v6:2001:0db8');
    assert.equal(subnetOfIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), 'v6:2001:0db8');
    assert.equal(subnetOfIp('::1'), 'v6:0000:0000');
    assert.equal(subnetOfIp('fe80::1%eth0'), 'v6:fe80:0000');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 network (no second network for free)', () => {
    assert.equal(subnetOfIp('::ffff:10.1.2.3'), 'v4:10.1');
    assert.equal(subnetOfIp('::ffff:a01:203'), 'v4:10.1');
    // Other embedded forms are IPv6.
    assert.equal(subnetOfIp('64:ff9b::10.1.2.3'), 'v6:0064:ff9b');
  });

  it('answers undefined for what is not an address', () => {
    for (const bad of [
      '',
      'example.org',
      '10.1.2',
      '1.2.3.4.5',
      '300.1.1.1',
      '1::2::3',
      '12345::1',
      ':::',
      'g::1',
    ])
      assert.equal(subnetOfIp(bad), undefined, bad);
    assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
    assert.equal(parseIPv6('1:2:3:4:5:6:7'), undefined);
    assert.equal(parseIPv6('1:2:3:4:5:6:7::8'), undefined);
  });

  it('parses every IPv6 address as the URL parser does, in full and compressed forms', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const groups = [...Array(8).keys()].map((i) =>
          (((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)).toString(16),
        );
        const full = groups.join(':');
        const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        assert.deepEqual(parseIPv6(full), b);
        assert.deepEqual(parseIPv6(compressed), b, compressed);
      }),
      { numRuns: 500 },
    );
  });
});

describe('claimedSubnets and a relay\u2019s networks', () => {
  it('lists every network a descriptor names, once, in order; DNS names and junk name none', () => {
    const addrs = [
      ...bytes('/ip4/10.1.0.1/tcp/1', '/dns4/relay.example/tcp/1', '/ip4/10.1.9.9/udp/1/quic-v1'),
      ...bytes('/ip6/2001:db8::1/tcp/1', '/ip4/10.7.0.1/tcp/1'),
      new Uint8Array([0xff, 0xff, 0xff]),
    ];
    assert.deepEqual(claimedSubnets(addrs), ['v4:10.1', 'v6:2001:0db8', 'v4:10.7']);
    assert.deepEqual(claimedSubnets(bytes('/dns4/relay.example/tcp/1')), []);
  });

  it('takes the host of a relayed address (the circuit-relay server it is reachable through)', () => {
    const ma = multiaddr(
      '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit',
    );
    assert.equal(subnetOfMultiaddr(ma), 'v4:198.51');
  });

  it('relaySubnets is the union of claims and verified networks; accounting prefers the verified one', () => {
    const r = relay(1);
    const signed = r.descriptor({ addresses: bytes('/ip4/10.99.0.1/tcp/1', '/ip4/10.98.0.1/tcp/1') });
    const unverified = { signed, standing: freshStanding(NOW) };
    assert.deepEqual(relaySubnets(unverified), ['v4:10.99', 'v4:10.98']);
    assert.deepEqual(accountingSubnets(unverified), ['v4:10.99', 'v4:10.98']);
    const verified = { signed, standing: { ...freshStanding(NOW), verifiedSubnets: ['v4:10.70'] } };
    assert.deepEqual(relaySubnets(verified), ['v4:10.99', 'v4:10.98', 'v4:10.70']);
    assert.deepEqual(accountingSubnets(verified), ['v4:10.70']);
    const dnsOnly = {
      signed: r.descriptor({ addresses: bytes('/dns4/x.example/tcp/1') }),
      standing: freshStanding(NOW),
    };
    assert.deepEqual(relaySubnets(dnsOnly), [UNKNOWN_SUBNET]);
    assert.deepEqual(accountingSubnets(dnsOnly), [UNKNOWN_SUBNET]);
  });
});
