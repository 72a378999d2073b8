// The host's file storage (docs/protocol.md §13), in its database: each file's record and its
// ciphertext chunks. The host never sees a file's key: in every room it stores bytes it cannot
// read. Storage is bounded by a quota for the host and for each key, and by a retention period.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { sameKey } from '../protocol/host-key.ts';
import {
  type Row,
  column,
  isBytes,
  isNullableNumber,
  isNumber,
  isString,
} from './db/message-row.ts';
import { immediateTransaction, read } from './db/transaction.ts';

/** A complete file no message claimed is dropped this long after it was completed. */
export const UNCLAIMED_FILE_MS = 10 * 60 * 1000;
/** Files deleted by one sweep at most: a sweep is one transaction on the event loop. */
const SWEEP_BATCH = 50;

export interface FileRecord {
  readonly id: string;
  readonly room: string;
  readonly ownerKey: Uint8Array;
  /** Ciphertext bytes. */
  readonly size: number;
  readonly chunks: number;
  readonly createdAt: number;
  readonly complete: boolean;
  readonly completedAt: number | null;
  /** The message that claimed it; null: not claimed yet. */
  readonly seq: number | null;
}

/** One write of an upload; a batch of them is one transaction (one fsync). */
export type FileWrite =
  | {
      readonly op: 'start';
      readonly id: string;
      readonly room: string;
      readonly owner: Uint8Array;
      readonly size: number;
      readonly chunks: number;
      readonly now: number;
      /** The host's quota and each key's, in ciphertext bytes. */
      readonly quotaBytes: number;
      readonly keyQuotaBytes: number;
    }
  | { readonly op: 'chunk'; readonly id: string; readonly index: number; readonly data: Uint8Array }
  | { readonly op: 'end'; readonly id: string; readonly now: number }
  | { readonly op: 'drop'; readonly id: string };

/**
 * 'gone': the file was dropped meanwhile (cancelled, swept); 'quota'/'key-quota': a start that
 * does not fit the host's or the key's quota; nothing was written for either.
 */
export type FileWriteResult = 'ok' | 'gone' | 'quota' | 'key-quota';

/**
 * Files and chunks. Synchronous, over the HostDatabase's connection. `write` and the sweeps are
 * transactions of their own; `claimable`, `claim` and `remove` run inside the transaction that
 * stores (or deletes) the message they belong to.
 */
export class FileStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** The writes in one transaction; one result per write, in order. */
  write(batch: readonly FileWrite[]): FileWriteResult[] {
    if (batch.length === 0) return [];
    return immediateTransaction(this.#db, 'writeFiles', () => batch.map((w) => this.#write(w)));
  }

  file(id: string): FileRecord | undefined {
    const row = read('file', () => this.#sql('SELECT * FROM files WHERE id = ?').get(id));
    return row === undefined ? undefined : toFile(row);
  }

  /** One chunk's ciphertext (only the one: a file is never read whole). */
  chunk(id: string, index: number): Uint8Array | undefined {
    const row = read('fileChunk', () =>
      this.#sql('SELECT data FROM file_chunks WHERE file_id = ? AND idx = ?').get(id, index),
    );
    return row === undefined ? undefined : column(row, 'data', isBytes);
  }

  /**
   * Deletes files past retention (`retentionMs`, 0: kept), and complete files no message
   * claimed within UNCLAIMED_FILE_MS; at most SWEEP_BATCH at once. Returns how many.
   */
  sweep(now: number, retentionMs: number): number {
    return immediateTransaction(this.#db, 'sweepFiles', () => {
      const ids = this.#sql(
        `SELECT id FROM files
         WHERE (?1 > 0 AND created_at <= ?2 - ?1)
            OR (complete = 1 AND seq IS NULL AND completed_at <= ?2 - ?3)
         LIMIT ?4`,
      )
        .all(retentionMs, now, UNCLAIMED_FILE_MS, SWEEP_BATCH)
        .map((row) => column(row, 'id', isString));
      for (const id of ids) this.remove(id);
      return ids.length;
    });
  }

  /** At start: uploads that never finished (their connections are gone) are deleted. */
  dropUnfinished(): number {
    return immediateTransaction(this.#db, 'dropUnfinishedFiles', () => {
      const ids = this.#sql('SELECT id FROM files WHERE complete = 0')
        .all()
        .map((row) => column(row, 'id', isString));
      for (const id of ids) this.remove(id);
      return ids.length;
    });
  }

  /** Whether `owner` may attach the file to a message in `room`: its own, complete, unclaimed. */
  claimable(id: string, room: string, owner: Uint8Array): boolean {
    const file = this.file(id);
    return (
      file !== undefined &&
      file.room === room &&
      file.complete &&
      file.seq === null &&
      sameKey(file.ownerKey, owner)
    );
  }

  claim(id: string, seq: number): void {
    this.#sql('UPDATE files SET seq = ? WHERE id = ?').run(seq, id);
  }

  /** The file and its chunks are gone (inside the caller's transaction). */
  remove(id: string): void {
    this.#sql('DELETE FROM file_chunks WHERE file_id = ?').run(id);
    this.#sql('DELETE FROM files WHERE id = ?').run(id);
  }

  #write(w: FileWrite): FileWriteResult {
    switch (w.op) {
      case 'start': {
        const total = this.#used('SELECT coalesce(sum(size), 0) AS used FROM files');
        if (total + w.size > w.quotaBytes) return 'quota';
        const own = this.#used(
          'SELECT coalesce(sum(size), 0) AS used FROM files WHERE owner_key = ?',
          w.owner,
        );
        if (own + w.size > w.keyQuotaBytes) return 'key-quota';
        this.#sql(
          `INSERT INTO files (id, room, owner_key, size, chunks, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(w.id, w.room, w.owner, w.size, w.chunks, w.now);
        return 'ok';
      }
      case 'chunk': {
        // Only for a file still there: a cancel or sweep may have come first in this batch.
        const inserted = this.#sql(
          `INSERT INTO file_chunks (file_id, idx, data)
           SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM files WHERE id = ?1 AND complete = 0)
           ON CONFLICT (file_id, idx) DO UPDATE SET data = excluded.data`,
        ).run(w.id, w.index, w.data);
        return Number(inserted.changes) === 1 ? 'ok' : 'gone';
      }
      case 'end': {
        const ended = this.#sql(
          'UPDATE files SET complete = 1, completed_at = ? WHERE id = ? AND complete = 0',
        ).run(w.now, w.id);
        return Number(ended.changes) === 1 ? 'ok' : 'gone';
      }
      case 'drop':
        this.remove(w.id);
        return 'ok';
    }
  }

  #used(sql: string, ...params: Uint8Array[]): number {
    return column(this.#sql(sql).get(...params) ?? {}, 'used', isNumber);
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

function toFile(row: Row): FileRecord {
  return {
    id: column(row, 'id', isString),
    room: column(row, 'room', isString),
    ownerKey: column(row, 'owner_key', isBytes),
    size: column(row, 'size', isNumber),
    chunks: column(row, 'chunks', isNumber),
    createdAt: column(row, 'created_at', isNumber),
    complete: column(row, 'complete', isNumber) === 1,
    completedAt: column(row, 'completed_at', isNullableNumber),
    seq: column(row, 'seq', isNullableNumber),
  };
}
