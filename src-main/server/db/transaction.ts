// One BEGIN IMMEDIATE transaction around a body: IMMEDIATE takes the write lock first, so another
// process (the `parley host` command, or the host itself) waits for the busy timeout instead of
// failing halfway through with SQLITE_BUSY on a read-then-write.
import type { DatabaseSync } from 'node:sqlite';
import { toHostDatabaseError } from './errors.ts';

/**
 * Told after every write transaction on a connection (the host's WalSync: its commits are not
 * synced at COMMIT, see wal-sync.ts). Kept beside the connection, so the stores that share it need
 * no extra parameter, and every write of theirs goes through immediateTransaction.
 */
const commitHooks = new WeakMap<DatabaseSync, () => void>();

export function setCommitHook(db: DatabaseSync, hook: () => void): void {
  commitHooks.set(db, hook);
}

/** Tells the connection's hook that a write transaction ended (committed or not: harmless). */
export function afterWrite(db: DatabaseSync): void {
  commitHooks.get(db)?.();
}

export function immediateTransaction<T>(db: DatabaseSync, operation: string, body: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
    let committing = false;
    try {
      const result = body();
      committing = true;
      db.exec('COMMIT');
      afterWrite(db);
      return result;
    } catch (error) {
      // A COMMIT that failed may still have written frames: let them be synced too.
      if (committing) afterWrite(db);
      // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may already have
      // rolled it back (I/O error); roll back only what is still open.
      if (db.isTransaction) {
        try {
          db.exec('ROLLBACK');
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

/** A read, with SQLite's errors turned into HostDatabaseErrors. */
export function read<T>(operation: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw toHostDatabaseError(operation, error);
  }
}
