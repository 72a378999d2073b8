// Durability without an fsync on the event loop.
//
// The host's connection commits with `synchronous = NORMAL` in WAL mode: a COMMIT writes its
// frames to the -wal file and returns without syncing. WalSync then runs `fdatasync` of the -wal
// file on libuv's thread pool. fsync is per inode, so a sync that *starts* after a commit returned
// makes that commit as durable as `synchronous = FULL` would have (FULL syncs the same file at
// COMMIT). Frames are checksummed in a chain: a crash mid-write leaves a torn tail that recovery
// drops, never a torn commit, so the log on disk is always a prefix of the commits, exactly as
// with FULL. Commits made while a sync runs are covered by the next sync, which starts as soon as
// the running one ends: under load, commits group by themselves.
//
// "Acknowledged means stored, delivered only once stored" is kept by the output gate
// (durability-gate.ts): while a commit is not yet durable, what a channel sends is held (in
// order, unsealed), tagged with the sync group that covers every commit made before it was
// queued, and sealed and written when that group completes. So no ack,
// message, nickname answer or history row leaves the host before the commits it reports are on
// disk, whichever handler produced it.
//
// A failed fdatasync is fail-stop (PostgreSQL's lesson: after a failed fsync the kernel may have
// dropped the dirty pages, and a later "successful" fsync proves nothing): nothing held is ever
// sent, no later group completes, and the owner stops the host.
//
// What is left on the loop: SQLite syncs the WAL's 32-byte header when a writer restarts the log
// after a complete checkpoint (so that stale frames can never be replayed, even with NORMAL).
// Checkpoints run on a worker (checkpointer.ts) once the WAL has passed ~4 MiB, so that is one
// small sync (~0.3 ms measured) per ~4 MiB of writes; plus, at start, the migrations (run with
// FULL) and, at a graceful stop, the final checkpoint. Measured with strace on the fixed-load
// bench (N=500, 100 msg/s): 1173 fsyncs on the loop before, 1 while serving after.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Makes the file's data durable, calling back with an error if it could not. */
export type SyncFunction = (fd: number, done: (error: Error | null) => void) => void;

/** The default: fdatasync on libuv's thread pool. */
export const fdatasyncOnPool: SyncFunction = (fd, done) => fs.fdatasync(fd, done);

/** Runs after a group's sync, before the group counts as durable (the #17 WAL erase). */
export type AfterSync = () => Promise<void>;

export interface WalSyncOptions {
  readonly fd: number;
  readonly sync?: SyncFunction;
  /** Called once, on the first failed sync; no group completes after it. */
  readonly onFailure: (error: Error) => void;
}

type Listener = (group: number) => void;

/**
 * Sync groups: group n is the n-th sync started. Every commit is covered by exactly one group:
 * the one that starts next after it returned. Groups complete in order.
 */
export class WalSync {
  readonly #fd: number;
  readonly #sync: SyncFunction;
  readonly #onFailure: (error: Error) => void;
  readonly #listeners: Listener[] = [];
  /** The number of the last group started (0: none yet). */
  #started = 0;
  /** The last group that is durable. */
  #durable = 0;
  #syncing = false;
  /** performance.now() when the running sync started. */
  #syncStartedAt = 0;
  /** A commit returned since the running sync started: the next group is needed. */
  #dirty = false;
  /** Work to finish before the next group counts as durable (see `afterNextSync`). */
  #after: AfterSync[] = [];
  #failed: Error | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WalSyncOptions) {
    this.#fd = options.fd;
    this.#sync = options.sync ?? fdatasyncOnPool;
    this.#onFailure = options.onFailure;
  }

  /** The last durable group. */
  get durable(): number {
    return this.#durable;
  }

  /**
   * The group that covers every commit made so far, or 0 when all of them are durable (then
   * output may leave at once).
   */
  get barrier(): number {
    // After a failed sync nothing is durable any more: output never leaves.
    if (this.#failed) return Number.MAX_SAFE_INTEGER;
    if (this.#dirty) return this.#started + 1;
    return this.#syncing ? this.#started : 0;
  }

  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** How long the running sync has taken so far; undefined when none runs (or one failed). */
  runningForMs(): number | undefined {
    return this.#syncing ? performance.now() - this.#syncStartedAt : undefined;
  }

  /** A write transaction committed (or tried to): its frames are in the WAL, not yet synced. */
  committed(): void {
    if (this.#failed) return;
    if (this.#syncing) {
      this.#dirty = true;
      return;
    }
    this.#start();
  }

  /**
   * Runs `work` after the sync covering the commits made so far, before that group counts as
   * durable: output held for it waits for `work` too. A rejection does not stop the host.
   */
  afterNextSync(work: AfterSync): void {
    if (this.#failed) return;
    this.#after.push(work);
    this.committed();
  }

  /** Called with each group number once it is durable, in order. */
  onDurable(listener: Listener): void {
    this.#listeners.push(listener);
  }

  /** Resolves when no sync is running and nothing awaits one (or the sync failed). */
  idle(): Promise<void> {
    if (!this.#syncing || this.#failed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #start(): void {
    this.#syncing = true;
    this.#syncStartedAt = performance.now();
    this.#dirty = false;
    const group = ++this.#started;
    const after = this.#after;
    this.#after = [];
    this.#sync(this.#fd, (error) => {
      if (error) {
        this.#fail(error);
        return;
      }
      if (after.length === 0) {
        this.#completed(group);
        return;
      }
      void Promise.allSettled(after.map((work) => work())).then(() => this.#completed(group));
    });
  }

  #completed(group: number): void {
    if (this.#failed) return;
    this.#durable = group;
    this.#syncing = false;
    // The next sync starts before the listeners write anything: their writes overlap it.
    if (this.#dirty || this.#after.length > 0) this.#start();
    for (const listener of this.#listeners) listener(group);
    if (!this.#syncing) this.#wakeIdle();
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = error;
    this.#syncing = false;
    this.#wakeIdle();
    this.#onFailure(error);
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
