// The client's circuit manager when a relay dies: four relays on real libp2p hosts, the middle relay of
// the circuit carrying a stream is stopped (a crash: its host goes, its service says nothing). The
// stream fails, the manager learns which relay was lost, and new streams get fresh circuits that
// leave it out, though its descriptor is still in the view, with no build attempt lost on it. And
// stop() while builds are in flight (relays that never answer CREATE) ends at once: every circuit the
// client began at a relay is destroyed there, none is left in the manager.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Stream } from '@libp2p/interface';
import { CellLink } from '../../src/circuit/cell-link.ts';
import { CircuitManager, defaultCircuitManagerOptions } from '../../src/circuit/circuit-manager.ts';
import type { CircuitStream } from '../../src/circuit/circuit-streams.ts';
import { CircuitError } from '../../src/circuit/errors.ts';
import { GuardSet } from '../../src/circuit/guards.ts';
import { CIRCUIT_PROTOCOL } from '../../src/circuit/protocol.ts';
import { createLogger } from '../../src/log/logger.ts';
import { clientStreams } from '../../src/stream/stream-table.ts';
import { decodeCell, LinkCommand } from '../../src/wire/cell.ts';
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

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('stop() during builds ends at once; every circuit begun at a relay is destroyed there', async () => {
  // Relays that take the client's channels and never answer a CREATE: every build stalls at its
  // first hop, for as long as its timeout (a minute here) unless it is cancelled.
  const holes = await startMiniNet([{}, {}, {}]);
  const held: Stream[] = [];
  const created = new Set<number>();
  const destroyed = new Set<number>();
  try {
    for (const r of holes.relays) {
      await r.service.stop();
      await r.host.handle(CIRCUIT_PROTOCOL, (stream) => {
        held.push(stream);
        const link = new CellLink(stream);
        link.onCell = (bytes) => {
          const cell = decodeCell(bytes);
          if (cell.kind !== 'ok') return;
          if (cell.value.command === LinkCommand.CREATE) created.add(cell.value.circuitId);
          if (cell.value.command === LinkCommand.DESTROY) destroyed.add(cell.value.circuitId);
        };
      });
    }
    // Mutable, as the client subsystem's: the control API may lower `prebuilt` while builds run.
    const options = {
      ...defaultCircuitManagerOptions,
      prebuilt: 2,
      allowSameSubnet: true,
      buildTimeoutMs: 60_000,
    };
    const cm = new CircuitManager({
      host: holes.client,
      view: miniRelayView(holes),
      guards: new GuardSet(join(dir, 'holes-guards.json'), { count: 3, lifetimeMs: 3_600_000 }),
      selfId: holes.client.peerId.toString(),
      log: createLogger({ level: 'silent' }),
      options,
      streams: clientStreams,
    });
    cm.maintain();
    const opening = cm.openStream('127.0.0.1', echoPort, 'user', AbortSignal.timeout(60_000));
    opening.catch(() => {});
    await until(() => created.size === 3, 'two prebuilds and a build for a stream to send CREATE');
    // Prebuilds no longer wanted are aborted; the build a stream waits for goes on.
    options.prebuilt = 0;
    cm.maintain();
    await until(() => destroyed.size === 2, 'the two prebuilds to be destroyed');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(destroyed.size, 2, "the stream's build is still under way");

    const started = performance.now();
    await cm.stop();
    const stopMs = performance.now() - started;
    assert.ok(stopMs < 2_000, `stop() waited ${Math.round(stopMs)} ms on builds in flight`);
    await assert.rejects(opening, (err) => err instanceof CircuitError);
    assert.deepEqual(cm.list(), [], 'no circuit is left in the manager');
    await until(() => [...created].every((id) => destroyed.has(id)), 'a DESTROY for every circuit begun');
    assert.equal(cm.stats.built, 0);
    // A build asked for after stop() fails at once.
    await assert.rejects(cm.buildNow(AbortSignal.timeout(60_000)), (err) => err instanceof CircuitError);
  } finally {
    for (const s of held) s.abort(new Error('test over'));
    await holes.stop();
  }
});
