// The host store's schema, versioned with PRAGMA user_version. MIGRATIONS[i] takes a database from
// version i to version i + 1; each runs in its own IMMEDIATE transaction together with the version
// bump, so a crash mid-migration leaves the previous version intact. Never edit a shipped migration:
// append a new one.
import type { DatabaseSync } from 'node:sqlite';
import { HostDatabaseError } from './errors.ts';

const MIGRATIONS: readonly string[] = [
  // 0 → 1
  `
  -- One row per room that has history. message_count lets an append trim the room in
  -- O(rows removed) instead of scanning historyLimit index entries every time.
  CREATE TABLE rooms (
    name          TEXT PRIMARY KEY,
    message_count INTEGER NOT NULL CHECK (message_count >= 0)
  ) WITHOUT ROWID;

  -- AUTOINCREMENT: seq is a host-wide cursor handed to clients, so it must never be reused, even
  -- if the newest rows are ever deleted.
  CREATE TABLE messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    room          TEXT    NOT NULL REFERENCES rooms (name),
    sender_key    BLOB    NOT NULL CHECK (length(sender_key) = 32),
    nick          TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    client_msg_id TEXT    NOT NULL,
    sent_at       INTEGER NOT NULL
  );
  CREATE INDEX messages_room_seq ON messages (room, seq);

  -- Resend detection, kept apart from messages so it outlives history trimming. Per sender, the
  -- newest dedupe_window entries are kept (see host-database.ts for why a count, not an age).
  CREATE TABLE dedupe_senders (
    sender_key  BLOB PRIMARY KEY CHECK (length(sender_key) = 32),
    entry_count INTEGER NOT NULL CHECK (entry_count >= 0)
  ) WITHOUT ROWID;

  CREATE TABLE dedupe (
    sender_key    BLOB    NOT NULL REFERENCES dedupe_senders (sender_key),
    client_msg_id TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    room          TEXT    NOT NULL,
    nick          TEXT    NOT NULL,
    sent_at       INTEGER NOT NULL,
    PRIMARY KEY (sender_key, client_msg_id)
  ) WITHOUT ROWID;
  CREATE INDEX dedupe_sender_seq ON dedupe (sender_key, seq);

  -- Nickname registry: folded (NFKC + lower case) nickname → the key that registered it first.
  CREATE TABLE nicks (
    folded    TEXT PRIMARY KEY,
    nick      TEXT NOT NULL,
    owner_key BLOB NOT NULL CHECK (length(owner_key) = 32)
  ) WITHOUT ROWID;
  CREATE INDEX nicks_owner ON nicks (owner_key);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get();
  const version = row?.['user_version'];
  if (typeof version !== 'number') {
    throw new HostDatabaseError('schema', 'cannot read the schema version');
  }
  return version;
}

function refuseNewer(found: number): void {
  if (found > SCHEMA_VERSION) {
    throw new HostDatabaseError(
      'schema',
      `database schema version ${found} is newer than this Parley supports (${SCHEMA_VERSION})`,
    );
  }
}

/** Brings the database to SCHEMA_VERSION; refuses a database written by a newer Parley. */
export function migrate(db: DatabaseSync): void {
  refuseNewer(userVersion(db));
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Read the version under the write lock: another process may have migrated meanwhile.
      const version = userVersion(db);
      refuseNewer(version);
      const step = MIGRATIONS[version];
      if (step === undefined) {
        db.exec('COMMIT');
        return;
      }
      db.exec(step);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}
