// The relay view on disk (node:sqlite, WAL): the raw signed descriptors, so a restarted node knows the
// network at once and re-verifies everything it reads back rather than trusting its own disk.
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface StoredRelay {
  readonly peerId: string;
  readonly bytes: Uint8Array;
}

export class RelayViewStore {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #del: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000;');
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS relays (peer_id TEXT PRIMARY KEY, descriptor BLOB NOT NULL, expires_at INTEGER NOT NULL)',
    );
    this.#put = this.#db.prepare(
      'INSERT INTO relays (peer_id, descriptor, expires_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT(peer_id) DO UPDATE SET descriptor = excluded.descriptor, expires_at = excluded.expires_at',
    );
    this.#del = this.#db.prepare('DELETE FROM relays WHERE peer_id = ?');
  }

  loadAll(): StoredRelay[] {
    const rows = this.#db.prepare('SELECT peer_id, descriptor FROM relays').all();
    const out: StoredRelay[] = [];
    for (const row of rows) {
      const peerId = row['peer_id'];
      const bytes = row['descriptor'];
      if (typeof peerId === 'string' && bytes instanceof Uint8Array) out.push({ peerId, bytes });
    }
    return out;
  }

  put(peerId: string, bytes: Uint8Array, expiresAt: number): void {
    this.#put.run(peerId, bytes, expiresAt);
  }

  delete(peerId: string): void {
    this.#del.run(peerId);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
