import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import { z } from 'zod';
import type { ReactionView } from '../../src-shared/ipc/domain.ts';
import { FileRef, MessageSeq } from '../protocol/wire/chat-event.ts';
import type { RowCipher } from './row-cipher.ts';
import { openStoredText } from './stored-text.ts';

/**
 * The local history's record of what was said *about* messages (design17.md): edits (the
 * newest by seq is shown), reactions (per target, sender and emoji, the newest by seq holds)
 * and our read position per room; and the sealed extras of a message row (the message it
 * answers, the file it carries with that file's key). Edits and reactions are not rows of the
 * timeline: they are applied to their target when a view is built. Everything a member wrote
 * (an edit's text, an emoji, a file's name and key) is sealed with the at-rest key like a
 * message's text; an emoji is found again by a keyed tag, never by its plain value.
 */

/** What a message row carries besides its text: sealed together in its `meta` column. */
export const MessageMeta = z.object({
  reply: MessageSeq.optional(),
  file: FileRef.optional(),
});
export type MessageMeta = z.infer<typeof MessageMeta>;

/** Nicknames listed per emoji (the count says how many reacted). */
export const MAX_REACTION_NICKS = 20;

export interface EditRecord {
  readonly target: number;
  readonly seq: number;
  readonly sender: string;
  readonly text: string;
}

export interface ReactionRecord {
  readonly target: number;
  readonly seq: number;
  readonly sender: string;
  readonly nick: string;
  readonly emoji: string;
  readonly on: boolean;
}

export const CONVERSATION_MIGRATION = `
  ALTER TABLE messages ADD COLUMN meta TEXT;
  ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));
  ALTER TABLE outbox ADD COLUMN event TEXT;
  CREATE TABLE edits (
    host   TEXT    NOT NULL,
    room   TEXT    NOT NULL,
    target INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    sender TEXT    NOT NULL,
    text   TEXT    NOT NULL,
    sealed INTEGER NOT NULL CHECK (sealed IN (0, 1)),
    PRIMARY KEY (host, room, target, seq)
  ) WITHOUT ROWID;
  CREATE TABLE reactions (
    host   TEXT    NOT NULL,
    room   TEXT    NOT NULL,
    target INTEGER NOT NULL,
    sender TEXT    NOT NULL,
    tag    TEXT    NOT NULL,
    emoji  TEXT    NOT NULL,
    sealed INTEGER NOT NULL CHECK (sealed IN (0, 1)),
    nick   TEXT    NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    seq    INTEGER NOT NULL,
    PRIMARY KEY (host, room, target, sender, tag)
  ) WITHOUT ROWID;
  CREATE TABLE read_positions (
    host  TEXT    NOT NULL,
    room  TEXT    NOT NULL,
    up_to INTEGER NOT NULL,
    PRIMARY KEY (host, room)
  ) WITHOUT ROWID;
`;

export class ConversationTables {
  readonly #db: DatabaseSync;
  readonly #cipher: RowCipher | undefined;
  readonly #ownKey: string;
  readonly #insertEdit: StatementSync;
  readonly #newestEdit: StatementSync;
  readonly #upsertReaction: StatementSync;
  readonly #reactionsOf: StatementSync;
  readonly #readUpTo: StatementSync;
  readonly #setReadUpTo: StatementSync;

  constructor(db: DatabaseSync, cipher: RowCipher | undefined, ownKey: string) {
    this.#db = db;
    this.#cipher = cipher;
    this.#ownKey = ownKey;
    this.#insertEdit = db.prepare(
      `INSERT OR IGNORE INTO edits (host, room, target, seq, sender, text, sealed)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#newestEdit = db.prepare(
      `SELECT seq, text, sealed FROM edits WHERE host = ? AND room = ? AND target = ? AND sender = ?
       ORDER BY seq DESC LIMIT 1`,
    );
    // Only a newer event (by seq) changes a reaction: replayed or late ones do not undo it.
    this.#upsertReaction = db.prepare(
      `INSERT INTO reactions (host, room, target, sender, tag, emoji, sealed, nick, active, seq)
       VALUES (:host, :room, :target, :sender, :tag, :emoji, :sealed, :nick, :active, :seq)
       ON CONFLICT (host, room, target, sender, tag) DO UPDATE SET
         emoji = excluded.emoji, sealed = excluded.sealed, nick = excluded.nick,
         active = excluded.active, seq = excluded.seq
       WHERE excluded.seq > reactions.seq`,
    );
    this.#reactionsOf = db.prepare(
      `SELECT sender, tag, emoji, sealed, nick, seq FROM reactions
       WHERE host = ? AND room = ? AND target = ? AND active = 1 ORDER BY seq`,
    );
    this.#readUpTo = db.prepare('SELECT up_to FROM read_positions WHERE host = ? AND room = ?');
    this.#setReadUpTo = db.prepare(
      `INSERT INTO read_positions (host, room, up_to) VALUES (?, ?, ?)
       ON CONFLICT (host, room) DO UPDATE SET up_to = excluded.up_to
       WHERE excluded.up_to > read_positions.up_to`,
    );
  }

  // ── a message row's extras ──────────────────────────────────────────────────────────

  sealMeta(meta: MessageMeta | undefined, identity: readonly string[]): string | null {
    if (!meta || (meta.reply === undefined && meta.file === undefined)) return null;
    const json = JSON.stringify(MessageMeta.parse(meta));
    return this.#cipher ? this.#cipher.seal(json, ['meta', ...identity]) : json;
  }

  openMeta(value: SQLOutputValue | undefined, identity: readonly string[]): MessageMeta {
    if (typeof value !== 'string') return {};
    try {
      const json = this.#cipher ? this.#cipher.open(value, ['meta', ...identity]) : value;
      const parsed = MessageMeta.safeParse(JSON.parse(json));
      return parsed.success ? parsed.data : {};
    } catch {
      return {};
    }
  }

  // ── edits ───────────────────────────────────────────────────────────────────────────

  /** Keeps an edit (also of a message not held yet: it applies once the message is). */
  storeEdit(host: string, room: string, edit: EditRecord): boolean {
    const identity = editIdentity(host, room, edit.target, edit.seq);
    const sealed = this.#seal(edit.text, identity);
    return (
      this.#insertEdit.run(host, room, edit.target, edit.seq, edit.sender, sealed.text, sealed.flag)
        .changes > 0
    );
  }

  /** The newest text `sender` gave their message `target`, with the edit's seq. */
  newestEdit(
    host: string,
    room: string,
    target: number,
    sender: string,
  ): { seq: number; text: string } | undefined {
    const row = this.#newestEdit.get(host, room, target, sender);
    if (!row) return undefined;
    const seq = Number(row['seq']);
    const text = this.#open(row['text'], row['sealed'], editIdentity(host, room, target, seq));
    return text === undefined ? undefined : { seq, text };
  }

  /**
   * Every message's newest edit, per `host\nroom\ntarget\nsender`: read once when the search
   * index is first built, instead of one query per message.
   */
  allNewestEdits(): Map<string, string> {
    const edits = new Map<string, string>();
    const rows = this.#db
      .prepare('SELECT host, room, target, seq, sender, text, sealed FROM edits ORDER BY seq')
      .all();
    for (const row of rows) {
      const host = String(row['host']);
      const room = String(row['room']);
      const target = Number(row['target']);
      const text = this.#open(
        row['text'],
        row['sealed'],
        editIdentity(host, room, target, Number(row['seq'])),
      );
      if (text !== undefined)
        edits.set(`${host}\n${room}\n${target}\n${String(row['sender'])}`, text);
    }
    return edits;
  }

  // ── reactions ───────────────────────────────────────────────────────────────────────

  /** Applies a reaction event; returns whether what is shown may have changed. */
  storeReaction(host: string, room: string, reaction: ReactionRecord): boolean {
    const context = ['reaction', host, room];
    const tag = this.#cipher ? this.#cipher.tag(reaction.emoji, context) : reaction.emoji;
    const identity = reactionIdentity(host, room, reaction.target, reaction.sender, tag);
    const emoji = this.#seal(reaction.emoji, identity);
    return (
      this.#upsertReaction.run({
        host,
        room,
        target: reaction.target,
        sender: reaction.sender,
        tag,
        emoji: emoji.text,
        sealed: emoji.flag,
        nick: reaction.nick,
        active: reaction.on ? 1 : 0,
        seq: reaction.seq,
      }).changes > 0
    );
  }

  /** The reactions to `target`, by emoji in the order each was first used. */
  reactions(host: string, room: string, target: number): ReactionView[] {
    const byTag = new Map<string, { emoji: string; count: number; mine: boolean; by: string[] }>();
    for (const row of this.#reactionsOf.all(host, room, target)) {
      const tag = String(row['tag']);
      const sender = String(row['sender']);
      let entry = byTag.get(tag);
      if (!entry) {
        const emoji = this.#open(
          row['emoji'],
          row['sealed'],
          reactionIdentity(host, room, target, sender, tag),
        );
        if (emoji === undefined) continue;
        entry = { emoji, count: 0, mine: false, by: [] };
        byTag.set(tag, entry);
      }
      entry.count++;
      if (sender === this.#ownKey) entry.mine = true;
      if (entry.by.length < MAX_REACTION_NICKS) entry.by.push(String(row['nick']));
    }
    return [...byTag.values()];
  }

  // ── deletion, retention ─────────────────────────────────────────────────────────────

  /** What was said about `target` goes with it: its edits and the reactions to it. */
  eraseAbout(host: string, room: string, target: number): void {
    this.#db
      .prepare('DELETE FROM edits WHERE host = ? AND room = ? AND target = ?')
      .run(host, room, target);
    this.#db
      .prepare('DELETE FROM reactions WHERE host = ? AND room = ? AND target = ?')
      .run(host, room, target);
  }

  /** Retention dropped the room's messages before `seq`: what was said about them goes too. */
  pruneBefore(host: string, room: string, seq: number): void {
    for (const table of ['edits', 'reactions']) {
      this.#db
        .prepare(`DELETE FROM ${table} WHERE host = ? AND room = ? AND target < ?`)
        .run(host, room, seq);
    }
  }

  forgetRoom(host: string, room: string): void {
    for (const table of ['edits', 'reactions', 'read_positions']) {
      this.#db.prepare(`DELETE FROM ${table} WHERE host = ? AND room = ?`).run(host, room);
    }
  }

  // ── read position ───────────────────────────────────────────────────────────────────

  readUpTo(host: string, room: string): number | undefined {
    const row = this.#readUpTo.get(host, room);
    return typeof row?.['up_to'] === 'number' ? row['up_to'] : undefined;
  }

  /** Moves our read position in `room` forward (never back); returns whether it moved. */
  setReadUpTo(host: string, room: string, upTo: number): boolean {
    return this.#setReadUpTo.run(host, room, upTo).changes > 0;
  }

  // ── sealing ─────────────────────────────────────────────────────────────────────────

  #seal(text: string, identity: readonly string[]): { text: string; flag: 0 | 1 } {
    return this.#cipher ? { text: this.#cipher.seal(text, identity), flag: 1 } : { text, flag: 0 };
  }

  #open(
    text: SQLOutputValue | undefined,
    sealed: SQLOutputValue | undefined,
    identity: readonly string[],
  ): string | undefined {
    return openStoredText(this.#cipher, text, sealed, identity);
  }
}

function editIdentity(host: string, room: string, target: number, seq: number): string[] {
  return ['edit', host, room, String(target), String(seq)];
}

function reactionIdentity(
  host: string,
  room: string,
  target: number,
  sender: string,
  tag: string,
): string[] {
  return ['reaction', host, room, String(target), sender, tag];
}
