// The block store: committed blocks, their commits, and ledger state snapshots in one embedded SQLite
// database (node:sqlite). Crash safety comes from SQLite itself: WAL journal with synchronous=FULL,
// and each block, its commit and the state hash it leads to are written in ONE transaction, so after
// a kill -9 the store holds every block whose append returned and nothing half-written.
//
// Restart = the newest snapshot (every `snapshotEvery` blocks, and at close()) + replaying the blocks
// after it with applyBlock, checking each resulting state hash against the one stored with the block.
// A mismatch means the code or the data changed under us: loadState refuses (REPLAY_MISMATCH) rather
// than serve a different ledger.
//
// Synchronous by design (DatabaseSync): one short transaction per committed block, a few ms of fsync.

import { createHash } from 'node:crypto';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { applyBlock } from '../../ledger/chain.ts';
import { type LedgerState, stateHash } from '../../ledger/state.ts';
import { decodeState, encodeState } from '../../ledger/state-codec.ts';
import { type Block, blockHash, type Commit, decodeBlock } from '../../wire/block.ts';
import { bytesEqual } from '../../wire/bytes.ts';
import { CodedError } from '../../wire/coded-error.ts';

export type StoreErrorCode =
  /** append() of a block that is not the tip's successor. */
  | 'NOT_NEXT'
  /** append() of a block whose prevHash is not the tip's hash, or a commit for another block. */
  | 'BAD_LINK'
  /** The store was opened for another genesis (chain). */
  | 'GENESIS_MISMATCH'
  /** Stored data that does not decode or does not hash as recorded. */
  | 'CORRUPT'
  /** Replaying stored blocks does not reproduce the stored state hashes. */
  | 'REPLAY_MISMATCH'
  | 'CLOSED';

export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name = 'StoreError';
}

export interface BlockStoreOptions {
  /** A state snapshot is written with every block whose height is a multiple of this. */
  readonly snapshotEvery: number;
  /** Snapshots kept (the newest ones). */
  readonly keepSnapshots: number;
}

export const defaultBlockStoreOptions: BlockStoreOptions = { snapshotEvery: 100, keepSnapshots: 2 };

export interface StoredTip {
  readonly height: number;
  readonly hash: Uint8Array;
  /** stateHash after applying the tip block. */
  readonly stateHash: Uint8Array;
}

export interface StoredBlock {
  readonly height: number;
  readonly block: Uint8Array;
  readonly commit: Uint8Array;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY, hash BLOB NOT NULL, bytes BLOB NOT NULL, state_hash BLOB NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS commits (height INTEGER PRIMARY KEY, bytes BLOB NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS snapshots (
    height INTEGER PRIMARY KEY, state_hash BLOB NOT NULL, bytes BLOB NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS own_messages (
    id INTEGER PRIMARY KEY, height INTEGER NOT NULL, bytes BLOB NOT NULL
  ) STRICT;
`;

export class BlockStore {
  readonly #db: DatabaseSync;
  readonly #opts: BlockStoreOptions;
  readonly #q: {
    tip: StatementSync;
    block: StatementSync;
    commit: StatementSync;
    range: StatementSync;
    insertBlock: StatementSync;
    insertCommit: StatementSync;
    insertSnapshot: StatementSync;
    pruneSnapshots: StatementSync;
    latestSnapshot: StatementSync;
    stateHashAt: StatementSync;
    getMeta: StatementSync;
    setMeta: StatementSync;
    insertOwn: StatementSync;
    ownFrom: StatementSync;
    pruneOwn: StatementSync;
  };
  /** The last state passed to append(): close() snapshots it. */
  #tipState: LedgerState | null = null;
  #open = true;

  private constructor(db: DatabaseSync, opts: BlockStoreOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#q = {
      tip: db.prepare('SELECT height, hash, state_hash FROM blocks ORDER BY height DESC LIMIT 1'),
      block: db.prepare('SELECT bytes FROM blocks WHERE height = ?'),
      commit: db.prepare('SELECT bytes FROM commits WHERE height = ?'),
      range: db.prepare(
        'SELECT b.height AS height, b.bytes AS block, c.bytes AS commit_bytes FROM blocks b JOIN commits c ' +
          'ON c.height = b.height WHERE b.height >= ? ORDER BY b.height LIMIT ?',
      ),
      insertBlock: db.prepare('INSERT INTO blocks (height, hash, bytes, state_hash) VALUES (?, ?, ?, ?)'),
      insertCommit: db.prepare('INSERT INTO commits (height, bytes) VALUES (?, ?)'),
      insertSnapshot: db.prepare(
        'INSERT OR REPLACE INTO snapshots (height, state_hash, bytes) VALUES (?, ?, ?)',
      ),
      pruneSnapshots: db.prepare(
        'DELETE FROM snapshots WHERE height NOT IN (SELECT height FROM snapshots ORDER BY height DESC LIMIT ?)',
      ),
      latestSnapshot: db.prepare(
        'SELECT height, state_hash, bytes FROM snapshots ORDER BY height DESC LIMIT 1',
      ),
      stateHashAt: db.prepare('SELECT state_hash FROM blocks WHERE height = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      insertOwn: db.prepare('INSERT INTO own_messages (height, bytes) VALUES (?, ?)'),
      ownFrom: db.prepare('SELECT bytes FROM own_messages WHERE height >= ? ORDER BY id'),
      pruneOwn: db.prepare('DELETE FROM own_messages WHERE height <= ?'),
    };
  }

  /** Opens (creating if needed) the store at `path` (a file; ':memory:' for tests). */
  static open(path: string, opts: Partial<BlockStoreOptions> = {}): BlockStore {
    const db = new DatabaseSync(path);
    try {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw err;
    }
    return new BlockStore(db, { ...defaultBlockStoreOptions, ...opts });
  }

  tip(): StoredTip | null {
    this.#check();
    const row = this.#q.tip.get() as { height: number; hash: Uint8Array; state_hash: Uint8Array } | undefined;
    return row === undefined ? null : { height: row.height, hash: row.hash, stateHash: row.state_hash };
  }

  /** The encoded block at `height`, if stored. */
  block(height: number): Uint8Array | undefined {
    this.#check();
    return (this.#q.block.get(height) as { bytes: Uint8Array } | undefined)?.bytes;
  }

  /** The encoded commit that finalised the block at `height`, if stored. */
  commit(height: number): Uint8Array | undefined {
    this.#check();
    return (this.#q.commit.get(height) as { bytes: Uint8Array } | undefined)?.bytes;
  }

  /**
   * Up to `max` consecutive blocks with their commits from `from` (for peers catching up), stopping
   * before the block that would take the total past `maxBytes` (the first block always comes). Rows
   * are read one at a time, so a request for many large blocks never loads more than it answers.
   */
  range(from: number, max: number, maxBytes = Number.POSITIVE_INFINITY): StoredBlock[] {
    this.#check();
    const out: StoredBlock[] = [];
    let bytes = 0;
    for (const row of this.#q.range.iterate(from, Math.max(0, Math.floor(max)))) {
      const r = row as { height: number; block: Uint8Array; commit_bytes: Uint8Array };
      bytes += r.block.length + r.commit_bytes.length;
      if (bytes > maxBytes && out.length > 0) break;
      out.push({ height: r.height, block: r.block, commit: r.commit_bytes });
    }
    return out;
  }

  /**
   * Records a committed block: the block, its commit and the state after it, in one transaction.
   * Throws StoreError (NOT_NEXT, BAD_LINK) when it does not extend the stored tip.
   */
  append(
    block: Block,
    blockBytes: Uint8Array,
    commit: Commit,
    commitBytes: Uint8Array,
    stateAfter: LedgerState,
  ): void {
    this.#check();
    const height = block.header.height;
    const hash = blockHash(block);
    const tip = this.tip();
    const expected = (tip?.height ?? 0) + 1;
    if (height !== expected)
      throw new StoreError('NOT_NEXT', `block ${height}, the store expects ${expected}`);
    if (tip !== null && !bytesEqual(block.header.prevHash, tip.hash)) {
      throw new StoreError('BAD_LINK', `block ${height} does not extend the stored tip`);
    }
    if (commit.height !== height || !bytesEqual(commit.blockHash, hash)) {
      throw new StoreError('BAD_LINK', `the commit is not for block ${height}`);
    }
    if (stateAfter.height !== height || !bytesEqual(stateAfter.lastBlockHash, hash)) {
      throw new StoreError('BAD_LINK', `the state given is not the state after block ${height}`);
    }
    const snapshot = height % this.#opts.snapshotEvery === 0 ? encodeState(stateAfter) : null;
    const after = snapshot === null ? stateHash(stateAfter) : sha256(snapshot);
    this.#transaction(() => {
      this.#q.insertBlock.run(height, hash, blockBytes, after);
      this.#q.insertCommit.run(height, commitBytes);
      if (snapshot !== null) this.#writeSnapshot(height, after, snapshot);
      this.#q.pruneOwn.run(height);
    });
    this.#tipState = stateAfter;
  }

  /**
   * Logs one of this validator's own proposals or votes (encoded consensus message) for a height not
   * yet committed. Durable when it returns (synchronous=FULL): call it before the message is sent.
   * Committing a height drops its messages.
   */
  appendOwnMessage(height: number, bytes: Uint8Array): void {
    this.#check();
    this.#q.insertOwn.run(height, bytes);
  }

  /** The logged own messages for `fromHeight` and above, oldest first. */
  ownMessages(fromHeight: number): Uint8Array[] {
    this.#check();
    return (this.#q.ownFrom.all(fromHeight) as { bytes: Uint8Array }[]).map((r) => r.bytes);
  }

  /**
   * The ledger state at the stored tip: the newest snapshot (or `genesis`) plus the blocks after it,
   * each re-applied and checked against its stored state hash. Records the genesis hash in an empty
   * store and refuses a store written for another genesis.
   */
  loadState(genesis: LedgerState): LedgerState {
    this.#check();
    const genesisHash = stateHash(genesis);
    const recorded = (this.#q.getMeta.get('genesis_state_hash') as { value: Uint8Array } | undefined)?.value;
    if (recorded === undefined) this.#q.setMeta.run('genesis_state_hash', genesisHash);
    else if (!bytesEqual(recorded, genesisHash)) {
      throw new StoreError('GENESIS_MISMATCH', 'the store belongs to another genesis document');
    }
    let state = this.#latestSnapshot() ?? genesis;
    const tip = this.tip()?.height ?? 0;
    for (let h = state.height + 1; h <= tip; h++) {
      const bytes = this.block(h);
      const storedHash = this.#stateHashAt(h);
      if (bytes === undefined || storedHash === undefined)
        throw new StoreError('CORRUPT', `block ${h} is missing`);
      const decoded = decodeBlock(bytes);
      if (decoded.kind !== 'ok') throw new StoreError('CORRUPT', `block ${h} does not decode`);
      const r = applyBlock(state, decoded.value);
      if (!r.ok)
        throw new StoreError(
          'REPLAY_MISMATCH',
          `stored block ${h} no longer applies: ${r.code}: ${r.reason}`,
        );
      if (!bytesEqual(stateHash(r.state), storedHash)) {
        throw new StoreError('REPLAY_MISMATCH', `replaying block ${h} gives another state hash`);
      }
      state = r.state;
    }
    this.#tipState = state;
    return state;
  }

  /** Snapshots the tip state (so the next start replays nothing) and closes the database. */
  close(): void {
    if (!this.#open) return;
    const s = this.#tipState;
    if (s !== null && s.height > 0 && s.height === this.tip()?.height) {
      const bytes = encodeState(s);
      this.#transaction(() => this.#writeSnapshot(s.height, sha256(bytes), bytes));
    }
    this.#open = false;
    this.#db.close();
  }

  #writeSnapshot(height: number, hash: Uint8Array, bytes: Uint8Array): void {
    this.#q.insertSnapshot.run(height, hash, bytes);
    this.#q.pruneSnapshots.run(this.#opts.keepSnapshots);
  }

  #latestSnapshot(): LedgerState | null {
    const row = this.#q.latestSnapshot.get() as
      | { height: number; state_hash: Uint8Array; bytes: Uint8Array }
      | undefined;
    if (row === undefined) return null;
    const stored = this.#stateHashAt(row.height);
    if (
      stored === undefined ||
      !bytesEqual(stored, row.state_hash) ||
      !bytesEqual(sha256(row.bytes), stored)
    ) {
      throw new StoreError('CORRUPT', `snapshot at ${row.height} does not match its block's state hash`);
    }
    const decoded = decodeState(row.bytes);
    if (decoded.kind !== 'ok') throw new StoreError('CORRUPT', `snapshot at ${row.height} does not decode`);
    return decoded.value;
  }

  #stateHashAt(height: number): Uint8Array | undefined {
    return (this.#q.stateHashAt.get(height) as { state_hash: Uint8Array } | undefined)?.state_hash;
  }

  #transaction(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #check(): void {
    if (!this.#open) throw new StoreError('CLOSED', 'the block store is closed');
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** Opens (creating if needed) the block store at `path`. */
export function openBlockStore(path: string, opts: Partial<BlockStoreOptions> = {}): BlockStore {
  return BlockStore.open(path, opts);
}
