import { failureFields } from './failure-fields.ts';
import type { FileStore } from './file-store.ts';
import type { HostLog } from './host-log.ts';

const DAY_MS = 24 * 3600 * 1000;
/** How often files past retention, and unclaimed uploads, are looked for. */
export const FILE_SWEEP_INTERVAL_MS = 60_000;
/** Sweeps in a row on one tick at most (each deletes a batch): the rest waits for the next. */
const MAX_SWEEPS_PER_TICK = 20;

/**
 * Deletes files past the retention period and complete uploads no message claimed within 10
 * minutes (docs/protocol.md §13): at start, then on a timer that does not keep the process
 * alive. Their messages stay; `file-get` answers `no-such-file` (it checks the age itself, so a
 * file is never served late because a sweep has not run yet).
 */
export class FileSweep {
  readonly #files: () => FileStore;
  readonly #retentionDays: number;
  readonly #now: () => number;
  readonly #log: HostLog;
  readonly #intervalMs: number;
  readonly #serialize: (work: () => void) => void;
  readonly #dropUnfinishedAtStart: boolean;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: {
    files: () => FileStore;
    retentionDays: number;
    now: () => number;
    log: HostLog;
    intervalMs?: number;
    /**
     * Runs the start's and each tick's database work. A cluster node runs database work only
     * inside a turn that holds the cluster's write lock, so it queues the work for its next
     * turn; default: now.
     */
    serialize?: (work: () => void) => void;
    /**
     * Whether `start` drops unfinished uploads: right for the single process (their connections
     * ended with it), wrong for a cluster node (other nodes' uploads are in progress). Default true.
     */
    dropUnfinishedAtStart?: boolean;
  }) {
    this.#dropUnfinishedAtStart = deps.dropUnfinishedAtStart ?? true;
    this.#files = deps.files;
    this.#retentionDays = deps.retentionDays;
    this.#now = deps.now;
    this.#log = deps.log;
    this.#intervalMs = deps.intervalMs ?? FILE_SWEEP_INTERVAL_MS;
    this.#serialize = deps.serialize ?? ((work) => work());
  }

  /** At start: uploads a stopped host left unfinished go (their connections are gone), then a sweep. */
  start(): void {
    this.#serialize(() => {
      try {
        const dropped = this.#dropUnfinishedAtStart ? this.#files().dropUnfinished() : 0;
        if (dropped > 0) this.#log('info', 'files-unfinished-dropped', { files: dropped });
      } catch (error) {
        this.#log('error', 'file-sweep-failed', failureFields(error));
      }
      this.sweep();
    });
    this.#timer = setInterval(() => this.#serialize(() => this.sweep()), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sweep; a failure is logged and the next tick tries again. */
  sweep(): void {
    try {
      const retentionMs = this.#retentionDays * DAY_MS;
      let deleted = 0;
      for (let i = 0; i < MAX_SWEEPS_PER_TICK; i++) {
        const batch = this.#files().sweep(this.#now(), retentionMs);
        deleted += batch;
        if (batch === 0) break;
      }
      if (deleted > 0) this.#log('info', 'files-swept', { files: deleted });
    } catch (error) {
      this.#log('error', 'file-sweep-failed', failureFields(error));
    }
  }
}
