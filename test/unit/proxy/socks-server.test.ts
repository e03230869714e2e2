// The SOCKS server against real clients (curl) and raw sockets, over a direct test opener.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeSocks5Request } from '../../../src/proxy/socks-codec.ts';
import {
  type SocksServer,
  type SocksServerOptions,
  startSocksServer,
} from '../../../src/proxy/socks-server.ts';
import type { StreamErrorCode, StreamOpener } from '../../../src/proxy/stream-opener.ts';
import {
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

const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

async function withSocks<T>(
  opener: StreamOpener,
  opts: Partial<SocksServerOptions>,
  fn: (s: SocksServer) => Promise<T>,
): Promise<T> {
  const s = await startSocksServer({ port: 0, ...opts }, { opener });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Greets with no-auth and sends a CONNECT for host:port; returns the client after the 2-byte choice. */
async function socks5Connect(port: number, host = 'example.com', dport = 80): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.write(u8(5, 1, 0));
  assert.deepEqual(await c.read(2), Buffer.from([5, 0]));
  c.write(encodeSocks5Request({ command: 1, type: 'domain', host, port: dport }));
  return c;
}

describe('SOCKS server with real clients', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let socks: SocksServer;
  const rec = recordingOpener(directOpener(true));
  let url: string;

  before(async () => {
    origin = await startOrigin();
    socks = await startSocksServer({ port: 0 }, { opener: rec });
    url = `http://localhost:${origin.port}/`;
  });
  after(async () => {
    await socks.close();
    await closeServer(origin.server);
  });

  it('curl --socks5-hostname: the hostname reaches the opener unresolved', async () => {
    const r = await curl(['--socks5-hostname', `127.0.0.1:${socks.address.port}`, url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'hello from origin\n');
    assert.deepEqual(rec.calls.at(-1)?.target, { host: 'localhost', port: origin.port });
    assert.equal(rec.calls.at(-1)?.isolationKey, 'default');
  });

  it('curl --socks5 (IPv4 address), --socks4 and --socks4a', async () => {
    const ipUrl = `http://127.0.0.1:${origin.port}/`;
    for (const [flag, u, host] of [
      ['--socks5', ipUrl, '127.0.0.1'],
      ['--socks4', ipUrl, '127.0.0.1'],
      ['--socks4a', url, 'localhost'],
    ] as const) {
      const r = await curl([flag, `127.0.0.1:${socks.address.port}`, u]);
      assert.equal(r.code, 0, `${flag}: ${r.stderr}`);
      assert.equal(r.stdout.toString(), 'hello from origin\n');
      assert.equal(rec.calls.at(-1)?.target.host, host, flag);
    }
  });

  it('a 10 MiB body arrives intact (sha256)', async () => {
    const r = await curl(['--socks5-hostname', `127.0.0.1:${socks.address.port}`, `${url}big`], 15_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(r.stdout), BIG_SHA256);
  });

  it('username/password and SOCKS4 userids choose the isolation key', async () => {
    const keys: string[] = [];
    for (const proxy of [
      `socks5h://alice:pw1@127.0.0.1:${socks.address.port}`,
      `socks5h://bob:pw2@127.0.0.1:${socks.address.port}`,
      `socks5h://a%3Ab:c@127.0.0.1:${socks.address.port}`,
      `socks5h://a:b%3Ac@127.0.0.1:${socks.address.port}`,
      `socks4a://carol@127.0.0.1:${socks.address.port}`,
    ]) {
      const r = await curl(['-x', proxy, url]);
      assert.equal(r.code, 0, `${proxy}: ${r.stderr}`);
      keys.push(rec.calls.at(-1)?.isolationKey ?? '');
    }
    assert.deepEqual(keys, [
      'socks5:alice:pw1',
      'socks5:bob:pw2',
      'socks5:a%3Ab:c',
      'socks5:a:b%3Ac',
      'socks4:carol',
    ]);
  });
});

describe('SOCKS server: failures and hostile clients', () => {
  const cases: [StreamErrorCode, number][] = [
    ['EXIT_POLICY', 0x02],
    ['NETWORK_UNREACHABLE', 0x03],
    ['HOST_UNREACHABLE', 0x04],
    ['RESOLVE_FAILED', 0x04],
    ['CONNECTION_REFUSED', 0x05],
    ['TTL_EXPIRED', 0x06],
    ['TIMEOUT', 0x06],
    ['NO_CIRCUIT', 0x01],
    ['GENERAL', 0x01],
  ];
  for (const [code, rep] of cases) {
    it(`${code} → SOCKS5 reply ${rep}, SOCKS4 reply 0x5B, then close`, async () => {
      await withSocks(failingOpener(code), {}, async (s) => {
        const c = await socks5Connect(s.address.port);
        assert.deepEqual(await c.readToEnd(), Buffer.from([5, rep, 0, 1, 0, 0, 0, 0, 0, 0]));
        const c4 = await RawClient.connect(s.address.port);
        c4.write(u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...Buffer.from('example.com'), 0));
        assert.deepEqual(await c4.readToEnd(), Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
      });
    });
  }

  it('an opener that throws something else is a general failure; one that throws synchronously too', async () => {
    const weird: StreamOpener = { open: () => Promise.reject(new Error('boom')) };
    const sync: StreamOpener = {
      open: () => {
        throw new Error('sync boom');
      },
    };
    for (const o of [weird, sync]) {
      await withSocks(o, {}, async (s) => {
        const c = await socks5Connect(s.address.port);
        assert.deepEqual((await c.readToEnd()).subarray(0, 2), Buffer.from([5, 1]));
      });
    }
  });

  it('BIND and UDP ASSOCIATE → 07 command not supported; unknown ATYP → 08; bad host → 04', async () => {
    await withSocks(failingOpener('GENERAL'), {}, async (s) => {
      for (const [req, rep] of [
        [encodeSocks5Request({ command: 2, type: 'ipv4', host: '1.2.3.4', port: 80 }), 7],
        [encodeSocks5Request({ command: 3, type: 'ipv4', host: '0.0.0.0', port: 53 }), 7],
        [u8(5, 1, 0, 9, 1, 2, 3, 4, 0, 80), 8],
        [u8(5, 1, 0, 3, 3, 0x61, 0x20, 0x62, 0, 80), 4],
        [u8(5, 1, 1, 1, 1, 2, 3, 4, 0, 80), 1],
      ] as const) {
        const c = await RawClient.connect(s.address.port);
        c.write(u8(5, 1, 0));
        assert.deepEqual(await c.read(2), Buffer.from([5, 0]));
        c.write(req);
        assert.deepEqual((await c.readToEnd()).subarray(0, 2), Buffer.from([5, rep]));
      }
      const c4 = await RawClient.connect(s.address.port);
      c4.write(u8(4, 2, 0, 80, 1, 2, 3, 4, 0));
      assert.deepEqual(await c4.readToEnd(), Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
    });
  });

  it('an international name is accepted and sent in its IDNA ASCII form, never resolved here', async () => {
    const rec = recordingOpener(failingOpener('GENERAL'));
    await withSocks(rec, {}, async (s) => {
      const c = await socks5Connect(s.address.port, 'bücher.example', 443);
      assert.deepEqual((await c.readToEnd()).subarray(0, 2), Buffer.from([5, 1]));
      assert.deepEqual(rec.calls.at(-1)?.target, { host: 'xn--bcher-kva.example', port: 443 });
      const c4 = await RawClient.connect(s.address.port);
      c4.write(u8(4, 1, 0, 80, 0, 0, 0, 1, 0, ...Buffer.from('例え.テスト'), 0));
      assert.deepEqual((await c4.readToEnd()).subarray(0, 2), Buffer.from([0, 0x5b]));
      assert.deepEqual(rec.calls.at(-1)?.target, { host: 'xn--r8jz45g.xn--zckzah', port: 80 });
      assert.equal(rec.calls.length, 2);
    });
  });

  it('no acceptable method → FF; a bad subnegotiation version → failure status; both close', async () => {
    await withSocks(failingOpener('GENERAL'), {}, async (s) => {
      const c = await RawClient.connect(s.address.port);
      c.write(u8(5, 1, 0x80));
      assert.deepEqual(await c.readToEnd(), Buffer.from([5, 0xff]));
      const z = await RawClient.connect(s.address.port);
      z.write(u8(5, 0));
      assert.deepEqual(await z.readToEnd(), Buffer.from([5, 0xff]));
      const u = await RawClient.connect(s.address.port);
      u.write(u8(5, 2, 0, 2));
      assert.deepEqual(await u.read(2), Buffer.from([5, 2]));
      u.write(u8(5, 1, 0x61, 1, 0x62));
      assert.deepEqual(await u.readToEnd(), Buffer.from([1, 1]));
    });
  });

  it('a pipelined handshake (greeting + request + early data in one write) works', async () => {
    const origin = await startHalfCloseOrigin();
    try {
      await withSocks(directOpener(true), {}, async (s) => {
        const c = await RawClient.connect(s.address.port);
        c.write(
          Buffer.concat([
            u8(5, 1, 0),
            encodeSocks5Request({ command: 1, type: 'ipv4', host: '127.0.0.1', port: origin.port }),
            Buffer.from('early'),
          ]),
        );
        assert.deepEqual(await c.read(12), Buffer.from([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        c.socket.end();
        assert.equal((await c.readToEnd()).toString(), 'got:early');
      });
    } finally {
      await closeServer(origin.server);
    }
  });

  it('half-close works both ways', async () => {
    const origin = await startHalfCloseOrigin();
    try {
      await withSocks(directOpener(true), {}, async (s) => {
        // Client ends first; the origin still answers.
        const c = await socks5Connect(s.address.port, '127.0.0.1', origin.port);
        assert.equal((await c.read(10))[1], 0);
        c.write('hello ');
        c.write('world');
        c.socket.end();
        assert.equal((await c.readToEnd()).toString(), 'got:hello world');
        // The origin ends first; the client can still send.
        const d = await socks5Connect(s.address.port, '127.0.0.1', origin.port);
        assert.equal((await d.read(10))[1], 0);
        d.write('first');
        assert.equal((await d.readToEnd()).toString(), 'bye');
        assert.equal(d.socket.writable, true);
        d.write('late words');
        await waitFor(() => origin.lateBytes() === 'late words', 10000, 'late bytes at the origin');
        d.socket.end();
        await waitFor(() => s.connections === 0, 10000, 'connections to close');
      });
    } finally {
      await closeServer(origin.server);
    }
  });

  it('a stream that fails mid-way resets the client connection', async () => {
    const origin = createServer((sock) => {
      sock.on('data', () => sock.resetAndDestroy());
      sock.on('error', () => {});
    });
    const port = await listenOn(origin);
    try {
      for (const wrap of [true, false]) {
        await withSocks(directOpener(wrap), {}, async (s) => {
          const c = await socks5Connect(s.address.port, '127.0.0.1', port);
          assert.equal((await c.read(10))[1], 0);
          let code = '';
          c.socket.on('error', (e: NodeJS.ErrnoException) => {
            code = e.code ?? '';
          });
          c.write('x');
          await c.ended();
          await waitFor(() => code === 'ECONNRESET', 1000, 'a reset');
          await waitFor(() => s.connections === 0, 10000, 'connections to close');
        });
      }
    } finally {
      await closeServer(origin);
    }
  });

  it('a client that disconnects mid-handshake or while the stream opens: the open is aborted', async () => {
    const opener = hangingOpener();
    await withSocks(opener, {}, async (s) => {
      const a = await RawClient.connect(s.address.port);
      a.write(u8(5, 2, 0));
      a.destroy();
      const b = await socks5Connect(s.address.port);
      await waitFor(() => opener.signals.length === 1, 10000, 'the open');
      assert.equal(opener.signals[0]?.aborted, false);
      b.destroy();
      await waitFor(() => opener.signals[0]?.aborted === true, 10000, 'the abort');
      await waitFor(() => s.connections === 0, 10000, 'connections to close');
    });
  });

  it('an open that outlives openTimeoutMs → TTL expired (06)', async () => {
    const opener = hangingOpener();
    await withSocks(opener, { openTimeoutMs: 100 }, async (s) => {
      const c = await socks5Connect(s.address.port);
      assert.deepEqual((await c.readToEnd()).subarray(0, 2), Buffer.from([5, 6]));
      assert.equal(opener.signals[0]?.aborted, true);
    });
  });

  it('garbage bytes → closed, with nothing sent back', async () => {
    await withSocks(failingOpener('GENERAL'), {}, async (s) => {
      for (const g of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\x02\x00', '\x00\x00\x00']) {
        const c = await RawClient.connect(s.address.port);
        c.write(Buffer.from(g, 'latin1'));
        assert.equal((await c.readToEnd()).length, 0);
      }
    });
  });

  it('random bytes never crash the server; every connection ends by the deadline', async () => {
    await withSocks(failingOpener('CONNECTION_REFUSED'), { handshakeTimeoutMs: 80 }, async (s) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ minLength: 1, maxLength: 300 }),
            fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.from([5, ...b])),
            fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.from([4, 1, ...b])),
          ),
          async (bytes) => {
            const c = await RawClient.connect(s.address.port);
            c.write(bytes);
            await c.ended(2000);
          },
        ),
        { numRuns: 30 },
      );
      const r = await RawClient.connect(s.address.port);
      r.write(u8(5, 1, 0));
      assert.deepEqual(await r.read(2), Buffer.from([5, 0]), 'still serving');
    });
  });

  it('a slow-loris client is closed after the handshake deadline', async () => {
    await withSocks(failingOpener('GENERAL'), { handshakeTimeoutMs: 200 }, async (s) => {
      const t0 = Date.now();
      const silent = await RawClient.connect(s.address.port);
      const partial = await RawClient.connect(s.address.port);
      partial.write(u8(5, 1, 0, 5, 1, 0, 3));
      await silent.ended(2000);
      await partial.ended(2000);
      const ms = Date.now() - t0;
      assert.ok(ms >= 150 && ms < 1500, `${ms} ms`);
    });
  });

  it('more bytes than a handshake needs, with no request yet → closed', async () => {
    await withSocks(hangingOpener(), { maxBufferedBytes: 64 }, async (s) => {
      const c = await RawClient.connect(s.address.port);
      c.write(u8(5, 1, 0, 5, 1, 0, 3, 200, ...Buffer.from('a'.repeat(100))));
      assert.deepEqual(await c.readToEnd(), Buffer.from([5, 0]));
    });
  });

  it('early data beyond the buffer limit waits (reading paused) and then flows', async () => {
    const origin = await startHalfCloseOrigin();
    try {
      await withSocks(directOpener(true), { maxBufferedBytes: 64 }, async (s) => {
        const c = await RawClient.connect(s.address.port);
        const early = 'e'.repeat(100_000);
        c.write(
          Buffer.concat([
            u8(5, 1, 0),
            encodeSocks5Request({ command: 1, type: 'ipv4', host: '127.0.0.1', port: origin.port }),
            Buffer.from(early),
          ]),
        );
        assert.deepEqual(await c.read(12), Buffer.from([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
        c.socket.end();
        assert.equal((await c.readToEnd()).toString(), `got:${early}`);
      });
    } finally {
      await closeServer(origin.server);
    }
  });

  it('caps concurrent connections', async () => {
    await withSocks(hangingOpener(), { maxConnections: 2 }, async (s) => {
      const a = await RawClient.connect(s.address.port);
      const b = await RawClient.connect(s.address.port);
      await waitFor(() => s.connections === 2, 10000, 'two connections');
      const c = await RawClient.connect(s.address.port);
      await c.ended(2000);
      a.write(u8(5, 1, 0));
      assert.deepEqual(await a.read(2), Buffer.from([5, 0]));
      b.destroy();
      a.destroy();
    });
  });
});
