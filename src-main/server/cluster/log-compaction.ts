// The cluster's log would grow for ever, and hold every message ever sent — also those deleted
// since (docs/protocol.md §13 promises a deleted text does not linger). Compaction bounds both:
// one node at a time (an advisory lock) copies its replica between two turns with VACUUM INTO
// (a compacted copy: deleted rows' bytes are not in it), stores it as the snapshot at the position
// it had applied, and drops the older snapshot and the entries the new one covers, once they are
// older than `keepMs` (a node lagging further behind restarts from the snapshot). Nodes start
// from the newest snapshot and apply only the entries after it.
import fs from 'node:fs';
import { join } from 'node:path';
import { failureFields } from '../failure-fields.ts';
import type { HostDatabase } from '../host-database.ts';
import type { HostLog } from '../host-log.ts';
import type { ClusterLog } from './cluster-log.ts';
import type { ClusterTurns } from './cluster-turns.ts';

export interface CompactionPolicy {
  /** How often a node looks whether compaction is due. */
  readonly checkEveryMs: number;
  /** Due when this many entries were written since the newest snapshot… */
  readonly afterEntries: number;
  /** …or when the newest snapshot is this old and entries were written since. */
  readonly maxAgeMs: number;
  /** Entries younger than this stay after compaction, for nodes catching up. */
  readonly keepMs: number;
}

/**
 * Hourly, or every 10 000 entries: the deleted text of a plaintext room stays in PostgreSQL's
 * log at most about an hour plus `keepMs` (and in its dead tuples until autovacuum).
 */
export const DEFAULT_COMPACTION: CompactionPolicy = {
  checkEveryMs: 60_000,
  afterEntries: 10_000,
  maxAgeMs: 3600_000,
  keepMs: 10 * 60_000,
};

export class LogCompaction {
  readonly #log: ClusterLog;
  readonly #db: HostDatabase;
  readonly #turns: ClusterTurns;
  readonly #node: string;
  readonly #dir: string;
  readonly #hostLog: HostLog;
  readonly #policy: CompactionPolicy;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: {
    log: ClusterLog;
    db: HostDatabase;
    turns: ClusterTurns;
    node: string;
    /** Where the copy is written before it is stored (the node's replica folder). */
    dir: string;
    hostLog: HostLog;
    policy: CompactionPolicy;
  }) {
    this.#log = options.log;
    this.#db = options.db;
    this.#turns = options.turns;
    this.#node = options.node;
    this.#dir = options.dir;
    this.#hostLog = options.hostLog;
    this.#policy = options.policy;
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), this.#policy.checkEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Compacts if it is due and no other node is at it; failures are logged, tried next time. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(): Promise<void> {
    try {
      const since = await this.#log.sinceSnapshot();
      const policy = this.#policy;
      const due =
        since.entries >= policy.afterEntries ||
        (since.entries > 0 && (since.snapshotAgeMs ?? Infinity) >= policy.maxAgeMs);
      if (!due) return;
      await this.#log.whileCompacting(() => this.#compact());
    } catch (error) {
      this.#hostLog('warn', 'cluster-compaction-failed', failureFields(error));
    }
  }

  async #compact(): Promise<void> {
    const path = join(this.#dir, `snapshot-${process.pid}-${Date.now()}.sqlite`);
    try {
      const pos = await this.#turns.betweenTurns((applied) => {
        this.#db.snapshotTo(path);
        return applied;
      });
      const stored = await this.#log.writeSnapshot(pos, this.#node, path, this.#policy.keepMs);
      this.#hostLog('info', 'cluster-log-compacted', { pos, ...stored });
    } finally {
      fs.rmSync(path, { force: true });
    }
  }
}
