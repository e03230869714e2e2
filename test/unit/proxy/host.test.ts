import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beginHost, hostKind, parseAuthority, parsePort } from '../../../src/proxy/host.ts';

describe('host helpers', () => {
  it('hostKind accepts what BEGIN may carry (international names too), refuses everything else', () => {
    assert.equal(hostKind('example.com'), 'name');
    assert.equal(hostKind('example.com.'), 'name');
    assert.equal(hostKind('a_b-c.anon'), 'name');
    assert.equal(hostKind('10.0.0.1'), 'ipv4');
    assert.equal(hostKind('fe80::1'), 'ipv6');
    // The protocol allows them (docs/protocol.md, Hosts); the exit resolves, never the proxy.
    assert.equal(hostKind('é.com'), 'name');
    assert.equal(hostKind('bücher.example'), 'name');
    assert.equal(hostKind('例え.テスト'), 'name');
    assert.equal(hostKind('1.2.3'), 'name');
    assert.equal(hostKind('123'), 'name');
    for (const bad of [
      '',
      '.',
      'a..b',
      '.a',
      'a b',
      'a/b',
      'a@b',
      '[::1]',
      'x'.repeat(256),
      'é'.repeat(128), // 256 bytes of UTF-8
      'a\u0085b', // a C1 control
      'a\ud800b', // not UTF-8
      '1.2.3.4::',
      'fe80::1%eth0',
    ]) {
      assert.equal(hostKind(bad), undefined, bad);
    }
  });

  it('beginHost sends an international name in its IDNA ASCII form, everything else as it is', () => {
    assert.equal(beginHost('bücher.example'), 'xn--bcher-kva.example');
    assert.equal(beginHost('BÜCHER.example'), 'xn--bcher-kva.example');
    assert.equal(beginHost('例え.テスト'), 'xn--r8jz45g.xn--zckzah');
    for (const same of ['Example.COM', 'a_b.anon', '10.0.0.1', '::FFFF:1.2.3.4', 'xn--bcher-kva.example'])
      assert.equal(beginHost(same), same);
    // IDNA refuses it, the protocol allows it: it goes as UTF-8 and the exit answers.
    const refusedByIdna = 'a\u00a0b.example';
    assert.equal(hostKind(refusedByIdna), 'name');
    assert.equal(beginHost(refusedByIdna), refusedByIdna);
  });

  it('authorities and ports', () => {
    assert.deepEqual(parseAuthority('bücher.example:443'), { host: 'bücher.example', port: 443 });
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
