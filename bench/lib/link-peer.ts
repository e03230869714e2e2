// One side of a link-throughput measurement, run as its own OS process by bench/link-throughput.ts:
//   node bench/lib/link-peer.ts <case> recv [--first-run N]
//   node bench/lib/link-peer.ts <case> send --addr A --bytes N --runs R --warmup-bytes W --chunk C
// The receiver listens on 127.0.0.1, prints a `ready` line, and answers every transfer (one stream or
// one TCP connection each) with an 8-byte ack carrying the byte count it saw; it exits when its stdin
// closes. The sender makes the warm-up transfer (run 0, skipped when W is 0) and then R measured ones,
// one after the other, and exits. Both print one `transfer` line per transfer (see link-protocol.ts).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { parseArgs } from 'node:util';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { createHost, type Host } from '../../src/p2p/host.ts';
import { defaultP2pOptions, type P2pOptions, type Transport } from '../../src/p2p/options.ts';
import {
  ACK_BYTES,
  BENCH_PROTOCOL,
  decodeAck,
  encodeAck,
  isLinkCase,
  type LinkCase,
  type PeerLine,
} from './link-protocol.ts';

const TRANSFER_TIMEOUT_MS = 120_000;

function emit(line: PeerLine): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** CPU time and wall time since `start()`, for one transfer. */
class Meter {
  #t0 = 0;
  #cpu0: NodeJS.CpuUsage = { user: 0, system: 0 };
  start(): void {
    this.#t0 = performance.now();
    this.#cpu0 = process.cpuUsage();
  }
  read(): { ms: number; cpuUserMs: number; cpuSysMs: number } {
    const cpu = process.cpuUsage(this.#cpu0);
    return { ms: performance.now() - this.#t0, cpuUserMs: cpu.user / 1000, cpuSysMs: cpu.system / 1000 };
  }
}

// ---- libp2p ----

function hostOptions(transport: Transport, listen: string[]): P2pOptions {
  return {
    ...defaultP2pOptions,
    listen,
    bootstrap: [],
    transports: [transport],
    allowPrivateAddresses: true,
    nat: { autonat: false, dcutr: false, relayClient: false, relayServer: false, upnp: false },
  };
}

async function startHost(transport: Transport, listen: string[]): Promise<Host> {
  return createHost({
    identitySeed: randomBytes(32),
    options: hostOptions(transport, listen),
    validators: {},
    selectors: {},
    agentVersion: 'anonnet-bench',
  });
}

function transportOf(c: LinkCase): Transport {
  return c === 'libp2p-quic' ? 'quic' : 'tcp';
}

async function libp2pReceiver(c: LinkCase, firstRun: number): Promise<() => Promise<void>> {
  const transport = transportOf(c);
  const listen = transport === 'quic' ? '/ip4/127.0.0.1/udp/0/quic-v1' : '/ip4/127.0.0.1/tcp/0';
  const host = await startHost(transport, [listen]);
  let run = firstRun;
  await host.handle(
    BENCH_PROTOCOL,
    (stream: Stream) => {
      const thisRun = run++;
      const meter = new Meter();
      let bytes = 0;
      let calls = 0;
      stream.addEventListener('message', (evt) => {
        if (calls === 0) meter.start();
        calls++;
        bytes += evt.data.byteLength;
      });
      stream.addEventListener(
        'end',
        () => {
          const m = meter.read();
          emit({ type: 'transfer', role: 'recv', run: thisRun, bytes, calls, drains: 0, ...m });
          stream.send(encodeAck(bytes));
          stream.close().catch((err: unknown) => stream.abort(err as Error));
        },
        { once: true },
      );
    },
    { maxInboundStreams: 2 },
  );
  const addr = host.getMultiaddrs()[0];
  if (addr === undefined) throw new Error('receiver host has no listen address');
  emit({ type: 'ready', addr: addr.toString() });
  return async () => {
    await host.stop();
  };
}

async function libp2pSend(host: Host, addr: string, run: number, total: number, chunk: Uint8Array) {
  const signal = AbortSignal.timeout(TRANSFER_TIMEOUT_MS);
  const stream = await host.dialProtocol(multiaddr(addr), BENCH_PROTOCOL, { signal });
  const ackParts: Uint8Array[] = [];
  const closed = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      ackParts.push(evt.data.subarray());
    });
    stream.addEventListener('close', (evt) => (evt.error ? reject(evt.error) : resolve()), { once: true });
  });
  const meter = new Meter();
  meter.start();
  let sent = 0;
  let calls = 0;
  let drains = 0;
  while (sent < total) {
    const n = Math.min(chunk.byteLength, total - sent);
    sent += n;
    calls++;
    if (!stream.send(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) {
      drains++;
      await stream.onDrain({ signal });
    }
  }
  await stream.close({ signal });
  await closed;
  const m = meter.read();
  const acked = decodeAck(Buffer.concat(ackParts));
  emit({ type: 'transfer', role: 'send', run, bytes: acked, calls, drains, ...m });
}

// ---- raw node:net TCP ----

async function rawReceiver(firstRun: number): Promise<() => Promise<void>> {
  let run = firstRun;
  const server = net.createServer((sock) => {
    const thisRun = run++;
    const meter = new Meter();
    let bytes = 0;
    let calls = 0;
    sock.on('data', (buf: Buffer) => {
      if (calls === 0) meter.start();
      calls++;
      bytes += buf.byteLength;
    });
    sock.on('end', () => {
      const m = meter.read();
      emit({ type: 'transfer', role: 'recv', run: thisRun, bytes, calls, drains: 0, ...m });
      sock.end(encodeAck(bytes));
    });
    sock.on('error', (err) => {
      process.stderr.write(`recv socket error: ${err.message}\n`);
      process.exitCode = 1;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP listen address');
  emit({ type: 'ready', addr: `127.0.0.1:${address.port}` });
  return async () => {
    server.close();
  };
}

async function rawSend(addr: string, run: number, total: number, chunk: Uint8Array) {
  const [hostPart, portPart] = addr.split(':');
  const sock = net.connect({ host: hostPart ?? '127.0.0.1', port: Number(portPart) });
  sock.setTimeout(TRANSFER_TIMEOUT_MS, () => sock.destroy(new Error('transfer timed out')));
  await once(sock, 'connect');
  const ackParts: Buffer[] = [];
  sock.on('data', (buf: Buffer) => ackParts.push(buf));
  const closed = once(sock, 'close');
  const meter = new Meter();
  meter.start();
  let sent = 0;
  let calls = 0;
  let drains = 0;
  while (sent < total) {
    const n = Math.min(chunk.byteLength, total - sent);
    sent += n;
    calls++;
    if (!sock.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) {
      drains++;
      await once(sock, 'drain');
    }
  }
  sock.end();
  await closed;
  const m = meter.read();
  emit({
    type: 'transfer',
    role: 'send',
    run,
    bytes: decodeAck(Buffer.concat(ackParts)),
    calls,
    drains,
    ...m,
  });
}

// ---- main ----

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      addr: { type: 'string' },
      bytes: { type: 'string', default: '0' },
      runs: { type: 'string', default: '1' },
      'warmup-bytes': { type: 'string', default: '0' },
      chunk: { type: 'string', default: '65536' },
      'first-run': { type: 'string', default: '1' },
    },
  });
  const [caseName, role] = positionals;
  if (caseName === undefined || !isLinkCase(caseName)) throw new Error(`unknown case ${caseName}`);

  if (role === 'recv') {
    const stop =
      caseName === 'tcp-raw'
        ? await rawReceiver(Number(values['first-run']))
        : await libp2pReceiver(caseName, Number(values['first-run']));
    process.stdin.resume();
    await once(process.stdin, 'end');
    await stop();
    return;
  }
  if (role !== 'send') throw new Error(`unknown role ${role}`);

  const addr = values.addr;
  if (addr === undefined) throw new Error('--addr is required');
  const total = Number(values.bytes);
  const runs = Number(values.runs);
  const warmup = Number(values['warmup-bytes']);
  const chunk = randomBytes(Number(values.chunk));
  if (chunk.byteLength < ACK_BYTES) throw new Error('--chunk is too small');

  const host = caseName === 'tcp-raw' ? undefined : await startHost(transportOf(caseName), []);
  const transfer = (run: number, bytes: number) =>
    host === undefined ? rawSend(addr, run, bytes, chunk) : libp2pSend(host, addr, run, bytes, chunk);
  if (warmup > 0) await transfer(0, warmup);
  for (let run = 1; run <= runs; run++) await transfer(run, total);
  await host?.stop();
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`link-peer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
