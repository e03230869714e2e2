import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ProxyError, startProxies } from '../../../src/proxy/index.ts';
import { closeServer, curl, directOpener, listenOn, startOrigin } from './helpers.ts';

describe('startProxies', () => {
  it('starts both on free ports, serves through both, and close() frees them', async () => {
    const origin = await startOrigin();
    const proxies = await startProxies({ socks: { port: 0 }, http: { port: 0 }, opener: directOpener() });
    try {
      const socks = proxies.socksAddress;
      const http = proxies.httpAddress;
      assert.ok(socks !== undefined && http !== undefined);
      assert.equal(socks.host, '127.0.0.1');
      assert.ok(socks.port > 0 && http.port > 0 && socks.port !== http.port);
      const url = `http://127.0.0.1:${origin.port}/`;
      for (const args of [
        ['--socks5-hostname', `127.0.0.1:${socks.port}`, url],
        ['-x', `http://127.0.0.1:${http.port}`, url],
      ]) {
        const r = await curl(args);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), 'hello from origin\n');
      }
    } finally {
      await proxies.close();
      await closeServer(origin.server);
    }
    // The ports are free again.
    for (const port of [proxies.socksAddress?.port, proxies.httpAddress?.port]) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      await closeServer(s);
    }
  });

  it('only what is asked for', async () => {
    const p = await startProxies({ http: { port: 0 }, opener: directOpener() });
    assert.equal(p.socksAddress, undefined);
    assert.ok(p.httpAddress !== undefined);
    await p.close();
  });

  it('LISTEN_FAILED names the address, and nothing is left listening', async () => {
    const taken = createServer();
    const port = await listenOn(taken);
    try {
      await assert.rejects(
        startProxies({ http: { port }, opener: directOpener() }),
        (err: unknown) =>
          err instanceof ProxyError &&
          err.code === 'LISTEN_FAILED' &&
          err.message.includes(`127.0.0.1:${port}`),
      );
      // SOCKS binds first, then HTTP fails: the SOCKS listener must be closed again.
      const probe = createServer();
      const socksPort = await listenOn(probe);
      await closeServer(probe);
      await assert.rejects(
        startProxies({ socks: { port: socksPort }, http: { port }, opener: directOpener() }),
        {
          code: 'LISTEN_FAILED',
        },
      );
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(socksPort, '127.0.0.1', () => resolve());
      });
      await closeServer(again);
    } finally {
      await closeServer(taken);
    }
  });

  it('BAD_OPTIONS for a port out of range', async () => {
    await assert.rejects(startProxies({ socks: { port: 70000 }, opener: directOpener() }), {
      code: 'BAD_OPTIONS',
    });
    await assert.rejects(startProxies({ http: { port: -1 }, opener: directOpener() }), {
      code: 'BAD_OPTIONS',
    });
  });
});
