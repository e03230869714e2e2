// HTTP/1.1 and HTTP/2 (h2c) share the API's port: the first bytes decide, even when they arrive one
// at a time.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/server.ts';
import { fakes, TOKEN } from './requests.ts';

let app: FastifyInstance;
let port: number;
before(async () => {
  app = buildApi(fakes().source, TOKEN);
  port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
});
after(() => app.close());

/** Sends `request` in pieces of `chunk` bytes, 10 ms apart; resolves to the whole answer. */
function dribble(request: string, chunk: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => {
      answer += d.toString();
    });
    s.on('end', () => resolve(answer));
    s.on('error', reject);
    s.on('connect', async () => {
      for (let i = 0; i < request.length; i += chunk) {
        s.write(request.slice(i, i + chunk));
        await new Promise((r) => setTimeout(r, 10));
      }
    });
  });
}

test('HTTP/1.1 byte by byte, including a method starting with P', async () => {
  const get = await dribble(
    `GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
    1,
  );
  assert.match(get, /^HTTP\/1\.1 200 /);
  assert.match(get, /"peerId":/);
  const body = '{}';
  const post = await dribble(
    `POST /api/v1/circuits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    2,
  );
  assert.match(post, /^HTTP\/1\.1 201 /);
  const patch = await dribble(`PATCH /api/v1/config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 1);
  assert.match(patch, /^HTTP\/1\.1 401 /);
});

test('HTTP/2 with prior knowledge reaches the Connect router on the same port', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const call = (auth: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/anonnet.v1.ControlService/GetStatus',
          'content-type': 'application/json',
          ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}),
        });
        let body = '';
        let status = 0;
        req.on('response', (h) => {
          status = Number(h[':status']);
        });
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end('{}');
      });
    const ok = await call(true);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /"bootstrap":\{"percent":100/);
    const refused = await call(false);
    assert.equal(refused.status, 401);
    assert.match(refused.body, /"code":"unauthenticated"/);
  } finally {
    session.close();
  }
});
