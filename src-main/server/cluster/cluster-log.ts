// The cluster's ordered log, in PostgreSQL (docs/scaling.md).
//
// parley_head is one row: the position of the last entry. A turn locks it (SELECT … FOR UPDATE)
// before it runs, so turns of all nodes run one after another, each on a replica that has every
// earlier entry; the turn's entry is inserted at the next position and the head moved in the same
// transaction. Its COMMIT is what makes the turn's answers true: only then are they sent.
import fs from 'node:fs';
import type { Pool, PoolClient } from 'pg';
import { sameKey } from '../../protocol/host-key.ts';
import { fingerprint } from '../../protocol/node-fingerprint.ts';
import { type LogEntry, LogEntryError, decodeEffects, encodeEffects } from './log-entry.ts';

/**
 * The log's format: the host database's schema (its patchsets name its tables and columns) and
 * this file's own tables. Nodes of another format refuse to join the log rather than guess.
 */
export interface LogFormat {
  /** The host database's schema version (db/schema.ts): what the patchsets name. */
  readonly schema: number;
  /** The entries' own format (log-entry.ts): effects and the NATS framing. */
  readonly format: number;
  /**
   * The host's static public key: the first node writes it, and a node with another key (a key
   * file not copied, or another cluster's) refuses to join: its clients would see another host.
   */
  readonly hostKey: Uint8Array;
}

/** PostgreSQL did not answer, or refused: the turn did not happen (or may not have). */
export class ClusterLogError extends Error {
  override readonly name = 'ClusterLogError';
}

/** How long to wait for PostgreSQL before a turn counts as failed (and is answered so). */
const CONNECT_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 5000;
/** A session idle this long inside a transaction (a hung turn) is ended by PostgreSQL. */
const TURN_IDLE_LIMIT_MS = 5000;
/** Entries fetched at once when catching up. */
const PAGE = 500;

const SETUP = `
  CREATE TABLE IF NOT EXISTS parley_head (
    id      integer PRIMARY KEY CHECK (id = 1),
    pos     bigint  NOT NULL,
    schema  integer NOT NULL,
    format  integer NOT NULL,
    host_key bytea  NOT NULL,
    cluster uuid    NOT NULL DEFAULT gen_random_uuid()
  );
  CREATE TABLE IF NOT EXISTS parley_log (
    pos     bigint      PRIMARY KEY,
    node    text        NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    changes bytea       NOT NULL,
    effects bytea       NOT NULL
  );
  -- The host's database as of \`pos\` (a compacted copy of a replica): nodes start from the newest
  -- complete one, and the entries it covers can go (log-compaction.ts).
  CREATE TABLE IF NOT EXISTS parley_snapshot (
    id       bigserial   PRIMARY KEY,
    pos      bigint      NOT NULL,
    node     text        NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    complete boolean     NOT NULL DEFAULT false
  );
  CREATE TABLE IF NOT EXISTS parley_snapshot_chunk (
    snapshot bigint  NOT NULL REFERENCES parley_snapshot (id) ON DELETE CASCADE,
    idx      integer NOT NULL,
    data     bytea   NOT NULL,
    PRIMARY KEY (snapshot, idx)
  );
`;

/** A snapshot is stored in chunks of this size (bytea rows stay small for PostgreSQL). */
const SNAPSHOT_CHUNK = 1024 * 1024;

/** A turn in progress: it holds the log's lock until `commit` or `rollback`. */
export interface LogTurn {
  /** The head when the lock was taken: the turn's entry, if any, goes at head + 1. */
  readonly head: number;
  /** Entries after `pos` up to the head (read under the lock). */
  entriesAfter(pos: number): Promise<LogEntry[]>;
  commit(entry: LogEntry): Promise<void>;
  rollback(): Promise<void>;
}

export class ClusterLog {
  readonly #pool: Pool;
  readonly #cluster: string;

  private constructor(pool: Pool, cluster: string) {
    this.#pool = pool;
    this.#cluster = cluster;
  }

  /**
   * Connects, creates the log's tables if this is the cluster's first node, and checks the
   * log's format against this node's.
   */
  static async open(
    url: string,
    format: LogFormat,
    onIdleError: (error: Error) => void,
  ): Promise<ClusterLog> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      application_name: 'parley',
      // A node that hangs (stopped, swapping, a debugger) while a turn holds the log's lock would
      // stop every node's writes: PostgreSQL ends its session instead, which releases the lock.
      // A turn's own work between its statements takes milliseconds to tens of them.
      idle_in_transaction_session_timeout: TURN_IDLE_LIMIT_MS,
    });
    // An idle client that loses its server emits here; unhandled, it would end the process.
    pool.on('error', onIdleError);
    try {
      const client = await lend(pool);
      let row: HeadRow | undefined;
      try {
        // One node creates the tables; the others wait for it (two CREATE IF NOT EXISTS at once
        // can still collide in PostgreSQL's catalog).
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(7878001)');
        await client.query(SETUP);
        await client.query(
          `INSERT INTO parley_head (id, pos, schema, format, host_key) VALUES (1, 0, $1, $2, $3)
           ON CONFLICT (id) DO NOTHING`,
          [format.schema, format.format, Buffer.from(format.hostKey)],
        );
        const head = await client.query<HeadRow>(
          'SELECT schema, format, host_key, cluster::text AS cluster FROM parley_head WHERE id = 1',
        );
        await client.query('COMMIT');
        row = head.rows[0];
      } catch (error) {
        giveBack(client, true);
        throw error;
      }
      giveBack(client, false);
      if (!row) throw new ClusterLogError('the log has no head row');
      if (row.schema !== format.schema || row.format !== format.format) {
        throw new ClusterLogError(
          `the cluster's log is of schema ${row.schema} format ${row.format}, this node's ` +
            `${format.schema} format ${format.format}: every node of a cluster must run the ` +
            'same Parley version (docs/hosting.md, upgrades)',
        );
      }
      if (!sameKey(new Uint8Array(row.host_key), format.hostKey)) {
        throw new ClusterLogError(
          `this node's host key (${fingerprint(format.hostKey)}) is not the cluster's ` +
            `(${fingerprint(new Uint8Array(row.host_key))}): every node loads the same key file ` +
            '(docs/hosting.md, "Running a cluster")',
        );
      }
      return new ClusterLog(pool, row.cluster);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error instanceof ClusterLogError ? error : asLogError('connect', error);
    }
  }

  /** The cluster's id (names its NATS subjects, so two clusters can share one NATS). */
  get cluster(): string {
    return this.#cluster;
  }

  /** Takes the log's lock. Fails (ClusterLogError) when PostgreSQL does not answer. */
  async begin(): Promise<LogTurn> {
    let client: PoolClient;
    try {
      client = await lend(this.#pool);
    } catch (error) {
      throw asLogError('connect', error);
    }
    let head: number;
    try {
      const results = await client.query(
        'BEGIN; SELECT pos FROM parley_head WHERE id = 1 FOR UPDATE',
      );
      const rows = (Array.isArray(results) ? results[1] : results)?.rows as
        { pos: string }[] | undefined;
      head = Number(rows?.[0]?.pos);
      if (!Number.isSafeInteger(head)) throw new ClusterLogError('the log has no head row');
    } catch (error) {
      giveBack(client, true);
      throw asLogError('lock', error);
    }
    let done = false;
    const finish = (broken: boolean) => {
      if (done) return;
      done = true;
      giveBack(client, broken);
    };
    return {
      head,
      entriesAfter: async (pos) => {
        try {
          return await readEntries(client, pos, head);
        } catch (error) {
          throw asLogError('read', error);
        }
      },
      commit: async (entry) => {
        try {
          await client.query(
            `WITH entry AS (
               INSERT INTO parley_log (pos, node, changes, effects) VALUES ($1, $2, $3, $4)
             )
             UPDATE parley_head SET pos = $1 WHERE id = 1`,
            [
              entry.pos,
              entry.node,
              Buffer.from(entry.changes),
              Buffer.from(encodeEffects(entry.effects)),
            ],
          );
          await client.query('COMMIT');
          finish(false);
        } catch (error) {
          finish(true);
          throw asLogError('commit', error);
        }
      },
      rollback: async () => {
        try {
          await client.query('ROLLBACK');
          finish(false);
        } catch {
          finish(true);
        }
      },
    };
  }

  /** Entries after `pos` (catching up between turns), up to `limit` of them. */
  async entriesAfter(pos: number, limit = PAGE): Promise<LogEntry[]> {
    try {
      const { rows } = await this.#pool.query<EntryRow>(
        'SELECT pos, node, changes, effects FROM parley_log WHERE pos > $1 ORDER BY pos LIMIT $2',
        [pos, limit],
      );
      return rows.map(toEntry);
    } catch (error) {
      throw error instanceof LogEntryError ? error : asLogError('read', error);
    }
  }

  /** The newest complete snapshot, if any. */
  async latestSnapshot(): Promise<{ id: number; pos: number } | undefined> {
    try {
      const { rows } = await this.#pool.query<{ id: string; pos: string }>(
        'SELECT id, pos FROM parley_snapshot WHERE complete ORDER BY pos DESC, id DESC LIMIT 1',
      );
      const row = rows[0];
      return row ? { id: Number(row.id), pos: Number(row.pos) } : undefined;
    } catch (error) {
      throw asLogError('read', error);
    }
  }

  /** Writes a snapshot's bytes to `path`; false if it was replaced (and deleted) meanwhile. */
  async readSnapshot(id: number, path: string): Promise<boolean> {
    const out = fs.openSync(path, 'w', 0o600);
    try {
      for (let idx = 0; ; idx++) {
        const { rows } = await this.#pool.query<{ data: Buffer }>(
          'SELECT data FROM parley_snapshot_chunk WHERE snapshot = $1 AND idx = $2',
          [id, idx],
        );
        const chunk = rows[0];
        if (!chunk) break;
        fs.writeSync(out, chunk.data);
      }
      const { rows } = await this.#pool.query('SELECT 1 FROM parley_snapshot WHERE id = $1', [id]);
      return rows.length === 1;
    } catch (error) {
      throw asLogError('read', error);
    } finally {
      fs.closeSync(out);
    }
  }

  /**
   * Stores the file as the snapshot at `pos`, then drops older snapshots and the entries it
   * covers that are older than `keepMs` (a node that far behind rebuilds from the snapshot).
   * Returns how many entries were dropped.
   */
  async writeSnapshot(
    pos: number,
    node: string,
    path: string,
    keepMs: number,
  ): Promise<{ entriesDropped: number; bytes: number }> {
    const client = await lend(this.#pool).catch((error: unknown) => {
      throw asLogError('connect', error);
    });
    let broken = false;
    try {
      const { rows } = await client.query<{ id: string }>(
        'INSERT INTO parley_snapshot (pos, node) VALUES ($1, $2) RETURNING id',
        [pos, node],
      );
      const id = Number(rows[0]?.id);
      const data = fs.readFileSync(path);
      for (let idx = 0, at = 0; at < data.length; idx++, at += SNAPSHOT_CHUNK) {
        await client.query(
          'INSERT INTO parley_snapshot_chunk (snapshot, idx, data) VALUES ($1, $2, $3)',
          [id, idx, data.subarray(at, at + SNAPSHOT_CHUNK)],
        );
      }
      await client.query('BEGIN');
      await client.query('UPDATE parley_snapshot SET complete = true WHERE id = $1', [id]);
      await client.query('DELETE FROM parley_snapshot WHERE id <> $1 AND pos <= $2', [id, pos]);
      const dropped = await client.query(
        `DELETE FROM parley_log WHERE pos <= $1 AND at < now() - ($2::bigint * interval '1 millisecond')`,
        [pos, keepMs],
      );
      await client.query('COMMIT');
      return { entriesDropped: dropped.rowCount ?? 0, bytes: data.length };
    } catch (error) {
      broken = true;
      throw asLogError('snapshot', error);
    } finally {
      giveBack(client, broken);
    }
  }

  /** Entries in the log, and those since the newest snapshot (whether compaction is due). */
  async sinceSnapshot(): Promise<{ entries: number; snapshotAgeMs: number | undefined }> {
    try {
      const { rows } = await this.#pool.query<{ entries: string; age: number | null }>(
        `SELECT (SELECT pos FROM parley_head WHERE id = 1)
                  - coalesce((SELECT max(pos) FROM parley_snapshot WHERE complete), 0) AS entries,
                (SELECT extract(epoch FROM now() - max(at)) * 1000 FROM parley_snapshot
                  WHERE complete) AS age`,
      );
      const row = rows[0];
      return {
        entries: Number(row?.entries ?? 0),
        snapshotAgeMs: row?.age === null || row?.age === undefined ? undefined : Number(row.age),
      };
    } catch (error) {
      throw asLogError('read', error);
    }
  }

  /**
   * Runs `work` while holding the cluster's compaction lock, if no other node holds it (one
   * compaction at a time); false when another node is compacting.
   */
  async whileCompacting(work: () => Promise<void>): Promise<boolean> {
    const client = await lend(this.#pool).catch((error: unknown) => {
      throw asLogError('connect', error);
    });
    let broken = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(7878002) AS locked',
      );
      if (!rows[0]?.locked) return false;
      try {
        await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(7878002)');
      }
      return true;
    } catch (error) {
      broken = true;
      throw asLogError('compaction', error);
    } finally {
      giveBack(client, broken);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }
}

/**
 * A client lent out of the pool. The pool listens for 'error' only on its idle clients: a lent
 * one that loses its server (PostgreSQL stopped or killed mid-turn) emits an 'error' nobody
 * heard, which ends the process. The failure itself reaches the caller through its query.
 */
async function lend(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  client.on('error', ignoreLentError);
  return client;
}

function giveBack(client: PoolClient, broken: boolean): void {
  client.off('error', ignoreLentError);
  client.release(broken);
}

function ignoreLentError(): void {
  // Reported by the query that was running, or the next one.
}

interface HeadRow {
  schema: number;
  format: number;
  cluster: string;
  host_key: Buffer;
}

interface EntryRow {
  pos: string;
  node: string;
  changes: Buffer;
  effects: Buffer;
}

async function readEntries(client: PoolClient, after: number, upTo: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let from = after;
  while (from < upTo) {
    const { rows } = await client.query<EntryRow>(
      'SELECT pos, node, changes, effects FROM parley_log WHERE pos > $1 AND pos <= $2 ORDER BY pos LIMIT $3',
      [from, upTo, PAGE],
    );
    if (rows.length === 0) break;
    for (const row of rows) entries.push(toEntry(row));
    from = entries[entries.length - 1]?.pos ?? upTo;
  }
  return entries;
}

function toEntry(row: EntryRow): LogEntry {
  const pos = Number(row.pos);
  if (!Number.isSafeInteger(pos)) throw new LogEntryError('bad position');
  return {
    pos,
    node: row.node,
    changes: new Uint8Array(row.changes),
    effects: decodeEffects(new Uint8Array(row.effects)),
  };
}

/** PostgreSQL's errors name the server and may carry a query: only the code and a summary pass. */
function asLogError(operation: string, error: unknown): ClusterLogError {
  if (error instanceof ClusterLogError) return error;
  const code =
    typeof error === 'object' && error !== null && 'code' in error
      ? String((error as { code: unknown }).code)
      : undefined;
  return new ClusterLogError(
    `PostgreSQL ${operation} failed${code ? ` (${code})` : ''}: ${summary(error)}`,
  );
}

function summary(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // A connection string may appear in some messages: never its password.
  return message.replace(/\/\/[^@/\s]*@/g, '//****@').slice(0, 200);
}
