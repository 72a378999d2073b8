// A cluster node's turns (docs/scaling.md): the one place where the node's host code touches
// its database.
//
// Everything that may read or write the host's database — a request, a connection welcomed or
// gone, a nickname claim, a sweep — is queued (`serialize`) and run in the next turn:
//
//   1. lock the cluster's log in PostgreSQL, and catch the replica up with every entry before it;
//   2. open one SQLite transaction and a session recording its changes, run the queued work
//      exactly as the single process would, and flush what it batched (commits, nicknames, files);
//   3. write the patchset and the turn's fan-out effects as the log's next entry and COMMIT;
//   4. only then commit the SQLite transaction and count the turn durable: the output gate
//      (durability-gate.ts) releases what the turn answered, and the entry goes out on NATS.
//
// Turns are numbered like WalSync's groups, so the gate works unchanged on top of them. A turn
// whose COMMIT fails rolls back in SQLite too (the replica stays the log's), its held answers are
// dropped and its node's connections closed: their clients reconnect and resend what was not
// acknowledged, and resends are found by (sender key, client id) — also if the COMMIT did land,
// because the next turn then applies that entry from the log like any other.
//
// When PostgreSQL does not answer at step 1, the queued work runs on the replica with every write
// refused (PRAGMA query_only): reads are served, and each write is answered `internal` with
// `retryAfterMs` by the handlers' storage-failure paths. Nothing is acknowledged; the next turn
// tries PostgreSQL again, so service resumes by itself.
import { performance } from 'node:perf_hooks';
import type { SyncGroups } from '../durability-gate.ts';
import type { HostDatabase } from '../host-database.ts';
import type { HostLog } from '../host-log.ts';
import { failureFields } from '../failure-fields.ts';
import { type ClusterLog, ClusterLogError, type LogTurn } from './cluster-log.ts';
import type { FanoutEffect, LogEntry } from './log-entry.ts';
import type { RecordingFanout } from './recording-fanout.ts';

export interface ClusterTurnsOptions {
  readonly db: HostDatabase;
  readonly log: ClusterLog;
  /** This node's name, written into its entries. */
  readonly node: string;
  readonly hostLog: HostLog;
  /** Commits what the turn's work batched for the end of the event-loop turn. */
  readonly flush: () => void;
  /** A committed entry, for the other nodes. */
  readonly publish: (entry: LogEntry) => void;
  /** Effects of a turn that changed nothing durable (typing, presence), for the other nodes. */
  readonly publishLive: (effects: readonly FanoutEffect[]) => void;
  /** Another node's entry changed the replica (the host info may name other open rooms now). */
  readonly applied: () => void;
  /** A turn's COMMIT failed: its answers are dropped; its node's connections must reconnect. */
  readonly turnFailed: (error: Error) => void;
  /** The replica no longer matches the log: the node must stop (its supervisor restarts it). */
  readonly diverged: (error: Error) => void;
  /** How often the node asks PostgreSQL for entries NATS did not bring. */
  readonly pollIntervalMs?: number;
}

interface Work {
  readonly run: () => void;
  /** Told once the turn that ran it is durable (undefined) or failed. */
  readonly settled?: (error: Error | undefined) => void;
}

/**
 * The log no longer holds the entries this replica needs: they were compacted into a snapshot
 * while the node lagged that far behind. Only a restart (from the snapshot) brings it back.
 */
export class CompactedPast extends Error {
  override readonly name = 'CompactedPast';

  constructor(next: number, applied: number) {
    super(`the log continues at ${next} but this node has applied up to ${applied}`);
  }
}

const DEFAULT_POLL_MS = 500;
/** Entries received ahead of a gap kept at most; beyond, they are fetched again. */
const MAX_AHEAD = 10_000;

export class ClusterTurns implements SyncGroups {
  readonly #o: ClusterTurnsOptions;
  #fanout: RecordingFanout | undefined;
  #queue: Work[] = [];
  #inTurn = false;
  #turnScheduled = false;
  #catchUpScheduled = false;
  /** Turns and catch-ups run one after another on this chain. */
  #chain: Promise<void> = Promise.resolve();
  /** The last log position in the replica. */
  #applied = 0;
  /** Entries from NATS past `#applied`, by position. */
  readonly #ahead = new Map<number, LogEntry>();
  #started = 0;
  #durable = 0;
  #open = false;
  #openedAt = 0;
  readonly #listeners: ((group: number) => void)[] = [];
  #unavailableSince: number | undefined;
  #poll: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The node closed its database: work that still arrives (connections ending) is dropped. */
  #closed = false;

  constructor(options: ClusterTurnsOptions) {
    this.#o = options;
  }

  /** The node's recording fan-out (made by the request handler, after this). */
  set fanout(fanout: RecordingFanout) {
    this.#fanout = fanout;
  }

  get applied(): number {
    return this.#applied;
  }

  get barrier(): number {
    return this.#open ? this.#started : 0;
  }

  get durable(): number {
    return this.#durable;
  }

  runningForMs(): number | undefined {
    return this.#open ? performance.now() - this.#openedAt : undefined;
  }

  onDurable(listener: (group: number) => void): void {
    this.#listeners.push(listener);
  }

  /** Runs `work` in the next turn (at once when called from inside a turn). */
  readonly serialize = (work: () => void): void => {
    if (this.#closed) return;
    if (this.#inTurn) {
      work();
      return;
    }
    this.#queue.push({ run: work });
    this.#scheduleTurn();
  };

  /** Runs `work` in a turn and resolves once that turn is durable (start, stop). */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: { value: T } | undefined;
      let failure: unknown;
      const item: Work = {
        run: () => {
          try {
            result = { value: work() };
          } catch (error) {
            failure = error;
          }
        },
        settled: (error) => {
          if (error ?? !result) reject(error ?? failure);
          else resolve(result.value);
        },
      };
      if (this.#inTurn) {
        reject(new Error('ClusterTurns.run inside a turn'));
        return;
      }
      this.#queue.push(item);
      this.#scheduleTurn();
    });
  }

  /** The replica was loaded from a snapshot of the log at `pos` (at start, before catching up). */
  startAt(pos: number): void {
    this.#applied = pos;
  }

  /**
   * Runs `work` between turns, when the replica is exactly the log up to `applied` (a snapshot);
   * resolves with its result.
   */
  betweenTurns<T>(work: (applied: number) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#enqueue(async () => {
        try {
          resolve(work(this.#applied));
        } catch (error) {
          reject(asError(error));
        }
      });
    });
  }

  /** Applies every entry of the log (at start, before serving). */
  async catchUpAll(): Promise<void> {
    let outcome: Error | undefined;
    this.#enqueue(async () => {
      try {
        for (;;) {
          const entries = await this.#o.log.entriesAfter(this.#applied);
          if (entries.length === 0) return;
          for (const entry of entries) this.#apply(entry);
        }
      } catch (error) {
        outcome = asError(error);
      }
    });
    await this.#chain;
    if (outcome) throw outcome;
  }

  /** Polls PostgreSQL for entries NATS did not bring (a lost message, NATS down). */
  startPolling(): void {
    const interval = this.#o.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.#poll = setInterval(() => this.#scheduleCatchUp(), interval);
    this.#poll.unref();
  }

  /** An entry (or its position) from NATS. */
  received(entry: LogEntry | { readonly pos: number }): void {
    if (entry.pos <= this.#applied) return;
    if ('changes' in entry && this.#ahead.size < MAX_AHEAD) this.#ahead.set(entry.pos, entry);
    // Applied now unless a turn of this node is open (its SQLite transaction spans the COMMIT):
    // also while a turn waits for the log's lock, so that the turn, once it has the lock, has
    // only the last holder's entry left to apply under it.
    if (!this.#open && !this.#inTurn && !this.#closed) {
      try {
        this.#applyAhead();
      } catch (error) {
        this.#o.diverged(asError(error));
        return;
      }
    }
    if (this.#ahead.size > 0 || !('changes' in entry)) this.#scheduleCatchUp();
  }

  /** NATS came back: what it lost meanwhile is in PostgreSQL. */
  reconnected(): void {
    this.#scheduleCatchUp();
  }

  /** Another node's turn that changed nothing durable: its effects, to this node's connections. */
  live(effects: readonly FanoutEffect[]): void {
    this.#fanout?.replay(effects);
  }

  /** No more turns after the ones queued; resolves when they have run. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    await this.#chain;
  }

  /** After `stop`, before the database closes: nothing runs any more. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #enqueue(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((error: unknown) => {
      this.#o.hostLog('error', 'cluster-turn-failed', failureFields(error));
    });
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    this.#enqueue(() => this.#turn());
  }

  #scheduleCatchUp(): void {
    if (this.#catchUpScheduled || this.#stopped) return;
    this.#catchUpScheduled = true;
    this.#enqueue(() => this.#catchUp());
  }

  async #turn(): Promise<void> {
    this.#turnScheduled = false;
    if (this.#queue.length === 0 || this.#closed) return;
    let turn: LogTurn;
    try {
      turn = await this.#o.log.begin();
    } catch (error) {
      this.#unavailable(error);
      return;
    }
    try {
      // What NATS brought meanwhile first; PostgreSQL only for what it has not.
      this.#applyAhead();
      if (turn.head > this.#applied) {
        for (const entry of await turn.entriesAfter(this.#applied)) this.#apply(entry);
      }
      if (this.#applied !== turn.head) throw new CompactedPast(turn.head, this.#applied);
    } catch (error) {
      await turn.rollback();
      if (error instanceof ClusterLogError) this.#unavailable(error);
      else this.#o.diverged(asError(error));
      return;
    }
    this.#available();
    const group = ++this.#started;
    this.#open = true;
    this.#openedAt = performance.now();
    const db = this.#o.db;
    const capture = db.captureChanges();
    let work: Work[];
    let changes: Uint8Array;
    try {
      db.beginTurn();
      this.#inTurn = true;
      try {
        work = this.#runQueued();
      } finally {
        this.#inTurn = false;
      }
      changes = capture.changeset();
    } catch (error) {
      // SQLite itself failed (not the work: each item has its own boundary).
      capture.close();
      db.endTurn(false);
      await turn.rollback();
      this.#o.diverged(asError(error));
      return;
    }
    capture.close();
    const effects = this.#fanout?.take() ?? [];
    if (changes.length === 0) {
      db.endTurn(true);
      await turn.rollback();
      if (effects.length > 0) this.#o.publishLive(effects);
      this.#complete(group, work);
      return;
    }
    const entry: LogEntry = { pos: turn.head + 1, node: this.#o.node, changes, effects };
    try {
      await turn.commit(entry);
    } catch (error) {
      db.endTurn(false);
      const failure = asError(error);
      this.#o.hostLog('error', 'cluster-commit-failed', failureFields(failure));
      this.#o.turnFailed(failure);
      // What was held for the turn was dropped with its connections: the group is over.
      this.#complete(group, work, failure);
      return;
    }
    db.endTurn(true);
    this.#applied = entry.pos;
    this.#o.publish(entry);
    this.#complete(group, work);
  }

  /** Runs what is queued, and what it batches; more may be queued meanwhile by callbacks. */
  #runQueued(): Work[] {
    const ran: Work[] = [];
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      for (const item of batch) {
        ran.push(item);
        try {
          item.run();
        } catch (error) {
          this.#o.hostLog('error', 'cluster-work-failed', failureFields(error));
        }
      }
      this.#o.flush();
    }
    return ran;
  }

  /** PostgreSQL did not answer: the work runs with every write refused (see the file comment). */
  #unavailable(error: unknown): void {
    if (this.#unavailableSince === undefined) {
      this.#unavailableSince = Date.now();
      this.#o.hostLog('error', 'cluster-log-unavailable', failureFields(error));
    }
    const db = this.#o.db;
    db.queryOnly = true;
    this.#inTurn = true;
    let work: Work[];
    try {
      work = this.#runQueued();
    } finally {
      this.#inTurn = false;
      db.queryOnly = false;
    }
    const effects = this.#fanout?.take() ?? [];
    if (effects.length > 0) this.#o.publishLive(effects);
    const failure = asError(error);
    for (const item of work) item.settled?.(failure);
  }

  #available(): void {
    if (this.#unavailableSince === undefined) return;
    this.#o.hostLog('info', 'cluster-log-available', {
      afterMs: Date.now() - this.#unavailableSince,
    });
    this.#unavailableSince = undefined;
  }

  #complete(group: number, work: readonly Work[], failure?: Error): void {
    this.#open = false;
    this.#durable = group;
    for (const listener of this.#listeners) listener(group);
    for (const item of work) item.settled?.(failure);
  }

  async #catchUp(): Promise<void> {
    this.#catchUpScheduled = false;
    this.#applyAhead();
    try {
      for (;;) {
        const entries = await this.#o.log.entriesAfter(this.#applied);
        if (entries.length === 0) break;
        for (const entry of entries) this.#apply(entry);
        this.#applyAhead();
      }
    } catch (error) {
      if (error instanceof ClusterLogError) return; // PostgreSQL away: the next poll tries again
      this.#o.diverged(asError(error));
    }
  }

  #applyAhead(): void {
    for (let next = this.#ahead.get(this.#applied + 1); next;) {
      this.#ahead.delete(next.pos);
      this.#apply(next);
      next = this.#ahead.get(this.#applied + 1);
    }
    for (const pos of this.#ahead.keys()) if (pos <= this.#applied) this.#ahead.delete(pos);
  }

  /** Another turn's entry (or this node's, if its COMMIT landed after all): replica, then effects. */
  #apply(entry: LogEntry): void {
    if (entry.pos <= this.#applied) return;
    if (entry.pos !== this.#applied + 1) throw new CompactedPast(entry.pos, this.#applied);
    if (entry.changes.length > 0) this.#o.db.applyChanges(entry.changes);
    this.#applied = entry.pos;
    this.#fanout?.replay(entry.effects);
    this.#o.applied();
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
