// What the host enforces about a message's relation to an earlier one and about the file it
// carries (docs/protocol.md §13), in the transaction that stores the message: who may edit or
// delete what, the erasure a deletion brings, and which uploads a message may claim. The host
// reads only a `send`'s `rel` and `file` for this, so it works the same for encrypted rooms.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { sameKey } from '../protocol/host-key.ts';
import type { Relation } from '../protocol/wire/chat-event.ts';
import { column, isBytes, isNullableString } from './db/message-row.ts';
import type { FileStore } from './file-store.ts';

export type RelationRefusalCode = 'no-such-message' | 'forbidden' | 'no-such-file';

export interface RelationRefusal {
  readonly code: RelationRefusalCode;
  readonly message: string;
}

/** The parts of a message the checks read. */
export interface RelatedMessage {
  readonly room: string;
  readonly senderKey: Uint8Array;
  readonly rel?: Relation | undefined;
  readonly file?: string | undefined;
}

/**
 * The checks and their effects. Synchronous, over the HostDatabase's connection, always inside
 * the appending transaction: the target is read as the batch so far left it (a deletion earlier
 * in the batch counts), and a deletion is erased in the transaction that stores it.
 */
export class MessageRelations {
  readonly #db: DatabaseSync;
  readonly #files: FileStore;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, files: FileStore) {
    this.#db = db;
    this.#files = files;
  }

  /** Why the message may not be stored, or undefined: it may. */
  refusal(m: RelatedMessage): RelationRefusal | undefined {
    if (m.rel) {
      const refused = this.#targetRefusal(m, m.rel);
      if (refused) return refused;
    }
    if (m.file !== undefined && !this.#files.claimable(m.file, m.room, m.senderKey)) {
      return {
        code: 'no-such-file',
        message: 'that file is not an upload of yours to this room that is complete and unused',
      };
    }
    return undefined;
  }

  /**
   * The message was stored at `seq`: a deletion erases its target, the target's edits and the
   * target's file; a file is claimed. Returns whether anything was erased.
   */
  applied(m: RelatedMessage, seq: number): boolean {
    if (m.file !== undefined) this.#files.claim(m.file, seq);
    if (m.rel?.t !== 'delete') return false;
    // The target's file, and any an edit of it claimed: in an encrypted room the host cannot
    // see what an edit says, so a (modified) client's edit may carry a file too.
    const files = this.#sql(
      `SELECT file_id FROM messages
       WHERE (seq = ?1 OR (rel_seq = ?1 AND rel_t = 'edit' AND room = ?2)) AND file_id IS NOT NULL`,
    )
      .all(m.rel.seq, m.room)
      .map((row) => column(row, 'file_id', isNullableString));
    this.#sql(
      `UPDATE messages SET text = '', ev = NULL, mls = NULL, file_id = NULL, deleted = 1
       WHERE seq = ?`,
    ).run(m.rel.seq);
    // The edits go whole: a tombstone says nothing of what it was, so clients would show each
    // one as another deleted message; and nothing of them (who edited, when) need stay.
    const edits = this.#sql(
      `DELETE FROM messages WHERE rel_seq = ? AND rel_t = 'edit' AND room = ?`,
    ).run(m.rel.seq, m.room);
    if (Number(edits.changes) > 0) {
      this.#sql('UPDATE rooms SET message_count = message_count - ? WHERE name = ?').run(
        Number(edits.changes),
        m.room,
      );
    }
    for (const file of files) if (file !== null) this.#files.remove(file);
    return true;
  }

  #targetRefusal(m: RelatedMessage, rel: Relation): RelationRefusal | undefined {
    const row = this.#sql(
      `SELECT sender_key, kind, event, rel_t, deleted FROM messages WHERE seq = ? AND room = ?`,
    ).get(rel.seq, m.room);
    // Only a message someone said can be edited or deleted: not a room event, a commit, an
    // edit or deletion itself, nor what is deleted already or gone from history.
    if (
      row === undefined ||
      row['deleted'] !== 0 ||
      (row['kind'] !== 'text' && row['kind'] !== 'mls') ||
      row['event'] !== null ||
      row['rel_t'] !== null
    ) {
      return { code: 'no-such-message', message: `there is no message ${rel.seq} in this room` };
    }
    if (sameKey(column(row, 'sender_key', isBytes), m.senderKey)) return undefined;
    if (rel.t === 'delete' && this.#moderates(m.room, m.senderKey)) return undefined;
    return {
      code: 'forbidden',
      message:
        rel.t === 'edit'
          ? 'only its sender can edit a message'
          : "only its sender, or the room's owners and admins, can delete a message",
    };
  }

  #moderates(room: string, key: Uint8Array): boolean {
    const row = this.#sql('SELECT role FROM members WHERE room = ? AND member_key = ?').get(
      room,
      key,
    );
    return row?.['role'] === 'owner' || row?.['role'] === 'admin';
  }

  /** Statements are prepared on first use and kept. */
  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }
}
