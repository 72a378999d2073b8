import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { z } from 'zod';
import {
  type ChatMessageView,
  type ReplyView,
  MessageE2ee,
  type MessageStatus,
  PersonView,
  Role,
  RoomEventAction,
  type RoomEventView,
  RoomView,
} from '../../src-shared/ipc/domain.ts';
import { MAX_SHOWN_TIME_MS, timeProblem } from '../client/host-bounds.ts';
import type { OutboxEntry, OutboxStore } from '../client/outbox.ts';
import type { SearchDoc } from '../client/search-index.ts';
import { ChatEvent, type FileRef } from '../protocol/wire/chat-event.ts';
import { fileView } from './file-view.ts';
import {
  CONVERSATION_MIGRATION,
  ConversationTables,
  type EditRecord,
  type MessageMeta,
  type ReactionRecord,
} from './history-conversation.ts';
import { RowCipher } from './row-cipher.ts';
import { openStoredText } from './stored-text.ts';

/**
 * This install's own record of its chats, in one node:sqlite file (WAL) in the user-data
 * folder: every message seen or written, per host and room, so the app shows history while
 * offline and pages it without asking the host; the rooms joined on each host; and the outbox
 * of messages the host has not acknowledged yet, so they survive a restart of the app and are
 * handed back to the ChatSession (its `outboxStore` hook) on the next connection.
 *
 * A message is identified by (host, room, sender key, client message id): the host dedupes on
 * (sender key, id), and keying on the sender too means another member cannot overwrite our
 * copy of someone's message by reusing its id. With an at-rest key (the desktop always has one)
 * the text of every new row, and of the outbox, is sealed with AES-256-GCM (row-cipher.ts):
 * decrypted messages of end-to-end encrypted rooms must not lie in the file as plain text. Rows
 * written before (`sealed = 0`) stay readable as they are. A room event (someone joined, was
 * removed, set the topic) is a row too, with its seq and an `event` column, so the timeline
 * pages both in one order; a room we are no longer a member of is forgotten whole.
 *
 * Retention: each room keeps its newest `maxMessagesPerRoom` messages with a place (seq); older
 * ones are deleted as new ones arrive (the host still has them, and scrolling back asks it).
 * Messages whose time no date can show are neither stored nor served, so a host's bad value
 * (or a row from an earlier version) cannot break a room's timeline.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE messages (
    host    TEXT    NOT NULL,
    room    TEXT    NOT NULL,
    sender  TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    seq     INTEGER,
    ts      INTEGER NOT NULL,
    nick    TEXT    NOT NULL,
    fp      TEXT    NOT NULL,
    text    TEXT    NOT NULL,
    own     INTEGER NOT NULL CHECK (own IN (0, 1)),
    status  TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    PRIMARY KEY (host, room, sender, id)
  ) WITHOUT ROWID;
  CREATE INDEX messages_by_seq ON messages (host, room, seq);

  CREATE TABLE rooms (
    host   TEXT    NOT NULL,
    room   TEXT    NOT NULL,
    joined INTEGER NOT NULL CHECK (joined IN (0, 1)),
    PRIMARY KEY (host, room)
  ) WITHOUT ROWID;

  CREATE TABLE outbox (
    host      TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    id        TEXT    NOT NULL,
    room      TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    queued_at INTEGER NOT NULL,
    PRIMARY KEY (host, position)
  ) WITHOUT ROWID;
  `,
  // Room events (private rooms): a row of the room's timeline with its own seq, JSON in `event`
  // (action, target, role, topic); sender/nick/fp are the actor's ('' for the host's operator).
  `ALTER TABLE messages ADD COLUMN event TEXT;`,
  // What the host last said of a room we are a member of (kind, role, topic, open, DM peer):
  // shown while offline, so a direct message is named by its peer, not by its dm.… name.
  `ALTER TABLE rooms ADD COLUMN info TEXT;`,
  // Text sealed with the at-rest key (1) or plain, as written before (0); why a message of an
  // end-to-end encrypted room could not be read (JSON MessageE2ee), if it could not.
  `
  ALTER TABLE messages ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));
  ALTER TABLE messages ADD COLUMN e2ee TEXT;
  ALTER TABLE outbox ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1));
  `,
  // The conversation (#17): a message's reply target and file (sealed `meta`), tombstones
  // (`deleted`), edits, reactions, our read position, and the outbox's events (sealed).
  CONVERSATION_MIGRATION,
];

type Row = Record<string, SQLOutputValue>;

export class LocalHistoryError extends Error {
  override readonly name = 'LocalHistoryError';
}

/** `invalid`: not stored, its values cannot be shown (e.g. a time out of range). */
export type StoreResult = 'new' | 'confirmed' | 'known' | 'invalid';

export interface LocalHistoryOptions {
  /** Messages kept per room (default 20 000). */
  readonly maxMessagesPerRoom?: number;
  /** A size limit for the file; writes beyond it fail with SQLite's "database or disk is full". */
  readonly maxBytes?: number;
  /** 32 bytes: new rows' text is sealed with it (AES-256-GCM). Absent: stored as plain text. */
  readonly atRestKey?: Uint8Array;
  /** This install's key: marks our own reactions (`mine`). */
  readonly ownKey?: string;
}

/** Characters of an answered message's text a reply shows. */
export const REPLY_TEXT_CHARS = 200;

export const DEFAULT_MAX_MESSAGES_PER_ROOM = 20_000;
/** Retention runs once per this many messages stored in a room, not on every insert. */
const PRUNE_EVERY = 256;
/** Only rows with a time a date can show are served. */
const SHOWN = `ts BETWEEN 0 AND ${MAX_SHOWN_TIME_MS}`;

export interface HistoryPage {
  readonly messages: ChatMessageView[];
  /** The room events in the same span, oldest first (merge with `messages` by seq). */
  readonly events: RoomEventView[];
  readonly more: boolean;
}

const COLUMNS =
  'room, sender, id, seq, ts, nick, fp, text, own, status, event, sealed, e2ee, meta, deleted';
/** A text or file message of a room (not a room event). */
const MESSAGE_ROW = 'event IS NULL';

/** What a room event row keeps in `event` (the actor is the row's sender). */
const StoredEvent = z.object({
  action: RoomEventAction,
  target: PersonView.optional(),
  role: Role.optional(),
  topic: z.string().optional(),
});

/** What the host last said of a room (the room list's fields, without the local ones). */
export const StoredRoomInfo = RoomView.pick({
  kind: true,
  role: true,
  topic: true,
  open: true,
  peer: true,
}).extend({
  /** The host said the room is end-to-end encrypted (absent in rows from before #16). */
  e2ee: z.boolean().optional(),
});
export type StoredRoomInfo = z.infer<typeof StoredRoomInfo>;

/** Where a search page ended: the last row's place and key (search pages walk in this order). */
export interface SearchCursor {
  readonly host: string;
  readonly room: string;
  readonly seq: number;
  readonly sender: string;
  readonly id: string;
}

export interface SearchPage {
  readonly docs: SearchDoc[];
  /** Read on from here; undefined: this was the last page. */
  readonly next: SearchCursor | undefined;
}

/** A room event's row id: no client message id has a dot, so it cannot collide with one. */
const eventId = (seq: number): string => `event.${seq}`;

export class LocalHistory {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #confirm: StatementSync;
  readonly #setFailed: StatementSync;
  readonly #get: StatementSync;
  readonly #prune: StatementSync;
  readonly #maxPerRoom: number;
  readonly #cipher: RowCipher | undefined;
  readonly #conversation: ConversationTables;
  readonly #rowAt: StatementSync;
  /** Rooms per host (joined flag), read once per host and then kept current here. */
  readonly #rooms = new Map<string, Map<string, boolean>>();
  /** What the host last said of each room, per host, read once per host like `#rooms`. */
  readonly #roomInfo = new Map<string, Map<string, StoredRoomInfo>>();
  /** Messages stored per host and room since retention last ran there. */
  readonly #sincePrune = new Map<string, number>();

  private constructor(db: DatabaseSync, options: LocalHistoryOptions) {
    this.#db = db;
    this.#maxPerRoom = Math.max(1, options.maxMessagesPerRoom ?? DEFAULT_MAX_MESSAGES_PER_ROOM);
    this.#cipher = options.atRestKey ? new RowCipher(options.atRestKey) : undefined;
    this.#conversation = new ConversationTables(db, this.#cipher, options.ownKey ?? '');
    // INDEXED BY: without it SQLite walks the room's primary key (a scan of the whole room,
    // ~1 ms at 10 000 rows) — and every message paged in from the host is read back here.
    this.#rowAt = db.prepare(
      `SELECT ${COLUMNS} FROM messages INDEXED BY messages_by_seq
       WHERE host = ? AND room = ? AND seq = ? AND ${MESSAGE_ROW} LIMIT 1`,
    );
    // Deletes all but the newest N with a seq; queued and failed messages (no seq) stay.
    this.#prune = db.prepare(
      `DELETE FROM messages WHERE host = :host AND room = :room AND seq < (
         SELECT seq FROM messages WHERE host = :host AND room = :room AND seq IS NOT NULL
         ORDER BY seq DESC LIMIT 1 OFFSET :keep)`,
    );
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO messages (host, ${COLUMNS})
       VALUES (:host, :room, :sender, :id, :seq, :ts, :nick, :fp, :text, :own, :status, :event,
               :sealed, :e2ee, :meta, :deleted)`,
    );
    this.#confirm = db.prepare(
      `UPDATE messages SET seq = :seq, ts = :ts, status = 'sent'
       WHERE host = :host AND sender = :sender AND id = :id AND (seq IS NULL OR status != 'sent')`,
    );
    this.#setFailed = db.prepare(
      `UPDATE messages SET status = 'failed'
       WHERE host = :host AND sender = :sender AND id = :id AND status = 'queued'`,
    );
    this.#get = db.prepare(
      `SELECT ${COLUMNS} FROM messages WHERE host = :host AND sender = :sender AND id = :id`,
    );
  }

  static open(path: string, options: LocalHistoryOptions = {}): LocalHistory {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(path);
    try {
      db.exec('PRAGMA journal_mode = WAL');
      if (options.maxBytes !== undefined) {
        const pageSize = Number(db.prepare('PRAGMA page_size').get()?.['page_size'] ?? 4096);
        db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.ceil(options.maxBytes / pageSize))}`);
      }
      // A client can afford NORMAL: a power cut may lose the last moments of local history,
      // which the host still has; the outbox is re-saved on every change.
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA busy_timeout = 5000');
      // Deleted rows (a forgotten room, pruned history) are overwritten, not left in free pages.
      db.exec('PRAGMA secure_delete = ON');
      migrate(db);
    } catch (error) {
      db.close();
      throw new LocalHistoryError(
        `cannot open the local history ${path}: ${(error as Error).message}`,
      );
    }
    return new LocalHistory(db, options);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /**
   * A message from the host (live or history). Our own message coming back in history
   * confirms a queued row ('confirmed'); otherwise 'new' or 'known' (already stored).
   */
  storeReceived(host: string, view: ChatMessageView, meta?: MessageMeta): StoreResult {
    if (timeProblem(view.ts)) return 'invalid';
    const inserted = this.#insert.run(this.#params(host, view, meta)).changes > 0;
    if (inserted) {
      this.#stored(host, view.room);
      return 'new';
    }
    // The host sends a message deleted since we stored it as a tombstone: ours becomes one.
    if (view.deleted && view.seq !== undefined) {
      const row = this.#get.get({ host, sender: view.key, id: view.id });
      if (row && row['deleted'] !== 1) {
        this.#erase(host, view.room, view.seq);
        return 'new';
      }
    }
    if (view.seq !== undefined && view.own) {
      const updated = this.#confirm.run({
        host,
        sender: view.key,
        id: view.id,
        seq: view.seq,
        ts: view.ts,
      }).changes;
      if (updated > 0) return 'confirmed';
    }
    return 'known';
  }

  /**
   * A room event from the host (live or history): 'new', 'known' (already stored) or
   * 'invalid' (a time no date can show).
   */
  storeEvent(host: string, event: RoomEventView, ownKey: string): StoreResult {
    if (timeProblem(event.ts)) return 'invalid';
    const stored: z.input<typeof StoredEvent> = {
      action: event.action,
      ...(event.target ? { target: event.target } : {}),
      ...(event.role ? { role: event.role } : {}),
      ...(event.topic !== undefined ? { topic: event.topic } : {}),
    };
    const inserted =
      this.#insert.run({
        host,
        room: event.room,
        sender: event.actor?.key ?? '',
        id: eventId(event.seq),
        seq: event.seq,
        ts: event.ts,
        nick: event.actor?.nick ?? '',
        fp: event.actor?.fp ?? '',
        text: '',
        own: event.actor?.key === ownKey ? 1 : 0,
        status: 'sent',
        event: JSON.stringify(stored),
        sealed: 0,
        e2ee: null,
        meta: null,
        deleted: 0,
      }).changes > 0;
    if (!inserted) return 'known';
    this.#stored(host, event.room);
    return 'new';
  }

  /**
   * We are no longer a member of `room` (removed, banned, parted, or the host no longer lists
   * it): everything kept about it goes, so it leaves the list and nothing of it stays on disk.
   */
  forgetRoom(host: string, room: string): void {
    this.#transaction(() => {
      this.#db.prepare('DELETE FROM messages WHERE host = ? AND room = ?').run(host, room);
      this.#db.prepare('DELETE FROM rooms WHERE host = ? AND room = ?').run(host, room);
      this.#conversation.forgetRoom(host, room);
    });
    this.#rooms.get(host)?.delete(room);
    this.#roomInfo.get(host)?.delete(room);
    this.#sincePrune.delete(`${host}\n${room}`);
  }

  /** A message we just wrote: shown at once as queued. */
  storeQueued(host: string, view: ChatMessageView, meta?: MessageMeta): void {
    if (this.#insert.run(this.#params(host, { ...view, status: 'queued' }, meta)).changes > 0) {
      this.#stored(host, view.room);
    }
  }

  /** A row was added: the room is known, and every PRUNE_EVERY rows retention runs. */
  #stored(host: string, room: string): void {
    const rooms = this.#rooms.get(host);
    if (rooms && !rooms.has(room)) rooms.set(room, false);
    const id = `${host}\n${room}`;
    const count = (this.#sincePrune.get(id) ?? 0) + 1;
    if (count < PRUNE_EVERY) {
      this.#sincePrune.set(id, count);
      return;
    }
    this.#sincePrune.delete(id);
    this.#prune.run({ host, room, keep: this.#maxPerRoom - 1 });
    const oldest = this.oldestSeq(host, room);
    if (oldest !== undefined) this.#conversation.pruneBefore(host, room, oldest);
  }

  /** The host acknowledged our message: it now has its place (seq) and host time. */
  markSent(
    host: string,
    ownKey: string,
    id: string,
    seq: number,
    ts: number,
  ): ChatMessageView | undefined {
    if (!timeProblem(ts)) this.#confirm.run({ host, sender: ownKey, id, seq, ts });
    return this.#find(host, ownKey, id);
  }

  /** The host refused our message for good. */
  markFailed(host: string, ownKey: string, id: string): ChatMessageView | undefined {
    this.#setFailed.run({ host, sender: ownKey, id });
    return this.#find(host, ownKey, id);
  }

  /**
   * Up to `limit` messages of `room`, oldest first: the newest ones (then the queued and
   * failed ones, which have no seq yet) or, with `beforeSeq`, those just before it.
   */
  page(host: string, room: string, beforeSeq: number | undefined, limit: number): HistoryPage {
    const take = Math.max(1, Math.floor(limit));
    let rows: Row[];
    if (beforeSeq === undefined) {
      rows = this.#db
        .prepare(
          `SELECT ${COLUMNS} FROM messages WHERE host = ? AND room = ? AND ${SHOWN}
           ORDER BY seq IS NULL DESC, seq DESC, ts DESC LIMIT ?`,
        )
        .all(host, room, take + 1);
    } else {
      rows = this.#db
        .prepare(
          `SELECT ${COLUMNS} FROM messages WHERE host = ? AND room = ? AND seq < ? AND ${SHOWN}
           ORDER BY seq DESC LIMIT ?`,
        )
        .all(host, room, beforeSeq, take + 1);
    }
    return this.#pageOf(host, rows.slice(0, take).reverse(), rows.length > take);
  }

  /** Rows oldest first, as a page: messages and room events apart. */
  #pageOf(host: string, rows: readonly Row[], more: boolean): HistoryPage {
    const messages: ChatMessageView[] = [];
    const events: RoomEventView[] = [];
    for (const row of rows) {
      if (row['event'] === null || row['event'] === undefined) {
        messages.push(this.#toView(host, row));
        continue;
      }
      const event = toEvent(row);
      if (event) events.push(event);
    }
    return { messages, events, more };
  }

  /** The lowest seq kept for `room`, if any. */
  oldestSeq(host: string, room: string): number | undefined {
    const row = this.#db
      .prepare('SELECT min(seq) AS seq FROM messages WHERE host = ? AND room = ?')
      .get(host, room);
    return typeof row?.['seq'] === 'number' ? row['seq'] : undefined;
  }

  hasMessages(host: string, room: string): boolean {
    return (
      this.#db
        .prepare('SELECT 1 AS x FROM messages WHERE host = ? AND room = ? LIMIT 1')
        .get(host, room) !== undefined
    );
  }

  /** Rooms known on `host`: joined ones and any with stored messages. */
  rooms(host: string): { room: string; joined: boolean }[] {
    // Asked on every unread message: read once, then kept current, never a scan per message.
    let rooms = this.#rooms.get(host);
    if (!rooms) {
      rooms = new Map(this.#readRooms(host).map((r) => [r.room, r.joined]));
      this.#rooms.set(host, rooms);
    }
    return [...rooms]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([room, joined]) => ({ room, joined }));
  }

  #readRooms(host: string): { room: string; joined: boolean }[] {
    const rows = this.#db
      .prepare(
        `SELECT room, max(joined) AS joined FROM (
           SELECT room, joined FROM rooms WHERE host = :host
           UNION ALL SELECT DISTINCT room, 0 FROM messages WHERE host = :host
         ) GROUP BY room ORDER BY room`,
      )
      .all({ host });
    return rows.map((row) => ({ room: String(row['room']), joined: row['joined'] === 1 }));
  }

  setJoined(host: string, room: string, joined: boolean): void {
    this.#db
      .prepare(
        `INSERT INTO rooms (host, room, joined) VALUES (?, ?, ?)
         ON CONFLICT (host, room) DO UPDATE SET joined = excluded.joined`,
      )
      .run(host, room, joined ? 1 : 0);
    this.#rooms.get(host)?.set(room, joined);
  }

  /** What the host last said of each room of `host` (rooms we were a member of). */
  roomInfo(host: string): ReadonlyMap<string, StoredRoomInfo> {
    let infos = this.#roomInfo.get(host);
    if (!infos) {
      infos = new Map();
      const rows = this.#db
        .prepare('SELECT room, info FROM rooms WHERE host = ? AND info IS NOT NULL')
        .all(host);
      for (const row of rows) {
        const info = parseInfo(row['info']);
        if (info) infos.set(String(row['room']), info);
      }
      this.#roomInfo.set(host, infos);
    }
    return infos;
  }

  /** Keeps what the host said of `room`; written only when it changed. */
  setRoomInfo(host: string, room: string, info: StoredRoomInfo): void {
    const json = JSON.stringify(StoredRoomInfo.parse(info));
    const known = this.roomInfo(host).get(room);
    if (known && JSON.stringify(known) === json) return;
    this.#db
      .prepare(
        `INSERT INTO rooms (host, room, joined, info) VALUES (?, ?, 0, ?)
         ON CONFLICT (host, room) DO UPDATE SET info = excluded.info`,
      )
      .run(host, room, json);
    this.#roomInfo.get(host)?.set(room, JSON.parse(json) as StoredRoomInfo);
    const rooms = this.#rooms.get(host);
    if (rooms && !rooms.has(room)) rooms.set(room, false);
  }

  // ── the conversation: replies, edits, deletions, reactions, read position (#17) ───────

  /** The message at `seq` of `room`, as shown (edits, reactions applied), if we hold it. */
  messageAt(host: string, room: string, seq: number): ChatMessageView | undefined {
    const row = this.#rowAt.get(host, room, seq);
    return row ? this.#toView(host, row) : undefined;
  }

  /** The file (with its key) the message at `seq` carries, if we hold it and it has one. */
  fileOf(host: string, room: string, seq: number): FileRef | undefined {
    const row = this.#rowAt.get(host, room, seq);
    if (!row || row['deleted'] === 1) return undefined;
    return this.#conversation.openMeta(row['meta'], messageIdentity(host, toView(row))).file;
  }

  /**
   * An edit of `edit.target`: kept (also before its target is held), and applied only by the
   * target's own sender. Returns the target as now shown when this edit changed it.
   */
  applyEdit(host: string, room: string, edit: EditRecord): ChatMessageView | undefined {
    const row = this.#rowAt.get(host, room, edit.target);
    if (row && (String(row['sender']) !== edit.sender || row['deleted'] === 1)) return undefined;
    if (!this.#conversation.storeEdit(host, room, edit) || !row) return undefined;
    const newest = this.#conversation.newestEdit(host, room, edit.target, edit.sender);
    return newest?.seq === edit.seq ? this.#toView(host, row) : undefined;
  }

  /**
   * A deletion of `target`: `allowed` says whether the deleter may delete a message of the
   * target's sender. The target becomes a tombstone — its text, file, edits and the reactions
   * to it leave the file (secure_delete zeroes the freed space, the WAL is checkpointed).
   * Returns the tombstone's view, 'forbidden', or undefined (not held, or deleted already).
   */
  applyDelete(
    host: string,
    room: string,
    target: number,
    allowed: (targetSender: string) => boolean,
  ): ChatMessageView | 'forbidden' | undefined {
    const row = this.#rowAt.get(host, room, target);
    if (!row) {
      // Not held: whatever was said about it (an edit that came first) goes all the same.
      this.#conversation.eraseAbout(host, room, target);
      return undefined;
    }
    if (!allowed(String(row['sender']))) return 'forbidden';
    if (row['deleted'] === 1) return undefined;
    this.#erase(host, room, target);
    return this.messageAt(host, room, target);
  }

  #erase(host: string, room: string, seq: number): void {
    this.#transaction(() => {
      this.#db
        .prepare(
          `UPDATE messages INDEXED BY messages_by_seq
           SET text = '', sealed = 0, meta = NULL, deleted = 1
           WHERE host = ? AND room = ? AND seq = ? AND ${MESSAGE_ROW}`,
        )
        .run(host, room, seq);
      this.#conversation.eraseAbout(host, room, seq);
    });
    // The WAL still holds the pages as they were: copied back and truncated now, not later.
    this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  /**
   * A reaction to `reaction.target`: ignored unless the target is held and not deleted.
   * Returns the target as now shown when it changed.
   */
  applyReaction(host: string, room: string, reaction: ReactionRecord): ChatMessageView | undefined {
    const row = this.#rowAt.get(host, room, reaction.target);
    if (!row || row['deleted'] === 1) return undefined;
    if (!this.#conversation.storeReaction(host, room, reaction)) return undefined;
    return this.#toView(host, row);
  }

  /** How far we have read `room` (our own `read` events, from any install). */
  readUpTo(host: string, room: string): number | undefined {
    return this.#conversation.readUpTo(host, room);
  }

  /** Moves our read position forward (never back); returns whether it moved. */
  setReadUpTo(host: string, room: string, upTo: number): boolean {
    return this.#conversation.setReadUpTo(host, room, upTo);
  }

  /** The newest seq of a message (not a room event) of `room` held here. */
  newestSeq(host: string, room: string): number | undefined {
    const row = this.#db
      .prepare(
        `SELECT max(seq) AS seq FROM messages WHERE host = ? AND room = ? AND ${MESSAGE_ROW}`,
      )
      .get(host, room);
    return typeof row?.['seq'] === 'number' ? row['seq'] : undefined;
  }

  /**
   * The messages and room events around `seq` (it and older ones first, then newer ones):
   * about half the page on each side. `more`: older ones are held before the page.
   */
  around(host: string, room: string, seq: number, limit: number): HistoryPage {
    const take = Math.max(1, Math.floor(limit));
    const before = Math.max(1, Math.ceil(take / 2));
    const older = this.#db
      .prepare(
        `SELECT ${COLUMNS} FROM messages WHERE host = ? AND room = ? AND seq <= ? AND ${SHOWN}
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(host, room, seq, before + 1);
    const newer = this.#db
      .prepare(
        `SELECT ${COLUMNS} FROM messages WHERE host = ? AND room = ? AND seq > ? AND ${SHOWN}
         ORDER BY seq LIMIT ?`,
      )
      .all(host, room, seq, take - Math.min(before, older.length));
    const more = older.length > before;
    return this.#pageOf(host, [...older.slice(0, before).reverse(), ...newer], more);
  }

  /**
   * Every message held that search can find (not deleted, readable, with a seq), its text as
   * shown now (the newest edit; a file's caption and name). All pages of `searchPage` at once.
   */
  searchDocs(): SearchDoc[] {
    const docs: SearchDoc[] = [];
    let cursor: SearchCursor | undefined;
    do {
      const page = this.searchPage(cursor, 2000);
      docs.push(...page.docs);
      cursor = page.next;
    } while (cursor);
    return docs;
  }

  /**
   * Up to `limit` messages search can find, after `after` in (host, room, seq) order, and the
   * cursor to read on from (undefined: no more). The search index is built from these pages a
   * slice at a time, so no slice blocks the event loop long and the whole history is never held
   * twice; each page reads the rows as they are now (edits and deletions made between pages
   * are seen).
   */
  searchPage(after: SearchCursor | undefined, limit: number): SearchPage {
    const take = Math.max(1, Math.floor(limit));
    // The index messages_by_seq holds (host, room, seq) and then the key (sender, id): a cursor
    // over all five is unique and walks that index, never sorts.
    const where = `${MESSAGE_ROW} AND seq IS NOT NULL`;
    const rows = after
      ? this.#db
          .prepare(
            `SELECT host, room, sender, id, seq, ts, nick, text, sealed, meta, deleted, e2ee
             FROM messages WHERE (host, room, seq, sender, id) > (?, ?, ?, ?, ?) AND ${where}
             ORDER BY host, room, seq, sender, id LIMIT ?`,
          )
          .all(after.host, after.room, after.seq, after.sender, after.id, take)
      : this.#db
          .prepare(
            `SELECT host, room, sender, id, seq, ts, nick, text, sealed, meta, deleted, e2ee
             FROM messages WHERE ${where} ORDER BY host, room, seq, sender, id LIMIT ?`,
          )
          .all(take);
    const docs: SearchDoc[] = [];
    for (const row of rows) {
      const doc = this.#searchDocOfRow(row);
      if (doc) docs.push(doc);
    }
    const last = rows.at(-1);
    const next =
      rows.length < take || !last
        ? undefined
        : {
            host: String(last['host']),
            room: String(last['room']),
            seq: Number(last['seq']),
            sender: String(last['sender']),
            id: String(last['id']),
          };
    return { docs, next };
  }

  /** A row as search indexes it: undefined when search must not find it. */
  #searchDocOfRow(row: Row): SearchDoc | undefined {
    if (row['deleted'] === 1 || !timeShown(row['ts'])) return undefined;
    if (parseE2ee(row['e2ee'])?.status === 'failed') return undefined;
    const host = String(row['host']);
    const identity = {
      room: String(row['room']),
      key: String(row['sender']),
      id: String(row['id']),
    };
    const text = this.#open(row['text'], row['sealed'], messageIdentity(host, identity));
    if (text === undefined) return undefined;
    const seq = Number(row['seq']);
    const edited = this.#conversation.newestEdit(host, identity.room, seq, identity.key);
    const file =
      row['meta'] === null
        ? undefined
        : this.#conversation.openMeta(row['meta'], messageIdentity(host, identity)).file;
    const name = file ? fileView(file).name : undefined;
    const body = edited?.text ?? text;
    return {
      key: searchKey(host, identity.room, seq),
      host,
      room: identity.room,
      seq,
      id: identity.id,
      from: String(row['nick']),
      ts: Number(row['ts']),
      text: name ? (body ? `${body} ${name}` : name) : body,
    };
  }

  /** A message as search indexes it. */
  searchDocOf(host: string, view: ChatMessageView): SearchDoc | undefined {
    if (view.seq === undefined || view.deleted || view.e2ee?.status === 'failed') return undefined;
    return searchDoc(host, view, view.text, view.file?.name);
  }

  /** The ChatSession's outbox for `host`, kept here across restarts. */
  outboxStore(host: string): OutboxStore {
    return {
      load: () => Promise.resolve(this.#loadOutbox(host)),
      save: (entries) => {
        this.#saveOutbox(host, entries);
        return Promise.resolve();
      },
    };
  }

  #loadOutbox(host: string): OutboxEntry[] {
    if (!this.#db.isOpen) return [];
    return this.#db
      .prepare(
        `SELECT id, room, text, queued_at, sealed, event FROM outbox WHERE host = ?
         ORDER BY position`,
      )
      .all(host)
      .flatMap((row) => {
        const id = String(row['id']);
        const room = String(row['room']);
        const text = this.#open(row['text'], row['sealed'], outboxIdentity(host, id, room));
        // An entry that no longer opens (another key) cannot be sent: it is dropped, not sent
        // as garbage.
        if (text === undefined) return [];
        const queuedAt = Number(row['queued_at']);
        if (row['event'] === null || row['event'] === undefined) {
          return text === '' ? [] : [{ id, room, text, queuedAt }];
        }
        const event = this.#openEvent(row['event'], row['sealed'], host, id, room);
        return event ? [{ id, room, text, event, queuedAt }] : [];
      });
  }

  #saveOutbox(host: string, entries: readonly OutboxEntry[]): void {
    // A session may flush its outbox while the app is shutting down, after close().
    if (!this.#db.isOpen) return;
    this.#transaction(() => {
      this.#db.prepare('DELETE FROM outbox WHERE host = ?').run(host);
      const insert = this.#db.prepare(
        `INSERT INTO outbox (host, position, id, room, text, queued_at, sealed, event)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const cipher = this.#cipher;
      entries.forEach((entry, position) =>
        insert.run(
          host,
          position,
          entry.id,
          entry.room,
          cipher ? cipher.seal(entry.text, outboxIdentity(host, entry.id, entry.room)) : entry.text,
          entry.queuedAt,
          cipher ? 1 : 0,
          entry.event === undefined
            ? null
            : cipher
              ? cipher.seal(
                  JSON.stringify(entry.event),
                  outboxEventIdentity(host, entry.id, entry.room),
                )
              : JSON.stringify(entry.event),
        ),
      );
    });
  }

  /** A message by its sender and client id, as shown (e.g. our queued reply, with its quote). */
  find(host: string, sender: string, id: string): ChatMessageView | undefined {
    return this.#find(host, sender, id);
  }

  #find(host: string, sender: string, id: string): ChatMessageView | undefined {
    const row = this.#get.get({ host, sender, id });
    return row ? this.#toView(host, row) : undefined;
  }

  /** An outbox entry's event (a file's key, an edit's text: sealed like its text). */
  #openEvent(
    value: SQLOutputValue | undefined,
    sealed: SQLOutputValue | undefined,
    host: string,
    id: string,
    room: string,
  ): ChatEvent | undefined {
    const json = this.#open(value, sealed, outboxEventIdentity(host, id, room));
    if (json === undefined) return undefined;
    try {
      const parsed = ChatEvent.safeParse(JSON.parse(json));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  #params(
    host: string,
    view: ChatMessageView,
    meta?: MessageMeta,
  ): Record<string, string | number | null> {
    const cipher = this.#cipher;
    const deleted = view.deleted === true;
    return {
      host,
      room: view.room,
      sender: view.key,
      id: view.id,
      seq: view.seq ?? null,
      ts: view.ts,
      nick: view.from,
      fp: view.fp,
      text: deleted ? '' : cipher ? cipher.seal(view.text, messageIdentity(host, view)) : view.text,
      own: view.own ? 1 : 0,
      status: view.status,
      event: null,
      sealed: cipher && !deleted ? 1 : 0,
      e2ee: view.e2ee ? JSON.stringify(view.e2ee) : null,
      meta: deleted ? null : this.#conversation.sealMeta(meta, messageIdentity(host, view)),
      deleted: deleted ? 1 : 0,
    };
  }

  #toView(host: string, row: Row): ChatMessageView {
    const view = toView(row);
    if (row['deleted'] === 1) return { ...view, text: '', deleted: true };
    const text = this.#open(row['text'], row['sealed'], messageIdentity(host, view));
    // Sealed with another key, or changed on disk: shown as a message that cannot be read.
    if (text === undefined) {
      return { ...view, text: '', e2ee: { status: 'failed', reason: 'undecryptable' } };
    }
    if (view.e2ee?.status === 'failed') return { ...view, text };
    const meta = this.#conversation.openMeta(row['meta'], messageIdentity(host, view));
    const { seq } = view;
    const edit =
      seq === undefined ? undefined : this.#conversation.newestEdit(host, view.room, seq, view.key);
    const reactions = seq === undefined ? [] : this.#conversation.reactions(host, view.room, seq);
    return {
      ...view,
      text: edit ? edit.text : text,
      ...(edit ? { edited: true } : {}),
      ...(reactions.length > 0 ? { reactions } : {}),
      ...(meta.reply !== undefined
        ? { replyTo: this.#replyView(host, view.room, meta.reply) }
        : {}),
      ...(meta.file ? { file: fileView(meta.file) } : {}),
    };
  }

  /** What a reply shows of the message it answers: from our own copy, if we hold it. */
  #replyView(host: string, room: string, seq: number): ReplyView {
    const row = this.#rowAt.get(host, room, seq);
    if (!row) return { seq, from: '', text: '', missing: true };
    const from = String(row['nick']);
    if (row['deleted'] === 1) return { seq, from, text: '', deleted: true };
    const basic = toView(row);
    const opened = this.#open(row['text'], row['sealed'], messageIdentity(host, basic));
    const edit = this.#conversation.newestEdit(host, room, seq, basic.key);
    const text = edit?.text ?? opened ?? '';
    const meta = this.#conversation.openMeta(row['meta'], messageIdentity(host, basic));
    return {
      seq,
      from,
      text: [...text].slice(0, REPLY_TEXT_CHARS).join(''),
      ...(meta.file ? { file: fileView(meta.file).name } : {}),
    };
  }

  /** A row's text: as stored, or opened with the at-rest key; undefined if it does not open. */
  #open(
    text: SQLOutputValue | undefined,
    sealed: SQLOutputValue | undefined,
    identity: readonly string[],
  ): string | undefined {
    return openStoredText(this.#cipher, text, sealed, identity);
  }

  #transaction(body: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      body();
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** What a message row's sealed text is bound to: the row's primary key. */
function messageIdentity(host: string, view: { room: string; key: string; id: string }): string[] {
  return ['message', host, view.room, view.key, view.id];
}

function outboxIdentity(host: string, id: string, room: string): string[] {
  return ['outbox', host, room, id];
}

function outboxEventIdentity(host: string, id: string, room: string): string[] {
  return ['outbox-event', host, room, id];
}

/** A stored time a date can show (what SHOWN selects in SQL). */
function timeShown(ts: SQLOutputValue | undefined): boolean {
  const value = Number(ts);
  return value >= 0 && value <= MAX_SHOWN_TIME_MS;
}

/** Search keys a message by its place: an edit or deletion names it by seq. */
export function searchKey(host: string, room: string, seq: number): string {
  return `${host}\n${room}\n${seq}`;
}

function searchDoc(
  host: string,
  view: ChatMessageView,
  text: string,
  fileName: string | undefined,
): SearchDoc {
  const seq = view.seq ?? 0;
  return {
    key: searchKey(host, view.room, seq),
    host,
    room: view.room,
    seq,
    id: view.id,
    from: view.from,
    ts: view.ts,
    text: fileName ? (text ? `${text} ${fileName}` : fileName) : text,
  };
}

function parseE2ee(value: SQLOutputValue | undefined): MessageE2ee | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = MessageE2ee.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function parseInfo(value: SQLOutputValue | undefined): StoredRoomInfo | undefined {
  try {
    const parsed = StoredRoomInfo.safeParse(JSON.parse(String(value)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function toEvent(row: Row): RoomEventView | undefined {
  let parsed: ReturnType<typeof StoredEvent.safeParse>;
  try {
    parsed = StoredEvent.safeParse(JSON.parse(String(row['event'])));
  } catch {
    return undefined;
  }
  const seq = row['seq'];
  if (!parsed.success || typeof seq !== 'number') return undefined;
  const sender = String(row['sender']);
  const { action, target, role, topic } = parsed.data;
  return {
    room: String(row['room']),
    seq,
    ts: Number(row['ts']),
    action,
    ...(sender === ''
      ? {}
      : { actor: { nick: String(row['nick']), key: sender, fp: String(row['fp']) } }),
    ...(target ? { target } : {}),
    ...(role ? { role } : {}),
    ...(topic !== undefined ? { topic } : {}),
  };
}

/** A message row as stored (its text still sealed, if it is). */
function toView(row: Row): ChatMessageView {
  const seq = row['seq'];
  const e2ee = parseE2ee(row['e2ee']);
  return {
    room: String(row['room']),
    id: String(row['id']),
    ...(typeof seq === 'number' ? { seq } : {}),
    from: String(row['nick']),
    fp: String(row['fp']),
    key: String(row['sender']),
    text: String(row['text']),
    ts: Number(row['ts']),
    own: row['own'] === 1,
    status: String(row['status']) as MessageStatus,
    ...(e2ee ? { e2ee } : {}),
  };
}

function migrate(db: DatabaseSync): void {
  const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  if (version > MIGRATIONS.length) {
    throw new LocalHistoryError(
      `it was written by a newer Parley (schema ${version}); update the app to open it`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[v] ?? '');
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
