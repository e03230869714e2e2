// The HTTP proxy against curl and Node's own client, over a direct test opener.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type HttpProxy, type HttpProxyOptions, startHttpProxy } from '../../../src/proxy/http-proxy.ts';
import type { StreamErrorCode, StreamOpener } from '../../../src/proxy/stream-opener.ts';
import {
  BIG,
  BIG_SHA256,
  closeServer,
  curl,
  directOpener,
  failingOpener,
  hangingOpener,
  listenOn,
  RawClient,
  recordingOpener,
  sha256,
  startHalfCloseOrigin,
  startOrigin,
  waitFor,
} from './helpers.ts';

async function withHttp<T>(
  opener: StreamOpener,
  opts: Partial<HttpProxyOptions>,
  fn: (p: HttpProxy) => Promise<T>,
): Promise<T> {
  const p = await startHttpProxy({ port: 0, ...opts }, { opener });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** One request through the proxy with Node's client; resolves status, headers and body. */
function viaProxy(
  proxyPort: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: proxyPort,
      path,
      method: opts.method ?? 'GET',
      headers: opts.headers ?? {},
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw CONNECT; resolves the status line, the response head and body (until close). */
async function rawConnect(proxyPort: number, authority: string): Promise<{ status: number; text: string }> {
  const c = await RawClient.connect(proxyPort);
  c.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const text = (await c.readToEnd()).toString();
  return { status: Number(text.split(' ')[1]), text };
}

describe('HTTP proxy with real clients', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let proxy: HttpProxy;
  const rec = recordingOpener(directOpener(true));
  let url: string;

  before(async () => {
    origin = await startOrigin();
    proxy = await startHttpProxy({ port: 0 }, { opener: rec });
    url = `http://localhost:${origin.port}/`;
  });
  after(async () => {
    await proxy.close();
    await closeServer(origin.server);
  });

  it('curl -x (absolute URI) and curl -p -x (CONNECT) fetch the page; the hostname stays unresolved', async () => {
    for (const extra of [[], ['-p']]) {
      const r = await curl([...extra, '-x', `http://127.0.0.1:${proxy.address.port}`, url]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'hello from origin\n');
      assert.deepEqual(rec.calls.at(-1)?.target, { host: 'localhost', port: origin.port });
      assert.equal(rec.calls.at(-1)?.isolationKey, 'default');
    }
  });

  it('a 10 MiB download (plain and CONNECT) and a 10 MiB upload arrive intact', async () => {
    const proxyUrl = `http://127.0.0.1:${proxy.address.port}`;
    for (const extra of [[], ['-p']]) {
      const r = await curl([...extra, '-x', proxyUrl, `${url}big`], 15_000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256(r.stdout), BIG_SHA256);
    }
    const file = join(tmpdir(), `anonnet-proxy-upload-${process.pid}.bin`);
    await writeFile(file, BIG);
    const up = await curl(['-x', proxyUrl, '--data-binary', `@${file}`, `${url}hash`], 15_000).finally(() =>
      rm(file, { force: true }),
    );
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.toString(), BIG_SHA256);
  });

  it('one kept-alive client connection carries several requests, each over its own stream', async () => {
    const before = rec.calls.length;
    const r = await curl(['-x', `http://127.0.0.1:${proxy.address.port}`, url, url, url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'hello from origin\n'.repeat(3));
    assert.equal(rec.calls.length - before, 3);
  });

  it('an origin that closes without answering → 502', async () => {
    const mute = createServer((sock) => {
      sock.on('error', () => {});
      sock.resume();
      sock.end();
    });
    const port = await listenOn(mute);
    try {
      const r = await viaProxy(proxy.address.port, `http://127.0.0.1:${port}/`);
      assert.equal(r.status, 502);
      assert.match(r.body, /^AnonNet proxy: GENERAL: /);
    } finally {
      await closeServer(mute);
    }
  });

  it('forwards in origin-form, rewrites Host, drops hop-by-hop headers', async () => {
    const r = await viaProxy(proxy.address.port, `http://localhost:${origin.port}/headers?q=1`, {
      headers: {
        Host: 'wrong.example',
        'Proxy-Connection': 'keep-alive',
        'Proxy-Authorization': 'Basic dTpw',
        Connection: 'x-drop-me',
        'X-Drop-Me': '1',
        'X-Keep-Me': '2',
      },
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/headers?q=1');
    assert.equal(seen.headers['host'], `localhost:${origin.port}`);
    assert.equal(seen.headers['x-keep-me'], '2');
    for (const h of ['proxy-connection', 'proxy-authorization', 'x-drop-me'])
      assert.equal(seen.headers[h], undefined, h);
  });

  it('Proxy-Authorization Basic credentials choose the isolation key', async () => {
    const keys: string[] = [];
    for (const [creds, extra] of [
      ['alice:pw1', []],
      ['bob:pw2', []],
      ['alice:pw1', ['-p']],
    ] as const) {
      const r = await curl([...extra, '-x', `http://${creds}@127.0.0.1:${proxy.address.port}`, url]);
      assert.equal(r.code, 0, r.stderr);
      keys.push(rec.calls.at(-1)?.isolationKey ?? '');
    }
    assert.deepEqual(keys, ['http:alice:pw1', 'http:bob:pw2', 'http:alice:pw1']);
  });

  it('bad requests → 400 with a text body, never a 500', async () => {
    const p = proxy.address.port;
    for (const path of ['/', 'https://example.com/', 'ftp://example.com/', `http://a_b..c:${origin.port}/`]) {
      const r = await viaProxy(p, path);
      assert.equal(r.status, 400, path);
      assert.match(r.body, /^AnonNet proxy: BAD_REQUEST: /);
    }
    const bad = await viaProxy(p, url, { headers: { 'Proxy-Authorization': 'Digest x' } });
    assert.equal(bad.status, 400);
    for (const a of ['example.com', 'example.com:0', '[::1:80', 'a b:80']) {
      assert.equal((await rawConnect(p, a)).status, 400, a);
    }
    const garbage = await RawClient.connect(p);
    garbage.write('\x16\x03\x01 garbage\r\n\r\n');
    assert.match((await garbage.readToEnd()).toString(), /^HTTP\/1\.1 400/);
  });
});

describe('HTTP proxy: failures', () => {
  const cases: [StreamErrorCode, number][] = [
    ['EXIT_POLICY', 403],
    ['TIMEOUT', 504],
    ['CONNECTION_REFUSED', 502],
    ['HOST_UNREACHABLE', 502],
    ['NETWORK_UNREACHABLE', 502],
    ['RESOLVE_FAILED', 502],
    ['NO_CIRCUIT', 502],
    ['TTL_EXPIRED', 502],
    ['GENERAL', 502],
  ];
  it('every stream error maps to its status, for CONNECT and for plain requests', async () => {
    for (const [code, status] of cases) {
      await withHttp(failingOpener(code), {}, async (p) => {
        const c = await rawConnect(p.address.port, 'example.com:443');
        assert.equal(c.status, status, code);
        assert.match(c.text, new RegExp(`\r\n\r\nAnonNet proxy: ${code}: `));
        const g = await viaProxy(p.address.port, 'http://example.com/');
        assert.equal(g.status, status, code);
        assert.equal(g.headers['x-anonnet-error'], code);
        assert.match(g.body, new RegExp(`^AnonNet proxy: ${code}: `));
      });
    }
  });

  it('international names: IDNA ASCII passes unchanged; raw UTF-8 in a request line is an HTTP 400', async () => {
    const rec = recordingOpener(failingOpener('GENERAL'));
    await withHttp(rec, {}, async (p) => {
      assert.equal((await rawConnect(p.address.port, 'xn--bcher-kva.example:443')).status, 502);
      assert.deepEqual(rec.calls.at(-1)?.target, { host: 'xn--bcher-kva.example', port: 443 });
      // URL parsing puts an absolute URI's name in IDNA ASCII form before we see it.
      assert.equal((await viaProxy(p.address.port, 'http://xn--r8jz45g.xn--zckzah:8080/')).status, 502);
      assert.deepEqual(rec.calls.at(-1)?.target, { host: 'xn--r8jz45g.xn--zckzah', port: 8080 });
      // HTTP/1.1 request targets are ASCII (RFC 9112); Node's parser answers 400 itself.
      assert.equal((await rawConnect(p.address.port, 'bücher.example:443')).status, 400);
      assert.equal(rec.calls.length, 2);
    });
  });

  it('an open that outlives openTimeoutMs → 504', async () => {
    await withHttp(hangingOpener(), { openTimeoutMs: 100 }, async (p) => {
      assert.equal((await rawConnect(p.address.port, 'example.com:80')).status, 504);
      assert.equal((await viaProxy(p.address.port, 'http://example.com/')).status, 504);
    });
  });

  it('a CONNECT client that leaves while the stream opens aborts the open', async () => {
    const opener = hangingOpener();
    await withHttp(opener, {}, async (p) => {
      const c = await RawClient.connect(p.address.port);
      c.write('CONNECT example.com:443 HTTP/1.1\r\n\r\n');
      await waitFor(() => opener.signals.length === 1, 3000, 'the open');
      c.destroy();
      await waitFor(() => opener.signals[0]?.aborted === true, 3000, 'the abort');
    });
  });

  it('a plain request whose client leaves while the stream opens aborts the open', async () => {
    const opener = hangingOpener();
    await withHttp(opener, {}, async (p) => {
      const c = await RawClient.connect(p.address.port);
      c.write('GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
      await waitFor(() => opener.signals.length === 1, 3000, 'the open');
      c.destroy();
      await waitFor(() => opener.signals[0]?.aborted === true, 3000, 'the abort');
    });
  });

  it('CONNECT tunnels half-close both ways', async () => {
    const origin = await startHalfCloseOrigin();
    try {
      await withHttp(directOpener(true), {}, async (p) => {
        const c = await RawClient.connect(p.address.port);
        c.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n\r\nearly `);
        const head = 'HTTP/1.1 200 Connection Established\r\n\r\n';
        assert.equal((await c.read(head.length)).toString(), head);
        c.write('words');
        c.socket.end();
        assert.equal((await c.readToEnd()).toString(), 'got:early words');
        const d = await RawClient.connect(p.address.port);
        d.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n\r\n`);
        await d.read(head.length);
        d.write('first');
        assert.equal((await d.readToEnd()).toString(), 'bye');
        d.write('late');
        await waitFor(() => origin.lateBytes() === 'late', 3000, 'late bytes');
        d.socket.end();
        await waitFor(() => p.connections === 0, 3000, 'connections to close');
      });
    } finally {
      await closeServer(origin.server);
    }
  });

  it('an open tunnel outlives the header deadline; IPv6 authorities reach the opener without brackets', async () => {
    const origin = await startHalfCloseOrigin();
    const rec = recordingOpener(directOpener(true));
    try {
      await withHttp(rec, { handshakeTimeoutMs: 100 }, async (p) => {
        const c = await RawClient.connect(p.address.port);
        c.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n\r\n`);
        const head = 'HTTP/1.1 200 Connection Established\r\n\r\n';
        assert.equal((await c.read(head.length)).toString(), head);
        await new Promise((r) => setTimeout(r, 400));
        c.write('still here');
        c.socket.end();
        assert.equal((await c.readToEnd()).toString(), 'got:still here');
        await rawConnect(p.address.port, '[::1]:9');
        assert.deepEqual(rec.calls.at(-1)?.target, { host: '::1', port: 9 });
      });
    } finally {
      await closeServer(origin.server);
    }
  });

  it('a slow-loris client is closed after the header deadline', async () => {
    await withHttp(failingOpener('GENERAL'), { handshakeTimeoutMs: 200 }, async (p) => {
      const t0 = Date.now();
      const c = await RawClient.connect(p.address.port);
      c.write('GET http://example.com/ HTTP/1.1\r\nHost: exa');
      await c.ended(3000);
      const ms = Date.now() - t0;
      assert.ok(ms >= 150 && ms < 2000, `${ms} ms`);
    });
  });
});
