// The attacker's side of the attack tests: a stock libp2p host (TCP, Noise, Yamux, identify: no
// AnonNet code) that dials a victim and speaks AnonNet's wire protocols by hand. Attack scripts in this
// folder run as their own processes (test/e2e/lib/attacker.ts starts them), so the victim is a real
// daemon talking to a real, separate peer over real sockets.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { Libp2p, Stream } from '@libp2p/interface';
import { type TCPSocketOptions, tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';

export interface AttackerHostOptions {
  /**
   * The most yamux receive window this host grants a stream (default: yamux's 16 MiB). An attacker
   * that wants its peer to buffer for it keeps it at the 256 KiB minimum.
   */
  readonly maxStreamWindow?: number;
  /** Dial from this local address (any of 127.0.0.0/8 on Linux): another "IP" on one machine. */
  readonly dialFrom?: string;
  /** Listen on 127.0.0.1 (default true); a host that only dials needs no listener. */
  readonly listen?: boolean;
}

export async function createAttackerHost(opts: AttackerHostOptions = {}): Promise<Libp2p> {
  // net.connect's localAddress: @libp2p/tcp passes its dial options through to net.connect.
  const dialOpts: TCPSocketOptions & { localAddress?: string } =
    opts.dialFrom === undefined ? {} : { localAddress: opts.dialFrom };
  return createLibp2p({
    addresses: { listen: opts.listen === false ? [] : ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp({ dialOpts })],
    connectionEncrypters: [noise()],
    streamMuxers: [
      opts.maxStreamWindow === undefined
        ? yamux()
        : yamux({ streamOptions: { maxStreamWindowSize: opts.maxStreamWindow } }),
    ],
    // An attacker does not hold back: no per-host inbound threshold, many connections.
    connectionManager: { maxConnections: 10_000, inboundConnectionThreshold: 10_000 },
    services: { identify: identify() },
  });
}

/** Opens `protocol` on the victim at `address` (a multiaddr with /p2p/<id>). */
export function openProtocol(host: Libp2p, address: string, protocol: string): Promise<Stream> {
  return host.dialProtocol(multiaddr(address), protocol, {
    signal: AbortSignal.timeout(10_000),
    runOnLimitedConnection: false,
  });
}

/** The argument an attack script was started with (one JSON document). */
export function attackArgs<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('an attack script takes one JSON argument');
  return JSON.parse(raw) as T;
}

/**
 * One JSON line on stdout: how an attack script reports to the test that started it. Every line also
 * carries `attackerCpuS`, the CPU seconds this process has used so far (for the attack-cost bench).
 */
export function report(value: Record<string, unknown>): void {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...value, attackerCpuS: (user + system) / 1e6 })}\n`);
}

/** Stops the hosts (a stream a victim stopped reading must not hold the script), then exits. */
export async function stopAll(hosts: readonly Libp2p[]): Promise<never> {
  await Promise.race([Promise.all(hosts.map((h) => h.stop())), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(0);
}
