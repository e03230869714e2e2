// The relay view on disk (node:sqlite, WAL): the raw signed descriptors, so a restarted node knows the
// network at once and re-verifies everything it reads back rather than trusting its own disk; and each
// relay's standing (first seen, verified networks, circuits, failed probes), so a restart does not
// make long-known relays as easy to push out as fresh ones.
import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface StoredStanding {
  readonly firstSeenAt: number;
  readonly verifiedSubnets: readonly string[];
  readonly circuitsBuilt: number;
  readonly probeFailures: number;
}

export interface StoredRelay {
  readonly peerId: string;
  readonly bytes: Uint8Array;
  /** Absent in rows written before standings were kept. */
  readonly standing?: StoredStanding;
}

const STANDING_COLUMNS: ReadonlyArray<[string, string]> = [
  ['first_seen', 'INTEGER'],
  ['verified', 'TEXT'],
  ['circuits', 'INTEGER NOT NULL DEFAULT 0'],
  ['probe_failures', 'INTEGER NOT NULL DEFAULT 0'],
];

export class RelayViewStore {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #putStanding: StatementSync;
  readonly #del: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000;');
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS relays (peer_id TEXT PRIMARY KEY, descriptor BLOB NOT NULL, expires_at INTEGER NOT NULL)',
    );
    // Views written by earlier versions lack the standing columns.
    const have = new Set(
      this.#db
        .prepare('PRAGMA table_info(relays)')
        .all()
        .map((r) => r['name']),
    );
    for (const [name, type] of STANDING_COLUMNS) {
      if (!have.has(name)) this.#db.exec(`ALTER TABLE relays ADD COLUMN ${name} ${type}`);
    }
    this.#put = this.#db.prepare(
      'INSERT INTO relays (peer_id, descriptor, expires_at, first_seen, verified, circuits, probe_failures) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(peer_id) DO UPDATE SET descriptor = excluded.descriptor, ' +
        'expires_at = excluded.expires_at, first_seen = excluded.first_seen, verified = excluded.verified, ' +
        'circuits = excluded.circuits, probe_failures = excluded.probe_failures',
    );
    this.#putStanding = this.#db.prepare(
      'UPDATE relays SET first_seen = ?, verified = ?, circuits = ?, probe_failures = ? WHERE peer_id = ?',
    );
    this.#del = this.#db.prepare('DELETE FROM relays WHERE peer_id = ?');
  }

  loadAll(): StoredRelay[] {
    const rows = this.#db
      .prepare('SELECT peer_id, descriptor, first_seen, verified, circuits, probe_failures FROM relays')
      .all();
    const out: StoredRelay[] = [];
    for (const row of rows) {
      const peerId = row['peer_id'];
      const bytes = row['descriptor'];
      if (typeof peerId !== 'string' || !(bytes instanceof Uint8Array)) continue;
      const standing = readStanding(row);
      out.push(standing === undefined ? { peerId, bytes } : { peerId, bytes, standing });
    }
    return out;
  }

  put(peerId: string, bytes: Uint8Array, expiresAt: number, standing: StoredStanding): void {
    this.#put.run(peerId, bytes, expiresAt, ...standingValues(standing));
  }

  /** Updates the standing of a stored relay (no row: nothing). */
  putStanding(peerId: string, standing: StoredStanding): void {
    this.#putStanding.run(...standingValues(standing), peerId);
  }

  delete(peerId: string): void {
    this.#del.run(peerId);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function standingValues(s: StoredStanding): [number, string, number, number] {
  return [s.firstSeenAt, JSON.stringify(s.verifiedSubnets), s.circuitsBuilt, s.probeFailures];
}

/** A row's standing, or undefined when it has none or it does not read back as written. */
function readStanding(row: Record<string, unknown>): StoredStanding | undefined {
  const firstSeenAt = row['first_seen'];
  const circuits = row['circuits'];
  const failures = row['probe_failures'];
  if (typeof firstSeenAt !== 'number' || typeof circuits !== 'number' || typeof failures !== 'number')
    return undefined;
  let verified: unknown;
  try {
    verified = JSON.parse(String(row['verified']));
  } catch {
    return undefined;
  }
  if (!Array.isArray(verified) || !verified.every((v) => typeof v === 'string')) return undefined;
  return {
    firstSeenAt,
    verifiedSubnets: verified as string[],
    circuitsBuilt: Math.max(0, circuits),
    probeFailures: Math.max(0, failures),
  };
}
