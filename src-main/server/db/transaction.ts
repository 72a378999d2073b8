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

/**
 * Connections inside a cluster turn (server/cluster/cluster-turns.ts): one outer transaction spans
 * the whole turn and stays open until the cluster's log has the turn's changes, so the writes made
 * in it are savepoints, and a turn PostgreSQL refused rolls back as a whole. A single-process host
 * never opens one.
 */
const turns = new WeakSet<DatabaseSync>();

/** Opens a turn's outer transaction: every write until `endTurn` is part of it. */
export function beginTurn(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  turns.add(db);
}

/** Ends the turn's outer transaction: committed (the log has it) or rolled back. */
export function endTurn(db: DatabaseSync, commit: boolean): void {
  turns.delete(db);
  if (db.isTransaction) db.exec(commit ? 'COMMIT' : 'ROLLBACK');
}

/** Whether the connection is inside a turn's outer transaction. */
export function inTurn(db: DatabaseSync): boolean {
  return turns.has(db);
}

/** A write inside a turn: a savepoint of the turn's transaction, undone alone if it fails. */
export function turnSavepoint<T>(db: DatabaseSync, operation: string, body: () => T): T {
  try {
    db.exec('SAVEPOINT write');
    try {
      const result = body();
      db.exec('RELEASE write');
      afterWrite(db);
      return result;
    } catch (error) {
      db.exec('ROLLBACK TO write');
      db.exec('RELEASE write');
      throw error;
    }
  } catch (error) {
    throw toHostDatabaseError(operation, error);
  }
}

export function immediateTransaction<T>(db: DatabaseSync, operation: string, body: () => T): T {
  if (turns.has(db)) return turnSavepoint(db, operation, body);
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
