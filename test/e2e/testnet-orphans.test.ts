// No daemon outlives its testnet, even when the testnet process itself is killed with -9.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EPHEMERAL_PORTS, isAlive, removeDir, startTestnet, tempDir, until } from './lib/testnet.ts';

test('kill -9 of the testnet process takes its children with it', async () => {
  const dir = tempDir('anonnet-orphans-');
  const net = await startTestnet(['--nodes', '3', '--dir', dir, ...EPHEMERAL_PORTS]);
  try {
    const pids = net.ready.children.map((c) => c.pid);
    assert.ok(pids.every(isAlive));
    await net.stop('SIGKILL');
    await until(() => pids.every((p) => !isAlive(p)), 15_000, 'children to exit after their parent died');
  } finally {
    for (const c of net.ready.children) if (isAlive(c.pid)) process.kill(c.pid, 'SIGKILL');
    removeDir(dir);
  }
});
