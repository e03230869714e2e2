// A real AnonNet relay (the stock daemon, `anonnet node` in this process) that lies about itself: its
// descriptor claims `bandwidth` bytes per second (default 4 GB/s, near the u32 limit) where the
// honest testnet relays claim the default 10 MiB/s. Before the weight cap (docs/security.md section
// 10) it was the exit of 30 of 30 circuits. Joins the network through `bootstrap` and reports one
// JSON line when its descriptor is out: {"ready":true,"peerId":...,"bandwidth":...}.
//
//   args: {"dataDir": "...", "bootstrap": ["/ip4/.../p2p/..."], "bandwidth": 4000000000,
//          "powDifficulty": 8, "roles": "relay,exit"}
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode } from '../../../src/cli/node-command.ts';
import { attackArgs, report } from './attacker-host.ts';

interface Args {
  dataDir: string;
  bootstrap: string[];
  bandwidth?: number;
  powDifficulty?: number;
  roles?: string;
}

const args = attackArgs<Args>();
const bandwidth = args.bandwidth ?? 4_000_000_000;

await runNode({
  dataDir: args.dataDir,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: args.bootstrap,
  transports: 'tcp',
  allowPrivateAddresses: true,
  inboundPerHost: 1000,
  nat: false,
  socks: false,
  httpProxy: false,
  api: false,
  powDifficulty: args.powDifficulty ?? 8,
  descriptorLifetime: 60_000,
  walkInterval: 2_000,
  minPeers: 4,
  minRelays: 3,
  roles: args.roles ?? 'relay,exit',
  bandwidth,
  allowLoopbackExit: true,
  logLevel: 'info',
  logFile: join(args.dataDir, 'daemon.log'),
});

// The daemon writes its status every two seconds; report once its descriptor has been published.
const timer = setInterval(() => {
  try {
    const s = JSON.parse(readFileSync(join(args.dataDir, 'status.json'), 'utf8')) as {
      peerId: string;
      descriptorsPublished: number;
      pid: number;
    };
    if (s.pid === process.pid && s.descriptorsPublished > 0) {
      report({ ready: true, peerId: s.peerId, bandwidth });
      clearInterval(timer);
    }
  } catch {
    // not written yet
  }
}, 250);
