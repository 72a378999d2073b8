// The host store's schema, versioned with PRAGMA user_version. MIGRATIONS[i] takes a database from
// version i to version i + 1; each runs in its own IMMEDIATE transaction together with the version
// bump, so a crash mid-migration leaves the previous version intact. Never edit a shipped migration:
// append a new one.
import type { DatabaseSync } from 'node:sqlite';
import { HostDatabaseError } from './errors.ts';

export const MIGRATIONS: readonly string[] = [
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
  // 1 → 2: private rooms (docs/protocol.md §11). Rooms rows now exist for every room, with or
  // without history; membership, bans and invites are kept per room; events share the timeline.
  `
  ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'dm'));
  ALTER TABLE rooms ADD COLUMN open INTEGER NOT NULL DEFAULT 0 CHECK (open IN (0, 1));
  ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
  ALTER TABLE rooms ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rooms ADD COLUMN dm_key_a BLOB CHECK (dm_key_a IS NULL OR length(dm_key_a) = 32);
  ALTER TABLE rooms ADD COLUMN dm_key_b BLOB CHECK (dm_key_b IS NULL OR length(dm_key_b) = 32);

  CREATE TABLE members (
    room       TEXT    NOT NULL REFERENCES rooms (name),
    member_key BLOB    NOT NULL CHECK (length(member_key) = 32),
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    nick       TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    PRIMARY KEY (room, member_key)
  ) WITHOUT ROWID;
  CREATE INDEX members_key ON members (member_key);

  CREATE TABLE bans (
    room       TEXT    NOT NULL REFERENCES rooms (name),
    banned_key BLOB    NOT NULL CHECK (length(banned_key) = 32),
    banned_at  INTEGER NOT NULL,
    PRIMARY KEY (room, banned_key)
  ) WITHOUT ROWID;

  -- Only the token's SHA-256 is kept, as the key it is looked up by: a copy of this file admits
  -- nobody, and an index lookup on a hash tells nothing about the token.
  CREATE TABLE invites (
    token_hash      BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
    id              TEXT    NOT NULL UNIQUE,
    room            TEXT    NOT NULL REFERENCES rooms (name),
    role            TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    uses_left       INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
    expires_at      INTEGER,
    revoked_at      INTEGER,
    created_by      BLOB    CHECK (created_by IS NULL OR length(created_by) = 32),
    created_by_nick TEXT,
    created_at      INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX invites_room ON invites (room);

  -- What the running host tells the parley host command in another process (its public address).
  CREATE TABLE host_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  -- A room event's details as JSON (room-event-json.ts); NULL for a chat message.
  ALTER TABLE messages ADD COLUMN event TEXT;

  -- Upgrade: every room stays and is private (open defaults to 0); every key that spoke in a room
  -- (a row in messages or dedupe) becomes a member with its latest nickname, so nobody who was
  -- there loses the room. Nobody is owner: the host issues an owner invite at start.
  INSERT INTO rooms (name, message_count)
    SELECT DISTINCT room, 0 FROM dedupe WHERE true
    ON CONFLICT (name) DO NOTHING;
  WITH spoke AS (
    SELECT room, sender_key, nick, seq, sent_at FROM messages
    UNION ALL
    SELECT room, sender_key, nick, seq, sent_at FROM dedupe
  ),
  latest AS (
    SELECT sender_key, nick FROM (
      SELECT sender_key, nick,
             row_number() OVER (PARTITION BY sender_key ORDER BY seq DESC) AS newest
      FROM spoke
    ) WHERE newest = 1
  )
  INSERT INTO members (room, member_key, role, nick, joined_at)
    SELECT spoke.room, spoke.sender_key, 'member', latest.nick, min(spoke.sent_at)
    FROM spoke JOIN latest ON latest.sender_key = spoke.sender_key
    GROUP BY spoke.room, spoke.sender_key;
  UPDATE rooms SET created_at = coalesce(
    (SELECT min(joined_at) FROM members WHERE members.room = rooms.name), 0);
  `,
  // 2 → 3: end-to-end encrypted rooms (docs/protocol.md §12). The host is the MLS Delivery
  // Service: it orders each room's commits (mls_epoch), keeps members' KeyPackages and the
  // Welcomes waiting for their devices, and stores ciphertext it cannot read. Rooms from wire v2
  // stay plaintext (e2ee = 0).
  `
  ALTER TABLE rooms ADD COLUMN e2ee INTEGER NOT NULL DEFAULT 0 CHECK (e2ee IN (0, 1));
  -- The group's id (base64url) once its first commit is accepted; NULL: no group yet.
  ALTER TABLE rooms ADD COLUMN mls_group_id TEXT;
  -- The group's current epoch as the host ordered it; 0 with no group yet.
  ALTER TABLE rooms ADD COLUMN mls_epoch INTEGER NOT NULL DEFAULT 0 CHECK (mls_epoch >= 0);

  -- A timeline row is a text message (or an event, see messages.event), an MLS message (the
  -- ciphertext in mls, text ''), or a commit (its data in mls, the epoch it ends in epoch).
  ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'mls', 'commit'));
  ALTER TABLE messages ADD COLUMN mls TEXT;
  ALTER TABLE messages ADD COLUMN epoch INTEGER;

  -- A key's MLS devices: recorded when a device first hands over a valid KeyPackage (which
  -- its device key signed), so a hello alone never adds one. At most 8 per key.
  CREATE TABLE mls_devices (
    member_key BLOB    NOT NULL CHECK (length(member_key) = 32),
    device     TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (member_key, device)
  ) WITHOUT ROWID;
  CREATE INDEX mls_devices_device ON mls_devices (device);

  -- KeyPackages waiting to be claimed, at most 20 per device, oldest (lowest id) first out.
  CREATE TABLE mls_key_packages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    member_key BLOB    NOT NULL CHECK (length(member_key) = 32),
    device     TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    added_at   INTEGER NOT NULL
  );
  CREATE INDEX mls_key_packages_device ON mls_key_packages (member_key, device, id);

  -- The Welcome waiting for a device of a member: one per (room, device), a newer one replaces
  -- it; seq is the commit that made it. Deleted when the member leaves the room.
  CREATE TABLE mls_welcomes (
    room       TEXT    NOT NULL REFERENCES rooms (name),
    device     TEXT    NOT NULL,
    member_key BLOB    NOT NULL CHECK (length(member_key) = 32),
    seq        INTEGER NOT NULL,
    data       TEXT    NOT NULL,
    PRIMARY KEY (room, device)
  ) WITHOUT ROWID;
  CREATE INDEX mls_welcomes_member ON mls_welcomes (member_key, room);
  `,
  // 3 → 4: a removal the group has not committed yet. When a key stops being a member of an
  // end-to-end encrypted room (part, remove, ban) or one of a member's devices is retired, the
  // room's group still holds the leaver until a member commits its removal; a message accepted
  // at that epoch meanwhile would be readable with the leaver's saved state. So the host refuses
  // MLS messages from the membership change until the next accepted commit (docs/protocol.md §12).
  `
  -- When the removal became due (host time, ms); NULL: none pending. Set in the transaction that
  -- changes the membership, cleared by the transaction that stores the room's next commit.
  ALTER TABLE rooms ADD COLUMN mls_removal_since INTEGER;
  `,
  // 4 → 5: the conversation's events and files (docs/protocol.md §13). A message may relate to
  // an earlier one (an edit or a deletion of it: rel_t, rel_seq) and carry a file (file_id); a
  // deleted row keeps only its envelope (deleted = 1, no content). Files are stored as
  // ciphertext chunks until a message claims them (files.seq), for a retention period.
  `
  -- A plaintext room's event other than a bare line (chat-event.ts), as JSON; NULL otherwise.
  ALTER TABLE messages ADD COLUMN ev TEXT;
  ALTER TABLE messages ADD COLUMN rel_t TEXT CHECK (rel_t IS NULL OR rel_t IN ('edit', 'delete'));
  ALTER TABLE messages ADD COLUMN rel_seq INTEGER;
  ALTER TABLE messages ADD COLUMN file_id TEXT;
  ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));
  -- A deletion erases its target's edits: found by target.
  CREATE INDEX messages_rel ON messages (rel_seq) WHERE rel_seq IS NOT NULL;

  -- An upload, then a file: size is its ciphertext bytes, complete once every chunk is stored,
  -- seq the message that claimed it (NULL: unclaimed, dropped 10 minutes after completion).
  CREATE TABLE files (
    id           TEXT    PRIMARY KEY,
    room         TEXT    NOT NULL,
    owner_key    BLOB    NOT NULL CHECK (length(owner_key) = 32),
    size         INTEGER NOT NULL CHECK (size >= 0),
    chunks       INTEGER NOT NULL CHECK (chunks >= 1),
    created_at   INTEGER NOT NULL,
    complete     INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    completed_at INTEGER,
    seq          INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX files_owner ON files (owner_key);
  CREATE INDEX files_created ON files (created_at);

  -- Chunks are up to 32 KiB: a rowid table keeps them off the primary key's b-tree pages.
  CREATE TABLE file_chunks (
    file_id TEXT    NOT NULL,
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    data    BLOB    NOT NULL,
    UNIQUE (file_id, idx)
  );

  -- A file goes with its message: when history trims the row (or anything else deletes it).
  CREATE TRIGGER messages_file_gone AFTER DELETE ON messages WHEN old.file_id IS NOT NULL
  BEGIN
    DELETE FROM file_chunks WHERE file_id = old.file_id;
    DELETE FROM files WHERE id = old.file_id;
  END;
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
