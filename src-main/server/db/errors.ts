// Typed errors for the host's store. A HostDatabaseError's message is built only from the operation
// name and SQLite's generic description of the result code (sqlite3_errstr), never from bound values,
// so it can be logged without leaking message text, nicknames or keys.

export type HostDatabaseErrorCode = 'corrupt' | 'locked' | 'io' | 'schema';

export class HostDatabaseError extends Error {
  override readonly name = 'HostDatabaseError';
  readonly code: HostDatabaseErrorCode;
  /** SQLite's extended result code, when the failure came from SQLite. */
  readonly sqliteCode: number | undefined;

  constructor(
    code: HostDatabaseErrorCode,
    message: string,
    options?: { cause?: unknown; sqliteCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sqliteCode = options?.sqliteCode;
  }
}

// Primary result codes (https://www.sqlite.org/rescode.html).
const SQLITE_ERROR = 1;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_SCHEMA = 17;
const SQLITE_CONSTRAINT = 19;
const SQLITE_MISMATCH = 20;
const SQLITE_NOTADB = 26;

function codeFor(sqliteCode: number): HostDatabaseErrorCode {
  switch (sqliteCode & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return 'corrupt';
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return 'locked';
    // The file does not hold what this code expects (missing table, violated constraint, type).
    case SQLITE_ERROR:
    case SQLITE_SCHEMA:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return 'schema';
    // IOERR, FULL, CANTOPEN, READONLY, PERM, PROTOCOL, NOMEM, ...
    default:
      return 'io';
  }
}

interface SqliteErrorShape {
  code: 'ERR_SQLITE_ERROR';
  errcode: number;
  errstr: string;
}

function isSqliteError(error: unknown): error is Error & SqliteErrorShape {
  return (
    error instanceof Error &&
    (error as Partial<SqliteErrorShape>).code === 'ERR_SQLITE_ERROR' &&
    typeof (error as Partial<SqliteErrorShape>).errcode === 'number'
  );
}

/**
 * Turns whatever a store operation threw into a HostDatabaseError. Errors that are not SQLite's or
 * the file system's (a RangeError from argument checks, a HostDatabaseError already) pass through.
 */
export function toHostDatabaseError(operation: string, error: unknown): unknown {
  if (error instanceof HostDatabaseError) return error;
  if (isSqliteError(error)) {
    const errstr = typeof error.errstr === 'string' ? error.errstr : 'sqlite error';
    return new HostDatabaseError(
      codeFor(error.errcode),
      `${operation} failed: ${errstr} (sqlite ${error.errcode})`,
      { cause: error, sqliteCode: error.errcode },
    );
  }
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof Error && typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    // The message of a file-system error carries the path, which is fine: it is the host's own
    // data directory, not user content.
    return new HostDatabaseError('io', `${operation} failed: ${errno}`, { cause: error });
  }
  return error;
}
