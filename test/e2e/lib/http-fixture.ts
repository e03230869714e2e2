// A local HTTP server for end-to-end tests: a small page, a large deterministic body with a known
// hash, and a slow endless body for "kill a relay mid-transfer".
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PAGE =
  '<!doctype html><title>AnonNet test page</title><h1 id="hello">Hello through AnonNet</h1>\n';

/** Deterministic bytes: block i is SHA-256 chained, so any corruption or reordering changes the hash. */
function block(i: number): Buffer {
  const seed = createHash('sha256').update(`anonnet-block-${i}`).digest();
  return Buffer.concat(Array.from({ length: 2048 }, () => seed)); // 64 KiB
}

export function bigBodyHash(mib: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < mib * 16; i++) h.update(block(i));
  return h.digest('hex');
}

export interface Fixture {
  readonly server: Server;
  readonly port: number;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    if (url.pathname === '/big') {
      const mib = Number(url.searchParams.get('mib') ?? '1');
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(mib * 1024 * 1024),
      });
      let i = 0;
      const total = mib * 16;
      const pump = () => {
        while (i < total) {
          if (!res.write(block(i++))) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(block(0)), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
