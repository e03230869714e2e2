// A daemon killed with -9 restarts from its data directory: same identity, its relay view read back
// from disk, and it finds the network again without any bootstrap peer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Daemon, startDaemon, statusOf } from './lib/daemon.ts';
import { removeDir, tempDir } from './lib/testnet.ts';

const root = tempDir('anonnet-restart-');
const running: Daemon[] = [];
after(async () => {
  await Promise.all(running.map((d) => d.stop()));
  removeDir(root);
});

test('kill -9, then restart without bootstrap peers', async () => {
  const a = startDaemon(join(root, 'a'));
  running.push(a);
  const sa = await statusOf(a, (s) => s.listen.length > 0, 20_000, 'node a listening');
  const seed = sa.listen.find((m) => m.includes('/tcp/'))!;
  const b = startDaemon(join(root, 'b'), ['--bootstrap', seed]);
  let c = startDaemon(join(root, 'c'), ['--bootstrap', seed]);
  running.push(b, c);
  for (const d of [a, b, c]) await statusOf(d, (s) => s.relaysKnown === 3, 30_000, 'three relays known');
  const before = await statusOf(c, () => true, 1_000, 'status of c');

  await c.stop('SIGKILL');
  c = startDaemon(join(root, 'c'));
  running.push(c);
  const restarted = await statusOf(
    c,
    (s) => s.bootstrap.percent === 100 && s.peers > 0,
    30_000,
    'c back at 100%',
  );
  assert.equal(restarted.peerId, before.peerId, 'same identity after kill -9');
  assert.ok(restarted.relaysKnown >= 3);
  // The others learn c's new descriptor (new port) and keep it.
  for (const d of [a, b])
    await statusOf(d, (s) => s.relays.includes(before.peerId) && s.peers > 0, 30_000, 'c known');
});
