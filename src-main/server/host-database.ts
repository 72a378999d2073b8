// The host's durable store: room history, resend detection and the nickname registry, in one
// node:sqlite file (no native module, so the same code runs under plain Node and inside Electron).
//
// Durability: WAL mode. Opened plainly (the `parley host` command, tests), synchronous = FULL: every
// COMMIT fsyncs the WAL before it returns, on the caller's thread. The host opens it with
// `durability`: synchronous = NORMAL, and the WAL is fdatasynced on libuv's thread pool right after
// commits (db/wal-sync.ts), checkpoints run on a worker (db/checkpointer.ts), and the host's output
// gate holds every answer until the commits it reports are durable: the same guarantee as FULL
// ("acked means on disk"), with no fsync on the event loop. Callers still commit a whole
// event-loop turn at once (appendMessages takes a batch: one transaction).
import fs from 'node:fs';
import nodePath from 'node:path';
import { DatabaseSync, constants as sqliteConstants } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { sameKey } from '../protocol/host-key.ts';
import type { ChatEvent, Relation } from '../protocol/wire/chat-event.ts';
import { HostDatabaseError, toHostDatabaseError } from './db/errors.ts';
import { foldNick } from './db/fold-nick.ts';
import {
  MESSAGE_COLUMNS,
  type Row,
  column,
  isBytes,
  isNullableNumber,
  isNumber,
  isString,
  toStoredMessage,
} from './db/message-row.ts';
import type { RoomEventRecord } from './db/room-event-json.ts';
import { Checkpointer } from './db/checkpointer.ts';
import { migrate } from './db/schema.ts';
import {
  afterWrite,
  beginTurn,
  endTurn,
  inTurn,
  setCommitHook,
  turnSavepoint,
} from './db/transaction.ts';
import { type SyncFunction, WalSync } from './db/wal-sync.ts';
import { FileStore } from './file-store.ts';
import { MessageRelations, type RelationRefusal } from './message-relations.ts';
import { membershipChangePending } from './mls-removal.ts';
import { MlsStore } from './mls-store.ts';
import { RoomStore } from './room-store.ts';

export { HostDatabaseError } from './db/errors.ts';
export type { HostDatabaseErrorCode } from './db/errors.ts';
export { foldNick } from './db/fold-nick.ts';

export interface NewMessage {
  /** Room name. */
  room: string;
  /** The sender's 32-byte X25519 static public key. */
  senderKey: Uint8Array;
  /** The sender's nickname at send time. */
  nick: string;
  /** Message text (UTF-8); '' for an MLS message or a commit. */
  text: string;
  /**
   * Sender-chosen id, unique per sender key: a resend with the same id creates no second row.
   * '' for a commit (commits are not resent: the epoch orders them).
   */
  clientMsgId: string;
  /** Host timestamp, ms since epoch, assigned by the caller. */
  sentAt: number;
  /**
   * An MLS PrivateMessage (docs/protocol.md §12) instead of text, for the group and epoch its
   * header names: stored only while they are the room's, else the result is `staleEpoch`.
   */
  mls?: { data: string; groupId?: string; epoch: number };
  /** A commit for the room's group: stored only if it ends the room's current epoch. */
  commit?: NewCommit;
  /** A plaintext room's event other than a bare line (docs/protocol.md §13); then text is ''. */
  ev?: ChatEvent;
  /**
   * An edit or deletion of an earlier message of the room, and a file the message claims (§13):
   * checked and applied in the appending transaction (message-relations.ts).
   */
  rel?: Relation;
  file?: string;
}

/** A commit as the host orders it (docs/protocol.md §12). */
export interface NewCommit {
  /** The group's id (base64url) and the epoch this commit ends, from its public header. */
  groupId: string;
  epoch: number;
  data: string;
  /** The Welcome for the devices the commit adds, kept for those of them that are members'. */
  welcome?: string;
  to?: readonly string[];
}

/** A Welcome stored for one member's device, made by the commit at `seq`. */
export interface StoredWelcome {
  room: string;
  device: string;
  key: Uint8Array;
  seq: number;
  data: string;
}

export interface StoredMessage {
  /** Host-wide, strictly increasing, assigned by SQLite, never reused. */
  seq: number;
  room: string;
  senderKey: Uint8Array;
  nick: string;
  text: string;
  clientMsgId: string;
  sentAt: number;
  /** An MLS message's ciphertext (then text is ''). */
  mls?: string;
  /** A commit row (then text and clientMsgId are ''): the epoch it ends and its data. */
  commit?: { epoch: number; data: string };
  /**
   * Set for a room event row (docs/protocol.md §11): then text and clientMsgId are '', and the
   * actor is senderKey/nick, unless senderKey is all zeros: the host's operator.
   */
  event?: RoomEventRecord;
  /** A plaintext room's event (§13; then text is ''), its relation and its file. */
  ev?: ChatEvent;
  rel?: Relation;
  file?: string;
  /** Deleted (§13): a tombstone, with no text, ev, mls, rel or file. */
  deleted?: true;
}

export interface AppendResult {
  /**
   * The stored message. For a duplicate this is the original (its seq, room, nick and sentAt).
   * If the original has already been trimmed from history, its text is no longer kept (the history
   * limit is also a retention limit), and `text` is the text of the resend. Duplicates are to be
   * acked, never fanned out again, so the text does not matter there.
   */
  message: StoredMessage;
  duplicate: boolean;
  /**
   * Set when an MLS message or commit was not stored: its group or epoch is not the room's
   * (another commit came first). The room's current epoch; `message.seq` is then 0.
   */
  staleEpoch?: number;
  /** For a stored commit: the Welcomes kept for its `to` devices that are members'. */
  welcomes?: StoredWelcome[];
  /**
   * Set when the message was not stored because of its relation or file (§13): an edit or
   * deletion of no message, or of someone else's, or a file it may not claim. `message.seq` is 0.
   */
  refused?: RelationRefusal;
}

export interface HostDatabaseOptions {
  /** Messages kept per room; older ones are deleted in the appending transaction. Default 1000. */
  historyLimit?: number;
  /** Resend-detection entries kept per sender key (see the class comment). Default 10 000. */
  dedupeWindow?: number;
  /** How long a statement waits for another connection's lock before failing 'locked'. Default 5 s. */
  busyTimeoutMs?: number;
  /**
   * Told about a stored room event that does not decode (an edited or damaged file); the row is
   * left out of the history that is read. Only the seq and room are given, nothing of the content.
   */
  onSkippedRow?: (seq: number, room: string) => void;
  /**
   * The host's mode (see the file comment): commits are synced off the event loop, and the
   * caller gates its output on `walSync`. Absent: synchronous = FULL, as for any other process.
   */
  /**
   * A cluster node's replica (server/cluster/): what is durable is the cluster's log in
   * PostgreSQL, and this file is rebuilt from it at every start, so it is never synced
   * (synchronous = OFF), keeps its journal in memory, and every table has a primary key, as
   * SQLite's sessions need to record its changes.
   */
  replica?: boolean;
  durability?: {
    /** How the WAL is synced; default fdatasync on the thread pool (tests inject their own). */
    sync?: SyncFunction;
    /** A sync failed: the host must stop (fail-stop; nothing more will be durable). */
    onFailure: (error: Error) => void;
  };
}

/** A cluster replica's record of its changes (HostDatabase.captureChanges). */
export interface ChangeCapture {
  /** Every change since the capture began, as a SQLite patchset (new values only). */
  changeset(): Uint8Array;
  close(): void;
}

/**
 * A replica's file_chunks gets a declared primary key: SQLite's sessions ignore tables without
 * one. Same layout (a rowid table with a unique index on the pair), so only the replica differs.
 */
function prepareReplica(db: DatabaseSync): void {
  // A cache rebuilt at every start needs no crash safety: no sync, and its rollback journal in
  // memory, so no file beside it (a WAL) keeps the old bytes of a deleted row; secure_delete
  // zeroes them in the file itself, as soon as the deletion commits (docs/protocol.md §13).
  db.exec('PRAGMA journal_mode = MEMORY');
  db.exec('PRAGMA synchronous = OFF');
  // A replica loaded from a snapshot has the keyed table already.
  const keyed = db
    .prepare("SELECT count(*) AS n FROM pragma_table_info('file_chunks') WHERE pk > 0")
    .get()?.['n'];
  if (typeof keyed === 'number' && keyed > 0) return;
  // The trigger that names file_chunks is set aside while the table is replaced, then restored.
  const trigger = db
    .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_file_gone'")
    .get()?.['sql'];
  if (typeof trigger !== 'string') throw new HostDatabaseError('schema', 'a trigger is missing');
  db.exec(`
    BEGIN IMMEDIATE;
    DROP TRIGGER messages_file_gone;
    CREATE TABLE file_chunks_keyed (
      file_id TEXT    NOT NULL,
      idx     INTEGER NOT NULL CHECK (idx >= 0),
      data    BLOB    NOT NULL,
      PRIMARY KEY (file_id, idx)
    );
    INSERT INTO file_chunks_keyed SELECT file_id, idx, data FROM file_chunks;
    DROP TABLE file_chunks;
    ALTER TABLE file_chunks_keyed RENAME TO file_chunks;
    ${trigger};
    COMMIT;
  `);
}

/** The host's durability machinery, when opened with `durability`. */
interface Deferred {
  readonly walFd: number;
  readonly walSync: WalSync;
  /** Started once the host serves (startCheckpointer). */
  checkpointer?: Checkpointer;
}

export type ClaimNickResult = { ok: true } | { ok: false; ownerKey: Uint8Array };

const DEFAULT_HISTORY_LIMIT = 1000;
const DEFAULT_DEDUPE_WINDOW = 10_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const KEY_LENGTH = 32;

function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
}

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new RangeError(`${what} must be a ${KEY_LENGTH}-byte Uint8Array`);
  }
}

function checkCount(value: number, what: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${what} must be an integer >= ${min}`);
  }
}

/** The answer for a message that was not stored: nothing of it is kept. */
function unstored(m: NewMessage, why: { staleEpoch: number } | { refused: RelationRefusal }) {
  return {
    message: {
      seq: 0,
      room: m.room,
      senderKey: new Uint8Array(m.senderKey),
      nick: m.nick,
      text: '',
      clientMsgId: m.clientMsgId,
      sentAt: m.sentAt,
    },
    duplicate: false,
    ...why,
  };
}

/**
 * Creates the database file with mode 0600 before SQLite opens it (SQLite would use 0644 minus the
 * umask). SQLite gives the -wal and -shm files the main file's mode, so they end up 0600 as well.
 * A new file's directory entry is fsynced so the file itself survives a power cut.
 */
function prepareFile(path: string): void {
  let fd: number;
  let created = false;
  try {
    fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    fd = fs.openSync(path, fs.constants.O_RDWR);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      throw new HostDatabaseError('io', 'the database path is not a regular file');
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
  if (created && process.platform !== 'win32') {
    const dir = fs.openSync(nodePath.dirname(path), fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  }
}

/**
 * Switches an open connection to the host's mode: NORMAL (a COMMIT writes the WAL, no sync), no
 * automatic checkpoints on this connection, a WalSync on the WAL's descriptor told of every
 * commit, and the checkpointer worker.
 */
function deferDurability(
  db: DatabaseSync,
  path: string,
  options: NonNullable<HostDatabaseOptions['durability']>,
): Deferred {
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA wal_autocheckpoint = 0');
  // The WAL exists now (the migration's read opened it, and SQLite synced its directory entry when
  // it created it). Kept open for the connection's lifetime; 'r+' because Windows can only flush a
  // handle opened for writing. Nothing is written through it.
  const walFd = fs.openSync(`${path}-wal`, 'r+');
  try {
    const walSync = new WalSync({
      fd: walFd,
      ...(options.sync ? { sync: options.sync } : {}),
      onFailure: options.onFailure,
    });
    setCommitHook(db, () => walSync.committed());
    return { walFd, walSync };
  } catch (error) {
    fs.closeSync(walFd);
    throw error;
  }
}

/**
 * The host's durable store.
 *
 * Resend detection keeps, per sender key, the newest `dedupeWindow` (default 10 000) entries of
 * (clientMsgId → seq, room, nick, sentAt), independent of history trimming and with no age limit.
 * Why a count and not an age: a client resends what is still in its outbox when it reconnects, which
 * may be weeks later (a laptop closed over the holidays), and a 7-day window would turn exactly that
 * resend into a duplicate. A sender cannot have sent more messages after the one it resends than its
 * outbox holds, so a per-sender count window is safe whatever the time gap, as long as clients keep
 * fewer than `dedupeWindow` unacknowledged messages. Storage stays bounded per key (about 100 bytes
 * an entry, so ~1 MB for a key at the cap); entries are trimmed in the appending transaction.
 *
 * Nickname rule: a nickname belongs for good to the first key that claimed it. A key that takes a
 * new nickname keeps its old ones registered (nothing is released), so after "alice" renames herself
 * "alice2" nobody else can post as "alice" to people who know her by that name, nor next to her old
 * messages in history. The cost is that one key can hoard names; since keys are free to create, a
 * per-key cap would not stop that anyway, so moderation of names is left to the host's operator.
 */
export class HostDatabase {
  readonly #db: DatabaseSync;
  readonly #rooms: RoomStore;
  readonly #mls: MlsStore;
  readonly #files: FileStore;
  readonly #relations: MessageRelations;
  readonly #historyLimit: number;
  readonly #dedupeWindow: number;
  readonly #onSkippedRow: ((seq: number, room: string) => void) | undefined;
  #deferred: Deferred | undefined;
  #path = '';
  #closed = false;
  /** A cluster node's replica (see HostDatabaseOptions.replica). */
  #replica = false;

  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #findDedupe: StatementSync;
  readonly #messageBySeq: StatementSync;
  readonly #addRoom: StatementSync;
  readonly #insertMessage: StatementSync;
  readonly #addSender: StatementSync;
  readonly #insertDedupe: StatementSync;
  readonly #trimRoom: StatementSync;
  readonly #countRoom: StatementSync;
  readonly #trimDedupe: StatementSync;
  readonly #countSender: StatementSync;
  readonly #recent: StatementSync;
  readonly #before: StatementSync;
  readonly #insertNick: StatementSync;
  readonly #nickOwner: StatementSync;
  readonly #checkpoint: StatementSync;
  readonly #passive: StatementSync;
  readonly #nickOfKey: StatementSync;
  readonly #mlsState: StatementSync;
  readonly #insertMls: StatementSync;
  readonly #advanceEpoch: StatementSync;

  private constructor(
    db: DatabaseSync,
    historyLimit: number,
    dedupeWindow: number,
    onSkippedRow: ((seq: number, room: string) => void) | undefined,
  ) {
    this.#db = db;
    this.#onSkippedRow = onSkippedRow;
    this.#historyLimit = historyLimit;
    this.#dedupeWindow = dedupeWindow;
    this.#rooms = new RoomStore(db, { historyLimit });
    this.#mls = new MlsStore(db);
    this.#files = new FileStore(db);
    this.#relations = new MessageRelations(db, this.#files);
    const prepare = (sql: string): StatementSync => db.prepare(sql);

    this.#begin = prepare('BEGIN IMMEDIATE');
    this.#commit = prepare('COMMIT');
    this.#rollback = prepare('ROLLBACK');
    this.#findDedupe = prepare(
      'SELECT seq, room, nick, sent_at FROM dedupe WHERE sender_key = ? AND client_msg_id = ?',
    );
    this.#messageBySeq = prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq = ?`);
    this.#addRoom = prepare(
      'INSERT INTO rooms (name, message_count) VALUES (?, 0) ON CONFLICT (name) DO NOTHING',
    );
    this.#mlsState = prepare(
      'SELECT e2ee, mls_group_id, mls_epoch, mls_removal_since FROM rooms WHERE name = ?',
    );
    this.#insertMls = prepare(
      `INSERT INTO messages (room, sender_key, nick, text, client_msg_id, sent_at, kind, mls, epoch,
                             rel_t, rel_seq, file_id)
       VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    this.#advanceEpoch = prepare(
      // The commit may be the one adding a newcomer or removing a leaver: it ends any
      // membership-change mark (mls-removal.ts).
      `UPDATE rooms SET mls_epoch = ?, mls_group_id = ?, mls_removal_since = NULL
       WHERE name = ? AND mls_epoch = ?`,
    );
    this.#insertMessage = prepare(
      `INSERT INTO messages (room, sender_key, nick, text, client_msg_id, sent_at, ev,
                             rel_t, rel_seq, file_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    this.#addSender = prepare(
      `INSERT INTO dedupe_senders (sender_key, entry_count) VALUES (?, 0)
       ON CONFLICT (sender_key) DO NOTHING`,
    );
    this.#insertDedupe = prepare(
      `INSERT INTO dedupe (sender_key, client_msg_id, seq, room, nick, sent_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // Trimming deletes the `excess` oldest rows through the (room, seq) index: the sub-select finds
    // the newest seq to delete, the DELETE is a range scan. Cost is O(rows removed), usually 1.
    this.#trimRoom = prepare(
      `DELETE FROM messages WHERE room = ?1 AND seq <=
         (SELECT seq FROM messages WHERE room = ?1 ORDER BY seq LIMIT 1 OFFSET ?2 - 1)`,
    );
    this.#countRoom = prepare(
      'UPDATE rooms SET message_count = message_count + ? WHERE name = ? RETURNING message_count',
    );
    this.#trimDedupe = prepare(
      `DELETE FROM dedupe WHERE sender_key = ?1 AND seq <=
         (SELECT seq FROM dedupe WHERE sender_key = ?1 ORDER BY seq LIMIT 1 OFFSET ?2 - 1)`,
    );
    this.#countSender = prepare(
      `UPDATE dedupe_senders SET entry_count = entry_count + ? WHERE sender_key = ?
       RETURNING entry_count`,
    );
    this.#recent = prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?`,
    );
    this.#before = prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND seq < ?
       ORDER BY seq DESC LIMIT ?`,
    );
    this.#insertNick = prepare(
      `INSERT INTO nicks (folded, nick, owner_key) VALUES (?, ?, ?)
       ON CONFLICT (folded) DO NOTHING`,
    );
    this.#nickOwner = prepare('SELECT owner_key FROM nicks WHERE folded = ?');
    this.#checkpoint = prepare('PRAGMA wal_checkpoint(TRUNCATE)');
    this.#passive = prepare('PRAGMA wal_checkpoint(PASSIVE)');
    // A member row holds the key's current nickname (renameMember keeps it so); failing that, any
    // name the key registered (the registry keeps no order).
    this.#nickOfKey = prepare(
      `SELECT nick FROM (
         SELECT nick, 0 AS pref FROM (SELECT nick FROM members WHERE member_key = ?1 LIMIT 1)
         UNION ALL
         SELECT nick, 1 AS pref FROM (
           SELECT nick FROM nicks WHERE owner_key = ?1 ORDER BY folded LIMIT 1)
       ) ORDER BY pref LIMIT 1`,
    );
  }

  static open(path: string, options: HostDatabaseOptions = {}): HostDatabase {
    const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    const dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    checkCount(historyLimit, 'historyLimit', 1);
    checkCount(dedupeWindow, 'dedupeWindow', 1);
    checkCount(busyTimeoutMs, 'busyTimeoutMs', 0);

    let db: DatabaseSync | undefined;
    try {
      prepareFile(path);
      db = new DatabaseSync(path, {
        timeout: busyTimeoutMs,
        enableForeignKeyConstraints: true,
        enableDoubleQuotedStringLiterals: false,
        defensive: true,
      });
      const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'];
      if (mode !== 'wal') {
        throw new HostDatabaseError('io', 'the file system does not support WAL mode');
      }
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      db.exec('PRAGMA trusted_schema = OFF');
      // A deleted message's text (docs/protocol.md §13) must not linger in freed space of the file.
      db.exec('PRAGMA secure_delete = ON');
      migrate(db);
      if (options.replica) prepareReplica(db);
      const opened = new HostDatabase(db, historyLimit, dedupeWindow, options.onSkippedRow);
      opened.#replica = options.replica ?? false;
      // Migrations ran with FULL (synced); from here on, commits are synced off the loop.
      opened.#path = path;
      if (options.durability) opened.#deferred = deferDurability(db, path, options.durability);
      return opened;
    } catch (error) {
      try {
        db?.close();
      } catch {
        // Already failing; the original error is the one worth reporting.
      }
      throw toHostDatabaseError('open', error);
    }
  }

  /**
   * Appends a batch in ONE transaction (group commit) and returns one result per input, in order.
   * A (senderKey, clientMsgId) seen before, in an earlier batch or earlier in this one, returns the
   * stored message with `duplicate: true` and writes nothing. When this returns, the rows are
   * durable (fsynced). Rooms and dedupe entries are trimmed in the same transaction.
   */
  appendMessages(batch: readonly NewMessage[]): AppendResult[] {
    this.#assertOpen();
    for (const m of batch) {
      checkKey(m.senderKey, 'senderKey');
      if (!Number.isSafeInteger(m.sentAt)) throw new RangeError('sentAt must be an integer');
    }
    if (batch.length === 0) return [];

    let erased = false;
    const stored = this.#transaction('appendMessages', () => {
      // Rows added per room and per sender in this batch; the counters are updated once per room
      // and sender at the end, so a message costs three statements (lookup, two inserts).
      const addedToRoom = new Map<string, number>();
      const addedBySender = new Map<string, { key: Uint8Array; added: number }>();
      const results: AppendResult[] = [];

      for (const m of batch) {
        if (m.commit !== undefined) {
          results.push(this.#appendCommit(m, m.commit, addedToRoom));
          continue;
        }
        const seen = this.#findDedupe.get(m.senderKey, m.clientMsgId);
        if (seen !== undefined) {
          results.push({ message: this.#original(m, seen), duplicate: true });
          continue;
        }
        if (m.mls !== undefined) {
          const current = this.#epochUnless(m.room, m.mls.groupId, m.mls.epoch, {
            messageAt: m.sentAt,
          });
          if (current !== undefined) {
            results.push(unstored(m, { staleEpoch: current }));
            continue;
          }
        }
        const refused = this.#relations.refusal(m);
        if (refused !== undefined) {
          results.push(unstored(m, { refused }));
          continue;
        }
        const roomAdded = addedToRoom.get(m.room);
        if (roomAdded === undefined) this.#addRoom.run(m.room);
        addedToRoom.set(m.room, (roomAdded ?? 0) + 1);
        const senderId = keyId(m.senderKey);
        const sender = addedBySender.get(senderId);
        if (sender === undefined) this.#addSender.run(m.senderKey);
        addedBySender.set(senderId, { key: m.senderKey, added: (sender?.added ?? 0) + 1 });

        const related = [m.rel?.t ?? null, m.rel?.seq ?? null, m.file ?? null] as const;
        const inserted =
          m.mls === undefined
            ? this.#insertMessage.get(
                m.room,
                m.senderKey,
                m.nick,
                m.ev === undefined ? m.text : '',
                m.clientMsgId,
                m.sentAt,
                m.ev === undefined ? null : JSON.stringify(m.ev),
                ...related,
              )
            : this.#insertMls.get(
                m.room,
                m.senderKey,
                m.nick,
                m.clientMsgId,
                m.sentAt,
                'mls',
                m.mls.data,
                m.mls.epoch,
                ...related,
              );
        const seq = column(inserted ?? {}, 'seq', isNumber);
        this.#insertDedupe.run(m.senderKey, m.clientMsgId, seq, m.room, m.nick, m.sentAt);
        if (this.#relations.applied(m, seq)) erased = true;
        results.push({
          message: {
            seq,
            room: m.room,
            senderKey: new Uint8Array(m.senderKey),
            nick: m.nick,
            text: m.mls === undefined && m.ev === undefined ? m.text : '',
            clientMsgId: m.clientMsgId,
            sentAt: m.sentAt,
            ...(m.mls === undefined ? {} : { mls: m.mls.data }),
            ...(m.ev === undefined ? {} : { ev: m.ev }),
            ...(m.rel === undefined ? {} : { rel: m.rel }),
            ...(m.file === undefined ? {} : { file: m.file }),
          },
          duplicate: false,
        });
      }

      for (const [room, added] of addedToRoom) {
        const count = column(this.#countRoom.get(added, room) ?? {}, 'message_count', isNumber);
        const excess = count - this.#historyLimit;
        if (excess > 0) {
          const removed = Number(this.#trimRoom.run(room, excess).changes);
          this.#countRoom.run(-removed, room);
        }
      }
      for (const { key, added } of addedBySender.values()) {
        const count = column(this.#countSender.get(added, key) ?? {}, 'entry_count', isNumber);
        const excess = count - this.#dedupeWindow;
        if (excess > 0) {
          const removed = Number(this.#trimDedupe.run(key, excess).changes);
          this.#countSender.run(-removed, key);
        }
      }
      return results;
    });
    if (erased) {
      const checkpointer = this.#deferred?.checkpointer;
      if (checkpointer) {
        // The deletion's answers wait until the WAL no longer holds the deleted text either.
        this.#deferred?.walSync.afterNextSync(async () => {
          // If the worker cannot run, the erase happens here, on the loop, as before #18.
          if (!(await checkpointer.erase()) && !this.#closed) this.#eraseWal();
        });
      } else {
        this.#eraseWal();
      }
    }
    return stored;
  }

  /** Syncs the commits off the event loop (opened with `durability`): the output gate's source. */
  get walSync(): WalSync | undefined {
    return this.#deferred?.walSync;
  }

  /**
   * Starts the checkpointer worker (opened with `durability`; the host calls it once it serves,
   * so a host that fails to start leaves no thread behind). Until then deletions checkpoint here.
   */
  startCheckpointer(): void {
    this.#assertOpen();
    const deferred = this.#deferred;
    if (deferred && !deferred.checkpointer) {
      const checkpointer = new Checkpointer(this.#path, deferred.walFd, () => {
        if (this.#closed) return;
        try {
          this.#passive.get();
        } catch {
          // Busy: tried again once the WAL has grown further.
        }
      });
      deferred.checkpointer = checkpointer;
      // Once per durable group, not per commit: starts the worker when the WAL has grown.
      deferred.walSync.onDurable(() => checkpointer.wrote());
    }
  }

  /**
   * After a deletion (docs/protocol.md §13): the WAL still holds the pages as they were before
   * it, so they are folded into the file (secure_delete zeroes what they freed there) and the
   * WAL is truncated. Best effort: another process reading the file (the `parley host` command)
   * can make it fail; the next deletion, or the checkpoint at shutdown, does it then.
   */
  #eraseWal(): void {
    // A replica has no WAL (its journal is in memory); the cluster's log is erased by compaction.
    if (this.#replica) return;
    try {
      this.#checkpoint.get();
    } catch {
      // The deletion itself is committed; only the old copies in the WAL wait a little longer.
    }
  }

  /**
   * A cluster node's replica: records every change made through this connection from now on
   * (SQLite's session extension), for the cluster's log.
   */
  captureChanges(): ChangeCapture {
    this.#assertOpen();
    const session = this.#db.createSession();
    // A patchset, not a changeset: a changeset also carries the old values of every updated or
    // deleted row, so a deletion's entry would hold the very text it deletes.
    return { changeset: () => session.patchset(), close: () => session.close() };
  }

  /**
   * A cluster node's replica: applies another node's changes, taken from the cluster's log in
   * order. A row a trigger already removed is not there to delete again; any other conflict
   * means the replica is not the log's, and throws.
   */
  applyChanges(changeset: Uint8Array): void {
    this.#assertOpen();
    this.#db.applyChangeset(changeset, {
      onConflict: (conflict) =>
        conflict === sqliteConstants.SQLITE_CHANGESET_NOTFOUND
          ? sqliteConstants.SQLITE_CHANGESET_OMIT
          : sqliteConstants.SQLITE_CHANGESET_ABORT,
    });
  }

  /**
   * A cluster turn: every write until `endTurn` is one transaction, committed only once the
   * cluster's log has it (db/transaction.ts).
   */
  beginTurn(): void {
    this.#assertOpen();
    beginTurn(this.#db);
  }

  endTurn(commit: boolean): void {
    endTurn(this.#db, commit);
  }

  /**
   * A compacted copy of the whole database in a new file (a cluster's snapshot): freed pages
   * and deleted rows' old bytes are not copied.
   */
  snapshotTo(path: string): void {
    this.#assertOpen();
    this.#db.prepare('VACUUM INTO ?').run(path);
  }

  /** While the cluster's log cannot be written: every write fails, and is answered as such. */
  set queryOnly(on: boolean) {
    this.#db.exec(`PRAGMA query_only = ${on ? 'ON' : 'OFF'}`);
  }

  /** Told after each write (a cluster node's turn); replaces the WAL sync's hook. */
  onWrite(hook: () => void): void {
    setCommitHook(this.#db, hook);
  }

  /** The last `limit` messages of a room, oldest first. */
  recentMessages(room: string, limit: number): StoredMessage[] {
    this.#assertOpen();
    checkCount(limit, 'limit', 0);
    return this.#read('recentMessages', () =>
      this.#messages(this.#recent.all(room, limit)).reverse(),
    );
  }

  /** Up to `limit` messages of a room with seq < beforeSeq, oldest first (for "load older"). */
  messagesBefore(room: string, beforeSeq: number, limit: number): StoredMessage[] {
    this.#assertOpen();
    checkCount(limit, 'limit', 0);
    if (!Number.isSafeInteger(beforeSeq)) throw new RangeError('beforeSeq must be an integer');
    return this.#read('messagesBefore', () =>
      this.#messages(this.#before.all(room, beforeSeq, limit)).reverse(),
    );
  }

  /**
   * Binds a nickname (compared folded: NFKC + lower case) to the first key that claims it. Ok when
   * the name is free or already this key's. Claiming a new name releases nothing: the key keeps
   * every name it ever claimed (see the class comment for why).
   */
  claimNick(nick: string, key: Uint8Array): ClaimNickResult {
    this.#assertOpen();
    checkKey(key, 'key');
    const folded = foldNick(nick);
    if (folded.length === 0) throw new RangeError('nick must not be empty');
    return this.#transaction('claimNick', (): ClaimNickResult => {
      this.#insertNick.run(folded, nick, key);
      const ownerKey = column(this.#nickOwner.get(folded) ?? {}, 'owner_key', isBytes);
      return sameKey(ownerKey, key) ? { ok: true } : { ok: false, ownerKey };
    });
  }

  /**
   * The key a nickname is bound to, if any: a read, no transaction. A returning user's hello is
   * answered from this alone, so a reconnect storm costs no write and no fsync.
   */
  nickOwner(nick: string): Uint8Array | undefined {
    this.#assertOpen();
    const folded = foldNick(nick);
    if (folded.length === 0) throw new RangeError('nick must not be empty');
    const row = this.#read('nickOwner', () => this.#nickOwner.get(folded));
    return row === undefined ? undefined : column(row, 'owner_key', isBytes);
  }

  /**
   * A nickname of the key, if the host knows the key at all: its nickname in its rooms, else one
   * it registered. For naming someone who is not connected (an unban, a pre-emptive ban).
   */
  nickOf(key: Uint8Array): string | undefined {
    this.#assertOpen();
    checkKey(key, 'key');
    const row = this.#read('nickOf', () => this.#nickOfKey.get(key));
    return row === undefined ? undefined : column(row, 'nick', isString);
  }

  /**
   * `claimNick` for a batch in ONE transaction (one fsync): new users arriving in the same
   * event-loop turn share a commit, as messages do. Results are in order; two claims of the same
   * name in one batch go to the first, exactly as if they had been made one after the other.
   */
  claimNicks(claims: readonly { nick: string; key: Uint8Array }[]): ClaimNickResult[] {
    this.#assertOpen();
    const folded = claims.map(({ nick, key }) => {
      checkKey(key, 'key');
      const name = foldNick(nick);
      if (name.length === 0) throw new RangeError('nick must not be empty');
      return name;
    });
    if (claims.length === 0) return [];
    return this.#transaction('claimNicks', () =>
      claims.map(({ nick, key }, i): ClaimNickResult => {
        const name = folded[i] ?? '';
        this.#insertNick.run(name, nick, key);
        const ownerKey = column(this.#nickOwner.get(name) ?? {}, 'owner_key', isBytes);
        return sameKey(ownerKey, key) ? { ok: true } : { ok: false, ownerKey };
      }),
    );
  }

  /** MLS devices, KeyPackages and Welcomes (docs/protocol.md §12), over the same connection. */
  get mls(): MlsStore {
    this.#assertOpen();
    return this.#mls;
  }

  /** Files and their chunks (docs/protocol.md §13), over the same connection. */
  get files(): FileStore {
    this.#assertOpen();
    return this.#files;
  }

  /** Rooms, members, bans and invites, over the same connection. */
  get rooms(): RoomStore {
    this.#assertOpen();
    return this.#rooms;
  }

  /** Folds the WAL into the main file and truncates it (for a graceful shutdown). */
  checkpoint(): void {
    this.#assertOpen();
    const row = this.#read('checkpoint', () => this.#checkpoint.get());
    if (row?.['busy'] !== 0) {
      throw new HostDatabaseError('locked', 'checkpoint failed: another connection is busy');
    }
  }

  /**
   * For a graceful stop: ends the checkpointer, checkpoints (and truncates) the WAL, closes the
   * database, and waits for a sync still running before closing the WAL's descriptor.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    await this.#deferred?.checkpointer?.close();
    this.checkpoint();
    this.close();
  }

  /** Closes the database. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const deferred = this.#deferred;
    try {
      deferred?.checkpointer?.terminate();
      this.#db.close();
    } catch (error) {
      throw toHostDatabaseError('close', error);
    } finally {
      // Only after the connection is closed (closing any descriptor of the file would drop the
      // process's POSIX locks on it), and after a sync still running has returned.
      if (deferred) {
        void deferred.walSync.idle().then(() => fs.closeSync(deferred.walFd));
      }
    }
  }

  /**
   * undefined when the room's group is `groupId` at `epoch` (or has no group yet and `epoch` is
   * 0 with `allowNew`); else the room's current epoch, for the `stale-epoch` answer. A message
   * (`messageAt`: when it was sent) is also refused while a membership change is pending
   * (mls-removal.ts): its group may still hold the member who left, or lack the one who joined.
   */
  #epochUnless(
    room: string,
    groupId: string | undefined,
    epoch: number,
    options: { allowNew?: boolean; messageAt?: number } = {},
  ): number | undefined {
    const { allowNew = false, messageAt } = options;
    const row = this.#mlsState.get(room);
    if (row === undefined) return 0;
    const current = column(row, 'mls_epoch', isNumber);
    const group = row['mls_group_id'];
    if (column(row, 'e2ee', isNumber) !== 1) return current;
    if (current !== epoch) return current;
    if (
      messageAt !== undefined &&
      membershipChangePending(column(row, 'mls_removal_since', isNullableNumber), messageAt)
    ) {
      return current;
    }
    if (group === null) return allowNew && epoch === 0 ? undefined : current;
    // Wire v5 relays a message's ciphertext undecoded: no group id then, only the stated epoch.
    return groupId === undefined || group === groupId ? undefined : current;
  }

  /**
   * A commit in the appending transaction: stored, with the room's epoch advanced and its
   * Welcomes kept, only if it ends the room's current epoch; the first commit of an epoch wins.
   */
  #appendCommit(m: NewMessage, commit: NewCommit, addedToRoom: Map<string, number>): AppendResult {
    const current = this.#epochUnless(m.room, commit.groupId, commit.epoch, {
      allowNew: true,
    });
    if (current !== undefined) {
      return unstored(m, { staleEpoch: current });
    }
    addedToRoom.set(m.room, (addedToRoom.get(m.room) ?? 0) + 1);
    const inserted = this.#insertMls.get(
      m.room,
      m.senderKey,
      m.nick,
      '',
      m.sentAt,
      'commit',
      commit.data,
      commit.epoch,
    );
    const seq = column(inserted ?? {}, 'seq', isNumber);
    const advanced = this.#advanceEpoch.run(commit.epoch + 1, commit.groupId, m.room, commit.epoch);
    if (Number(advanced.changes) !== 1) {
      throw new HostDatabaseError('schema', 'the room changed under its commit');
    }
    const welcomes =
      commit.welcome === undefined
        ? []
        : this.#mls.keepWelcomes(m.room, seq, commit.welcome, commit.to ?? []);
    return {
      message: {
        seq,
        room: m.room,
        senderKey: new Uint8Array(m.senderKey),
        nick: m.nick,
        text: '',
        clientMsgId: '',
        sentAt: m.sentAt,
        commit: { epoch: commit.epoch, data: commit.data },
      },
      duplicate: false,
      welcomes,
    };
  }

  /** The stored message for a duplicate: the row if it is still in history, else the dedupe entry. */
  #original(resend: NewMessage, seen: Row): StoredMessage {
    const seq = column(seen, 'seq', isNumber);
    const row = this.#messageBySeq.get(seq);
    const stored = row === undefined ? undefined : toStoredMessage(row);
    if (stored !== undefined) return stored;
    return {
      seq,
      room: column(seen, 'room', isString),
      senderKey: new Uint8Array(resend.senderKey),
      nick: column(seen, 'nick', isString),
      text: resend.text,
      clientMsgId: resend.clientMsgId,
      sentAt: column(seen, 'sent_at', isNumber),
    };
  }

  /** The rows as messages, leaving out (and reporting) event rows that do not decode. */
  #messages(rows: readonly Row[]): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const row of rows) {
      const message = toStoredMessage(row);
      if (message !== undefined) out.push(message);
      else this.#onSkippedRow?.(column(row, 'seq', isNumber), column(row, 'room', isString));
    }
    return out;
  }

  #transaction<T>(operation: string, body: () => T): T {
    if (inTurn(this.#db)) return turnSavepoint(this.#db, operation, body);
    try {
      this.#begin.run();
      let committing = false;
      try {
        const result = body();
        committing = true;
        this.#commit.run();
        afterWrite(this.#db);
        return result;
      } catch (error) {
        // A COMMIT that failed may still have written frames: let them be synced too.
        if (committing) afterWrite(this.#db);
        // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may already have
        // rolled it back (I/O error); roll back only what is still open.
        if (this.#db.isTransaction) {
          try {
            this.#rollback.run();
          } catch {
            // The original error is the one to report; SQLite rolls back on close anyway.
          }
        }
        throw error;
      }
    } catch (error) {
      throw toHostDatabaseError(operation, error);
    }
  }

  #read<T>(operation: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw toHostDatabaseError(operation, error);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('HostDatabase is closed');
  }
}
