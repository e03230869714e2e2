// The address group a neighbour's circuits count against: the prefix of the connection's IP address,
// IPv4-mapped IPv6 read as IPv4, loopback exempt only when asked, no group without an IP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import { ipGroup, ipGroupOfMultiaddr } from '../../../src/circuit/ip-group.ts';

const opts = { ipv4PrefixBits: 32, ipv6PrefixBits: 64, exemptLoopback: false };

describe('ipGroup', () => {
  it('puts each IPv4 address in its own group at /32, and a /24 together at 24 bits', () => {
    assert.equal(ipGroup('203.0.113.7', opts), '4:cb007107/32');
    assert.notEqual(ipGroup('203.0.113.7', opts), ipGroup('203.0.113.8', opts));
    const wide = { ...opts, ipv4PrefixBits: 24 };
    assert.equal(ipGroup('203.0.113.7', wide), ipGroup('203.0.113.250', wide));
    assert.notEqual(ipGroup('203.0.113.7', wide), ipGroup('203.0.114.7', wide));
    assert.equal(ipGroup('203.0.113.7', { ...opts, ipv4PrefixBits: 20 }), '4:cb007000/20');
  });

  it('groups IPv6 by /64: one host, many addresses, one group', () => {
    const a = ipGroup('2001:db8:1:2::1', opts);
    assert.equal(a, '6:20010db8000100020000000000000000/64');
    assert.equal(ipGroup('2001:db8:1:2:ffff:ffff:ffff:ffff', opts), a);
    assert.notEqual(ipGroup('2001:db8:1:3::1', opts), a);
    assert.equal(ipGroup('2001:db8:1:2::1%eth0', opts), a, 'a zone id is not part of the address');
    const wide = { ...opts, ipv6PrefixBits: 48 };
    assert.equal(ipGroup('2001:db8:1:2::1', wide), ipGroup('2001:db8:1:ffff::9', wide));
  });

  it('reads IPv4-mapped IPv6 (as multiaddr prints it) as the IPv4 address', () => {
    assert.equal(ipGroup('::ffff:102:304', opts), ipGroup('1.2.3.4', opts));
    assert.equal(ipGroup('::ffff:1.2.3.4', opts), ipGroup('1.2.3.4', opts));
  });

  it('groups loopback like any address, or exempts it when asked (a testnet on 127.0.0.1)', () => {
    assert.equal(ipGroup('127.0.0.1', opts), '4:7f000001/32');
    const exempt = { ...opts, exemptLoopback: true };
    assert.equal(ipGroup('127.0.0.1', exempt), undefined);
    assert.equal(ipGroup('127.5.6.7', exempt), undefined);
    assert.equal(ipGroup('::1', exempt), undefined);
    assert.equal(ipGroup('::ffff:127.0.0.1', exempt), undefined);
    assert.equal(ipGroup('10.0.0.1', exempt), '4:0a000001/32', 'private addresses are grouped');
  });

  it('has no group for what is not an IP address', () => {
    assert.equal(ipGroup('example.com', opts), undefined);
    assert.equal(ipGroup('1.2.3', opts), undefined);
    assert.equal(ipGroup('', opts), undefined);
  });
});

describe('ipGroupOfMultiaddr', () => {
  it('takes the first IP of the connection address: a relayed connection counts against its relay', () => {
    assert.equal(ipGroupOfMultiaddr(multiaddr('/ip4/198.51.100.4/tcp/4950'), opts), '4:c6336404/32');
    assert.equal(
      ipGroupOfMultiaddr(multiaddr('/ip6/2001:db8::5/udp/4950/quic-v1'), opts),
      '6:20010db8000000000000000000000000/64',
    );
    const relayed = multiaddr(
      '/ip4/198.51.100.4/tcp/4950/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA/p2p-circuit',
    );
    assert.equal(ipGroupOfMultiaddr(relayed, opts), '4:c6336404/32');
    assert.equal(ipGroupOfMultiaddr(multiaddr('/dns4/example.com/tcp/1'), opts), undefined);
  });
});
