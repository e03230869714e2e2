// Interop over a real libp2p TCP connection: one host with the default Noise crypto, the other with
// ours (src/p2p/noise-crypto.ts); 4 MiB go each way through an echo stream in sizes below and above
// the 1200-byte split, and must come back unchanged.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { noiseCrypto } from '../../src/p2p/noise-crypto.ts';

const ECHO = '/anonnet-test/echo/1.0.0';

async function host(custom: boolean): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [custom ? noise({ crypto: noiseCrypto }) : noise()],
    streamMuxers: [yamux()],
  });
}

function collect(stream: Stream, total: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    stream.addEventListener('message', (evt) => {
      parts.push(Buffer.from(evt.data.subarray()));
      got += evt.data.byteLength;
      if (got >= total) resolve(Buffer.concat(parts));
    });
    stream.addEventListener('close', (evt) => reject(evt.error ?? new Error('closed early')));
  });
}

describe('noise crypto interop (default ⇄ ours, real TCP)', () => {
  let a: Libp2p;
  let b: Libp2p;
  before(async () => {
    a = await host(false);
    b = await host(true);
    for (const h of [a, b])
      await h.handle(ECHO, (stream) => {
        stream.addEventListener('message', (evt) => {
          stream.send(evt.data);
        });
      });
  });
  after(async () => {
    await a.stop();
    await b.stop();
  });

  for (const [from, to, name] of [
    [() => a, () => b, 'default dials ours'],
    [() => b, () => a, 'ours dials default'],
  ] as const) {
    it(name, async () => {
      const stream = await from().dialProtocol(to().getMultiaddrs(), ECHO);
      const data = randomBytes(4 * 1024 * 1024);
      const echoed = collect(stream, data.length);
      // Mixed write sizes: tiny, around the split, and big ones.
      const sizes = [1, 100, 1199, 1200, 1201, 2048, 65519, 70000, 300000];
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = Math.min(sizes[i % sizes.length]!, data.length - off);
        if (!stream.send(data.subarray(off, off + n)))
          await new Promise((r) => stream.addEventListener('drain', r, { once: true }));
        off += n;
      }
      assert.ok((await echoed).equals(data));
      await stream.close();
    });
  }
});
