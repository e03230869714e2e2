import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatIPv4,
  formatIPv6,
  hostKind,
  parseAuthority,
  parseIPv4,
  parseIPv6,
  parsePort,
} from '../../../src/proxy/host.ts';

describe('host helpers', () => {
  it('IPv4: strict dotted quads only', () => {
    assert.deepEqual(parseIPv4('127.0.0.1'), Uint8Array.from([127, 0, 0, 1]));
    assert.equal(formatIPv4(Uint8Array.from([10, 1, 255, 0])), '10.1.255.0');
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-4', '', 'a.b.c.d', '1..2.3']) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });

  it('IPv6: RFC 5952 text, as the WHATWG URL parser writes it', () => {
    assert.equal(formatIPv6(new Uint8Array(16)), '::');
    assert.equal(formatIPv6(parseIPv6('::1')!), '::1');
    assert.equal(formatIPv6(parseIPv6('2001:DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
    assert.equal(formatIPv6(parseIPv6('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIPv6(parseIPv6('::ffff:1.2.3.4')!), '::ffff:102:304');
    for (const bad of [
      '',
      ':',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '::1::',
      '12345::',
      'g::',
      '[::1]',
      '::1%eth0',
    ]) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIPv6(b);
        assert.deepEqual(parseIPv6(text), b);
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        assert.equal(parseIPv6(text) !== undefined, isIPv6(text), text);
      }),
      { numRuns: 500 },
    );
  });

  it('hostKind accepts hostnames and literals, refuses everything else', () => {
    assert.equal(hostKind('example.com'), 'hostname');
    assert.equal(hostKind('example.com.'), 'hostname');
    assert.equal(hostKind('a_b-c.anon'), 'hostname');
    assert.equal(hostKind('10.0.0.1'), 'ipv4');
    assert.equal(hostKind('fe80::1'), 'ipv6');
    for (const bad of [
      '',
      '.',
      'a..b',
      '.a',
      'a b',
      'a/b',
      'a@b',
      '[::1]',
      '1.2.3',
      '123',
      'x'.repeat(256),
      'é.com',
    ]) {
      assert.equal(hostKind(bad), undefined, bad);
    }
  });

  it('authorities and ports', () => {
    assert.deepEqual(parseAuthority('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(parseAuthority('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(parseAuthority('1.2.3.4:65535'), { host: '1.2.3.4', port: 65535 });
    for (const bad of [
      'example.com',
      'example.com:',
      'example.com:0',
      'a:65536',
      '::1:80',
      '[::1]80',
      'a:+1',
      'a:01',
      ':80',
    ]) {
      assert.equal(parseAuthority(bad), undefined, bad);
    }
    assert.equal(parsePort('8080'), 8080);
    assert.equal(parsePort('0'), undefined);
  });
});
