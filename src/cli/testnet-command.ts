// `anonnet testnet` (what `npm start` runs): N daemons on 127.0.0.1, bootstrapped from one another,
// ready when every node knows every relay. Node 0 is a client only (it serves the proxies and the API,
// and publishes nothing about itself); nodes 1..N-1 are the relays, every odd one also an exit, and with
// a ledger nodes 1..v are its genesis validators.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TOKEN_FILE } from '../api/token.ts';
import { writeFileAtomic } from '../daemon/atomic-file.ts';
import { nodeDir, Supervisor } from '../testnet/supervisor.ts';
import { renderBar } from './progress-display.ts';
import { testnetGenesis } from './testnet-genesis.ts';

export interface TestnetFlags {
  nodes: number;
  dir?: string;
  fresh?: boolean;
  socksPort: number;
  httpPort: number;
  apiPort: number;
  json?: boolean;
  timeout: number;
  powDifficulty: number;
  descriptorLifetime: number;
  walkInterval: number;
  transports: string;
  logLevel: string;
  ledger: boolean;
  validators: number;
  blockInterval: number;
  epochLength: number;
}

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${v}`);
  return n;
};

export function addTestnetOptions(cmd: Command): Command {
  return cmd
    .option('-n, --nodes <n>', 'number of daemons: the client (node 0) and the relays', int, 8)
    .option('--dir <dir>', "root of the nodes' data directories (default $TMPDIR/anonnet-testnet)")
    .option('--fresh', 'delete the data directories first (new identities)')
    .option('--socks-port <port>', 'SOCKS5 proxy port of the client node', int, 9050)
    .option('--http-port <port>', 'HTTP proxy port of the client node', int, 8118)
    .option('--api-port <port>', 'control API port of the client node', int, 9080)
    .option('--json', 'print one JSON line on stdout when the network is ready')
    .option('--timeout <ms>', 'give up if not ready within this time', int, 180_000)
    .option('--pow-difficulty <bits>', 'identity proof-of-work difficulty', int, 8)
    .option('--descriptor-lifetime <ms>', 'relay descriptor lifetime', int, 60_000)
    .option('--walk-interval <ms>', 'pause between DHT random walks', int, 2_000)
    .option('--transports <list>', 'transports in dial preference order', 'tcp,quic')
    .option('--log-level <level>', 'log level of the nodes (logs in each node-N/daemon.log)', 'info')
    .option('--no-ledger', 'run no ledger (no genesis document, no validators)')
    .option('--validators <n>', 'validators in the genesis document: nodes 1..n (at most the relays)', int, 4)
    .option('--block-interval <ms>', "the ledger's block interval (a governed parameter)", int, 500)
    .option('--epoch-length <blocks>', 'blocks per ledger epoch (relays are paid once an epoch)', int, 100);
}

type Say = (line: string) => void;

/** The `ready` line: printed with --json and written to <dir>/testnet.json. */
interface ReadyInfo {
  readonly ready: true;
  readonly nodes: number;
  readonly dir: string;
  readonly socks: string;
  readonly http: string;
  readonly api: string;
  readonly token: string;
  readonly readyMs: number;
  readonly children: readonly {
    readonly index: number;
    readonly pid: number | undefined;
    readonly peerId: string | undefined;
    readonly dataDir: string;
  }[];
}

export async function runTestnet(flags: TestnetFlags): Promise<void> {
  const n = flags.nodes;
  if (n < 2 || n > 64) {
    process.stderr.write('anonnet testnet: --nodes must be between 2 and 64 (a client and its relays)\n');
    process.exit(2);
  }
  const root = resolve(flags.dir ?? join(tmpdir(), 'anonnet-testnet'));
  if (flags.fresh) rmSync(root, { recursive: true, force: true });
  const say: Say = (s) => {
    if (!flags.json) process.stderr.write(`${s}\n`);
  };
  const started = Date.now();
  const sup = new Supervisor();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the testnet...');
    await sup.stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('exit', () => sup.killAllNow());

  const ledgerArgs = await writeGenesis(flags, root);
  const deadline = AbortSignal.timeout(flags.timeout);
  try {
    say(`starting ${n} AnonNet nodes in ${root}`);
    await startNodes(sup, flags, root, ledgerArgs, deadline, say);
  } catch (err) {
    const reason = deadline.aborted ? `not ready within ${flags.timeout} ms` : (err as Error).message;
    process.stderr.write(`anonnet testnet: ${reason}\n`);
    await stop(1);
    return;
  }

  const ready = readyInfo(sup, flags, root, started);
  writeFileAtomic(join(root, 'testnet.json'), `${JSON.stringify(ready)}\n`, 0o600);
  if (flags.json) process.stdout.write(`${JSON.stringify(ready)}\n`);
  else printReady(ready, flags, root, started, say);
  sup.onChange(() => {
    for (const c of sup.children) {
      if (c.exited && !stopping && !(c as { reported?: boolean }).reported) {
        (c as { reported?: boolean }).reported = true;
        say(`node ${c.index} exited (${c.exited.code ?? c.exited.signal})`);
      }
    }
  });
}

/** Genesis validators: nodes 1..v, never the client; at least one, at most every relay. */
export function validatorCount(flags: Pick<TestnetFlags, 'ledger' | 'validators' | 'nodes'>): number {
  return flags.ledger ? Math.max(1, Math.min(flags.validators, flags.nodes - 1)) : 0;
}

/**
 * The ledger's genesis names the first validators' keys, so their identities are made first.
 * Returns the flags that point every node at it (none with --no-ledger).
 */
async function writeGenesis(flags: TestnetFlags, root: string): Promise<string[]> {
  if (!flags.ledger) return [];
  const genesisPath = join(root, 'genesis.json');
  writeFileAtomic(
    genesisPath,
    await testnetGenesis(
      root,
      validatorCount(flags),
      flags.powDifficulty,
      flags.blockInterval,
      flags.epochLength,
    ),
    0o644,
  );
  return ['--genesis', genesisPath, '--timeout-propose', '1000'];
}

/** Node 0 is a client only; the others relay, every odd one is also an exit, nodes 1..v validate. */
function rolesOf(flags: TestnetFlags, i: number): string[] {
  if (i === 0) return ['--client-only'];
  const roles = [
    'relay',
    ...(i % 2 === 1 ? ['exit'] : []),
    ...(i <= validatorCount(flags) ? ['validator'] : []),
  ];
  return ['--roles', roles.join(',')];
}

/** The daemon flags of node i (before its --bootstrap addresses). */
function nodeArgs(flags: TestnetFlags, root: string, i: number, ledgerArgs: readonly string[]): string[] {
  const n = flags.nodes;
  return [
    '--listen',
    '/ip4/127.0.0.1/tcp/0',
    '--listen',
    '/ip4/127.0.0.1/udp/0/quic-v1',
    '--allow-private-addresses',
    '--allow-same-subnet',
    '--allow-loopback-exit',
    // Node 0 is the client: the proxies and the API are on it; the others are the relays.
    ...(i === 0
      ? [
          '--socks-port',
          String(flags.socksPort),
          '--http-port',
          String(flags.httpPort),
          '--api-port',
          String(flags.apiPort),
          // Fewer than 3 hops only when the network has fewer than 3 relays.
          '--hops',
          String(Math.max(1, Math.min(3, n - 1))),
        ]
      : ['--no-socks', '--no-http-proxy', '--no-api']),
    // Every node dials from 127.0.0.1: the per-host rate limit would turn most of them away, and the
    // per-IP caps count every node of the network as one address (docs/security.md, section 6).
    '--inbound-per-host',
    '1000',
    '--max-connections-per-ip',
    String(Math.max(32, 4 * n)),
    '--max-pending-per-ip',
    String(Math.max(8, 2 * n)),
    '--no-upnp',
    '--transports',
    flags.transports,
    '--pow-difficulty',
    String(flags.powDifficulty),
    '--descriptor-lifetime',
    String(flags.descriptorLifetime),
    '--walk-interval',
    String(flags.walkInterval),
    '--min-peers',
    String(Math.min(n - 1, 4)),
    '--min-relays',
    String(Math.min(n - 1, 3)),
    ...rolesOf(flags, i),
    '--log-level',
    flags.logLevel,
    '--log-file',
    join(nodeDir(root, i), 'daemon.log'),
    ...ledgerArgs,
  ];
}

/** The child of node `index` (children are kept in the order they were started). */
const child = (sup: Supervisor, index: number) => sup.children.find((c) => c.index === index);

/**
 * Node 1 (a relay: the client serves nobody the DHT) first, the others bootstrapped from its TCP
 * addresses; resolves when every node knows every relay and the client has a circuit. Throws when a
 * node exits or `deadline` fires.
 */
async function startNodes(
  sup: Supervisor,
  flags: TestnetFlags,
  root: string,
  ledgerArgs: readonly string[],
  deadline: AbortSignal,
  say: Say,
): Promise<void> {
  const n = flags.nodes;
  const failIfDead = () => {
    const dead = sup.children.find((c) => c.exited !== undefined);
    if (dead) {
      throw new Error(
        `node ${dead.index} exited (${dead.exited?.code ?? dead.exited?.signal}) during start:\n${dead.stderrTail.trim()}`,
      );
    }
  };
  const first = sup.spawnChild({
    index: 1,
    dataDir: nodeDir(root, 1),
    args: nodeArgs(flags, root, 1, ledgerArgs),
  });
  await sup.waitFor(() => {
    failIfDead();
    return (first.status?.listen.length ?? 0) > 0;
  }, deadline);
  const seeds = (first.status?.listen ?? []).filter((a) => a.includes('/tcp/'));
  for (let i = 0; i < n; i++) {
    if (i === 1) continue;
    const args = [...nodeArgs(flags, root, i, ledgerArgs), ...seeds.flatMap((a) => ['--bootstrap', a])];
    sup.spawnChild({ index: i, dataDir: nodeDir(root, i), args });
  }
  const relays = n - 1;
  let lastLine = '';
  const clientReadyNow = () => (child(sup, 0)?.status?.circuitsOpen ?? 0) > 0;
  await sup.waitFor(() => {
    failIfDead();
    const knowing = sup.children.filter((c) => c.status?.relaysKnown === relays).length;
    // The nodes' mean bootstrap percent, held below 100 until every node knows every relay.
    const mean = Math.round(sup.children.reduce((s, c) => s + (c.status?.bootstrap.percent ?? 0), 0) / n);
    const pct = knowing === n && clientReadyNow() ? 100 : Math.min(99, mean);
    const line = `${renderBar({ percent: pct, phase: pct === 100 ? 'done' : 'relays', summary: `${knowing}/${n} nodes know all ${relays} relays${knowing === n && pct < 100 ? ', building the first circuit' : ''}` })}`;
    if (line !== lastLine) say(line);
    lastLine = line;
    // The client also has a circuit ready, so the first request does not wait for a build.
    const clientReady = clientReadyNow();
    return sup.children.length === n && knowing === n && clientReady;
  }, deadline);
}

function readyInfo(sup: Supervisor, flags: TestnetFlags, root: string, started: number): ReadyInfo {
  const client = child(sup, 0)?.status;
  let token = '';
  try {
    token = readFileSync(join(nodeDir(root, 0), TOKEN_FILE), 'utf8').trim();
  } catch {
    // no API on the client node
  }
  return {
    ready: true,
    nodes: flags.nodes,
    dir: root,
    socks: client?.socks ?? `127.0.0.1:${flags.socksPort}`,
    http: client?.http ?? `127.0.0.1:${flags.httpPort}`,
    api: client?.api ?? `http://127.0.0.1:${flags.apiPort}`,
    token,
    readyMs: Date.now() - started,
    children: [...sup.children]
      .sort((a, b) => a.index - b.index)
      .map((c) => ({
        index: c.index,
        pid: c.process.pid,
        peerId: c.status?.peerId,
        dataDir: c.dataDir,
      })),
  };
}

function printReady(ready: ReadyInfo, flags: TestnetFlags, root: string, started: number, say: Say): void {
  const n = flags.nodes;
  say(
    `\nAnonNet testnet ready: a client and ${n - 1} relays in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  say(`  data:   ${root} (logs in node-N/daemon.log, status in node-N/status.json)`);
  say(`  SOCKS5: ${ready.socks}   HTTP proxy: ${ready.http}   API: ${ready.api}`);
  say(`  try:    curl --socks5-hostname ${ready.socks} http://127.0.0.1:8000/   (any local web server)`);
  say(`  API token: ${join(nodeDir(root, 0), TOKEN_FILE)}`);
  if (ready.token !== '')
    say(
      `  dashboard: ${ready.api}/#token=${ready.token}   (the token stays in the page, never in a request URL)`,
    );
  if (flags.ledger)
    say(
      `  ledger: ${validatorCount(flags)} validators (nodes 1..${validatorCount(flags)}), a block every ${flags.blockInterval} ms (anonnet ledger status --data-dir ${nodeDir(root, 0)})`,
    );
  say('Press Ctrl-C to stop.');
}
