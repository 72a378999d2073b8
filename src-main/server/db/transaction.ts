// One BEGIN IMMEDIATE transaction around a body: IMMEDIATE takes the write lock first, so another
// process (the `parley host` command, or the host itself) waits for the busy timeout instead of
// failing halfway through with SQLITE_BUSY on a read-then-write.
import type { DatabaseSync } from 'node:sqlite';
import { toHostDatabaseError } from './errors.ts';

export function immediateTransaction<T>(db: DatabaseSync, operation: string, body: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      db.exec('COMMIT');
      return result;
    } catch (error) {
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
