// The client subsystem with a ledger: five relays on real libp2p hosts, all in the client's relay view,
// three of them on the ledger's relay list. Every circuit the client builds goes through listed relays
// only; when the ledger's state moves on (two relays penalised, two others registered), circuits through
// the relays that left take no new streams, and new circuits follow the new list, guards included.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { CircuitStream } from '../../src/circuit/circuit-streams.ts';
import { createClient, defaultClientOptions } from '../../src/circuit/client-subsystem.ts';
import { credits } from '../../src/ledger/credits.ts';
import type { LedgerState } from '../../src/ledger/state.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { ledgerState } from '../unit/circuit/ledger-helpers.ts';
import { startEchoServer } from './lib/echo-server.ts';
import { type MiniNet, startMiniNet } from './lib/mini-net.ts';
import { miniRelayView } from './lib/mini-view.ts';

let net: MiniNet;
let echo: Server;
let echoPort: number;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-ledger-paths-'));
  net = await startMiniNet([{ exit: true }, { exit: true }, { exit: true }, { exit: true }, { exit: true }]);
  ({ server: echo, port: echoPort } = await startEchoServer());
});

after(async () => {
  echo?.close();
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function echoes(stream: CircuitStream, text: string): Promise<void> {
  stream.write(text);
  let got = '';
  while (got.length < text.length) {
    const chunk = stream.read() as Buffer | null;
    if (chunk === null) await once(stream, 'readable');
    else got += chunk.toString();
  }
  assert.equal(got, text);
  stream.end();
}

/** A ledger state listing relays `listed` (indexes into net.relays) and, penalised, `penalised`. */
function stateListing(listed: readonly number[], penalised: readonly number[] = []): LedgerState {
  const key = (i: number) => net.relays[i]!.identity.publicKey;
  return ledgerState([
    ...listed.map((i) => ({ n: key(i), claim: 10_000_000, measured: 5_000_000 })),
    ...penalised.map((i) => ({ n: key(i), claim: 10_000_000, measured: 5_000_000, bond: credits(0) })),
  ]);
}

test('circuits use only the relays of the ledger list, and follow it as the state moves on', async () => {
  const ledger = { state: stateListing([0, 1, 2]) };
  const client = createClient(
    {
      ...defaultClientOptions,
      dataDir: dir,
      guardsFile: 'guards.json',
      guards: 2,
      hops: 3,
      prebuilt: 0,
      buildTimeoutMs: 15_000,
      allowSameSubnet: true,
      unmeasuredWeightCap: 1,
    },
    {
      log: createLogger({ level: 'silent' }),
      host: net.client,
      view: miniRelayView(net),
      metrics: createMetrics(),
      streams: clientStreams,
      ledger,
    },
  );
  const ids = (...indexes: number[]) => new Set(indexes.map((i) => net.relays[i]!.peerId));
  const built: string[][] = [];
  client.circuits.onEvent((event, c) => {
    if (event === 'built') built.push(c.path.map((h) => h.peerId));
  });
  /** Opens `count` streams on fresh circuits (one isolation key each); every hop is in `allowed`. */
  const pathsThrough = async (allowed: ReadonlySet<string>, tag: string, count: number) => {
    built.length = 0;
    for (let i = 0; i < count; i++) {
      const s = await client.circuits.openStream(
        '127.0.0.1',
        echoPort,
        `${tag}-${i}`,
        AbortSignal.timeout(20_000),
      );
      await echoes(s, `${tag} ${i}`);
    }
    assert.equal(built.length, count, 'one circuit per isolation key');
    for (const path of built) {
      assert.equal(path.length, 3);
      for (const id of path) assert.ok(allowed.has(id), `${tag}: a hop the ledger does not list`);
    }
  };
  try {
    await pathsThrough(ids(0, 1, 2), 'first', 4);
    // The next committed state: relays 0 and 1 penalised (bond burned), 3 and 4 registered. The open
    // circuits (each through 0 and 1) take no new streams: the same isolation keys get new circuits.
    ledger.state = stateListing([2, 3, 4], [0, 1]);
    await pathsThrough(ids(2, 3, 4), 'first', 4);
    await pathsThrough(ids(2, 3, 4), 'next', 4);
  } finally {
    await client.stop();
  }
});
