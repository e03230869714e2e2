// The client's circuit manager when a relay dies: four relays on real libp2p hosts, the middle relay of
// the circuit carrying a stream is stopped (a crash: its host goes, its service says nothing). The
// stream fails, the manager learns which relay was lost, and new streams get fresh circuits that
// leave it out, though its descriptor is still in the view, with no build attempt lost on it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CircuitManager, defaultCircuitManagerOptions } from '../../src/circuit/circuit-manager.ts';
import type { CircuitStream } from '../../src/circuit/circuit-streams.ts';
import { GuardSet } from '../../src/circuit/guards.ts';
import { createLogger } from '../../src/log/logger.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { startEchoServer } from './lib/echo-server.ts';
import { type MiniNet, startMiniNet } from './lib/mini-net.ts';
import { miniRelayView } from './lib/mini-view.ts';

let net: MiniNet;
let echo: Server;
let echoPort: number;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-manager-'));
  net = await startMiniNet([{ exit: true }, { exit: true }, { exit: true }, { exit: true }]);
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
}

test('a relay lost under a stream sits out: new streams get fresh circuits without it', async () => {
  const cm = new CircuitManager({
    host: net.client,
    view: miniRelayView(net),
    guards: new GuardSet(join(dir, 'guards.json'), { count: 3, lifetimeMs: 3_600_000 }),
    selfId: net.client.peerId.toString(),
    log: createLogger({ level: 'silent' }),
    options: { ...defaultCircuitManagerOptions, prebuilt: 0, allowSameSubnet: true },
    streams: clientStreams,
  });
  try {
    const first = await cm.openStream('127.0.0.1', echoPort, 'user-0', AbortSignal.timeout(20_000));
    await echoes(first, 'before');
    const [carrying] = cm.list();
    assert.ok(carrying !== undefined && carrying.path.length === 3);
    const lostId = carrying.path[1]!.peerId;
    const lost = net.relays.find((r) => r.peerId === lostId)!;
    const failed = new Promise<Error>((resolve) => first.once('error', resolve));
    await lost.host.stop();
    assert.ok((await failed) instanceof Error, 'the stream on the lost relay fails');
    assert.equal(carrying.state, 'closed');
    assert.ok(cm.health.isUnreachable(lostId, Date.now()), 'the manager knows which relay was lost');

    // Same isolation key, then new ones: each needs a circuit, and with one relay in four gone a
    // random 3-hop path would mostly include it; none does, and no build fails on it.
    const failedBuilds = cm.stats.failed;
    for (let i = 0; i < 6; i++) {
      const stream = await cm.openStream('127.0.0.1', echoPort, `user-${i}`, AbortSignal.timeout(20_000));
      await echoes(stream, `after ${i}`);
      stream.destroy();
    }
    assert.equal(cm.stats.failed, failedBuilds, 'no build attempt went through the lost relay');
    const open = cm.list().filter((c) => c.state === 'open');
    assert.equal(open.length, 6);
    for (const c of open) assert.ok(!c.path.some((h) => h.peerId === lostId), 'a path avoids the lost relay');
  } finally {
    await cm.stop();
  }
});
