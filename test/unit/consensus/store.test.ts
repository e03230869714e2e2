// The block store on a real SQLite file: write, close, reopen and replay; refusals; corruption found;
// and a writer killed with SIGKILL mid-appends leaves every block whose append returned.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openBlockStore, StoreError } from '../../../src/consensus/store/block-store.ts';
import { applyBlock } from '../../../src/ledger/chain.ts';
import { type LedgerState, stateHash } from '../../../src/ledger/state.ts';
import { blockHash, decodeBlock, decodeCommit, encodeBlock, encodeCommit } from '../../../src/wire/block.ts';
import { testGenesisState, validatorIds } from '../ledger/chain-fixtures.ts';
import { appendNext, storeDriver, storeGenesis } from './store-chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'anonnet-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `blocks-${n++}.db`);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  return 'none';
}

/** Replays every stored block from genesis, independently of the store's snapshots. */
function replayAll(path: string): LedgerState {
  const store = openBlockStore(path);
  let state = storeGenesis();
  try {
    for (const { block } of store.range(1, 1_000_000)) {
      const decoded = decodeBlock(block);
      assert.equal(decoded.kind, 'ok');
      if (decoded.kind !== 'ok') break;
      const r = applyBlock(state, decoded.value);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      if (r.ok) state = r.state;
    }
  } finally {
    store.close();
  }
  return state;
}

describe('BlockStore', () => {
  it('writes, closes, reopens and replays to the same state', () => {
    const path = freshPath();
    const d = storeDriver();
    const store = openBlockStore(path, { snapshotEvery: 4 });
    assert.equal(store.tip(), null);
    assert.deepEqual(stateHash(store.loadState(d.state)), stateHash(d.state));
    for (let i = 0; i < 10; i++) appendNext(d, store);
    const tip = store.tip();
    assert.equal(tip?.height, 10);
    assert.deepEqual(tip?.stateHash, stateHash(d.state));
    assert.deepEqual(tip?.hash, d.state.lastBlockHash);
    store.close();
    assert.equal(
      code(() => store.tip()),
      'CLOSED',
    );

    const again = openBlockStore(path, { snapshotEvery: 4 });
    const loaded = again.loadState(storeGenesis());
    assert.deepEqual(stateHash(loaded), stateHash(d.state));
    // Blocks and commits come back byte for byte, and link up.
    const rows = again.range(3, 4);
    assert.deepEqual(
      rows.map((r) => r.height),
      [3, 4, 5, 6],
    );
    for (const r of rows) {
      const b = decodeBlock(r.block);
      const c = decodeCommit(r.commit);
      assert.ok(b.kind === 'ok' && c.kind === 'ok');
      assert.deepEqual(c.value.blockHash, blockHash(b.value));
      assert.deepEqual(again.block(r.height), r.block);
      assert.deepEqual(again.commit(r.height), r.commit);
    }
    assert.equal(again.block(11), undefined);
    assert.deepEqual(again.range(11, 5), []);
    // The store keeps growing after a restart.
    appendNext(d, again);
    again.close();
    assert.deepEqual(stateHash(replayAll(path)), stateHash(d.state));
  });

  it('refuses blocks that do not extend the tip, and a store of another genesis', () => {
    const path = freshPath();
    const d = storeDriver();
    const store = openBlockStore(path);
    store.loadState(d.state);
    appendNext(d, store);
    const block = d.build();
    const commit = d.commitLast();
    const bb = encodeBlock(block);
    const cb = encodeCommit(commit);
    // Block 2 not applied yet: its commit (of block 1) is for another block, and state is behind.
    assert.equal(
      code(() => store.append(block, bb, commit, cb, d.state)),
      'BAD_LINK',
    );
    const r = applyBlock(d.state, block);
    assert.ok(r.ok);
    if (!r.ok) return;
    const skip = { ...block, header: { ...block.header, height: 3 } };
    assert.equal(
      code(() => store.append(skip, bb, commit, cb, r.state)),
      'NOT_NEXT',
    );
    const fork = { ...block, header: { ...block.header, prevHash: new Uint8Array(32).fill(5) } };
    assert.equal(
      code(() => store.append(fork, bb, commit, cb, r.state)),
      'BAD_LINK',
    );
    assert.equal(store.tip()?.height, 1, 'refused appends write nothing');
    store.close();

    const other = openBlockStore(path);
    assert.equal(
      code(() => other.loadState(testGenesisState(validatorIds.slice(1, 5)))),
      'GENESIS_MISMATCH',
    );
    other.close();
  });

  it("keeps a validator's own messages until their height is committed, across a reopen", () => {
    const path = freshPath();
    const d = storeDriver();
    const store = openBlockStore(path);
    store.loadState(d.state);
    appendNext(d, store); // height 1
    const msg = (label: string) => new TextEncoder().encode(label);
    store.appendOwnMessage(2, msg('prevote 2/0'));
    store.appendOwnMessage(3, msg('proposal 3/0'));
    store.appendOwnMessage(2, msg('precommit 2/0'));
    const text = (list: Uint8Array[]) => list.map((b) => new TextDecoder().decode(b));
    assert.deepEqual(text(store.ownMessages(2)), ['prevote 2/0', 'proposal 3/0', 'precommit 2/0']);
    assert.deepEqual(text(store.ownMessages(3)), ['proposal 3/0']);
    store.close();
    const again = openBlockStore(path);
    again.loadState(storeGenesis());
    assert.deepEqual(text(again.ownMessages(2)), ['prevote 2/0', 'proposal 3/0', 'precommit 2/0']);
    appendNext(d, again); // height 2 committed: its messages go, height 3's stay
    assert.deepEqual(text(again.ownMessages(0)), ['proposal 3/0']);
    again.close();
    assert.equal(
      code(() => again.appendOwnMessage(4, msg('late'))),
      'CLOSED',
    );
  });

  it('finds a corrupt snapshot and a block that no longer replays to its state hash', () => {
    const path = freshPath();
    const d = storeDriver();
    const store = openBlockStore(path, { snapshotEvery: 3 });
    store.loadState(d.state);
    for (let i = 0; i < 5; i++) appendNext(d, store);
    store.close(); // snapshot at 3 and at the tip (5)

    const db = new DatabaseSync(path);
    db.prepare('UPDATE snapshots SET bytes = ? WHERE height = 5').run(new Uint8Array([1, 2, 3]));
    db.close();
    const s1 = openBlockStore(path);
    assert.equal(
      code(() => s1.loadState(storeGenesis())),
      'CORRUPT',
    );
    s1.close();

    const db2 = new DatabaseSync(path);
    db2.exec('DELETE FROM snapshots');
    db2.prepare('UPDATE blocks SET state_hash = ? WHERE height = 4').run(new Uint8Array(32));
    db2.close();
    const s2 = openBlockStore(path);
    assert.equal(
      code(() => s2.loadState(storeGenesis())),
      'REPLAY_MISMATCH',
    );
    s2.close();
  });

  it('survives kill -9 mid-appends: every acknowledged block is there and replays', async () => {
    const path = freshPath();
    const child = fileURLToPath(new URL('./store-crash-child.ts', import.meta.url));
    const proc = spawn(process.execPath, [child, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acknowledged = 0;
    let killing = false;
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      proc.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) acknowledged = Math.max(acknowledged, Number(l));
        // Past a few snapshots (every 7), kill at a random moment: often inside an append.
        if (acknowledged >= 40 && !killing) {
          killing = true;
          setTimeout(
            () => {
              proc.kill('SIGKILL');
              resolve();
            },
            Math.floor(Math.random() * 25),
          );
        }
      });
      proc.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited early (${code}): ${stderr}`));
      });
    });
    await new Promise((resolve) => proc.once('close', resolve));
    // Every line read, even after the kill, was printed after its append returned.
    assert.equal(proc.signalCode, 'SIGKILL');

    const store = openBlockStore(path, { snapshotEvery: 7 });
    const tip = store.tip();
    assert.ok(
      tip !== null && tip.height >= acknowledged,
      `tip ${tip?.height} < acknowledged ${acknowledged}`,
    );
    for (let h = 1; h <= tip.height; h++) {
      assert.ok(store.block(h) !== undefined && store.commit(h) !== undefined, `block ${h} is missing`);
    }
    const loaded = store.loadState(storeGenesis());
    assert.equal(loaded.height, tip.height);
    assert.deepEqual(stateHash(loaded), tip.stateHash);
    store.close();
    // The same chain, rebuilt independently, reaches the same state hash at that height.
    const d = storeDriver();
    const scratch = openBlockStore(':memory:');
    scratch.loadState(d.state);
    while (d.state.height < tip.height) appendNext(d, scratch);
    scratch.close();
    assert.deepEqual(stateHash(d.state), tip.stateHash);
    assert.deepEqual(stateHash(replayAll(path)), tip.stateHash);
  });
});
