// Checkpoints off the event loop. The host's connection never checkpoints (wal_autocheckpoint =
// 0): a checkpoint copies pages into the database file and syncs it, which would stall every
// connection. A worker thread with its own connection to the same file runs PASSIVE checkpoints
// (they never take the write lock, so the host keeps committing meanwhile), and, on request after
// a deletion (docs/protocol.md §13), folds the WAL into the file and truncates it, so the deleted
// text does not linger there.
//
// The worker's isolate costs ~25 MB of RSS, so it runs only while there is work: it is started
// when the WAL has grown past WAL_START_BYTES (or for a deletion), checkpoints at once, then
// whenever the WAL grows by ~4 MiB or after a quiet second, and ends itself after a few quiet
// seconds with everything checkpointed. A WAL smaller than that simply waits: it is durable, and
// shutdown checkpoints it.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/** The WAL's size past which the worker is started. */
const WAL_START_BYTES = 4 * 1024 * 1024;
/** The WAL's size is looked at, on the thread pool, at most this often. */
const SIZE_CHECK_MS = 250;

type Reply = { t: 'erased'; id: number; done: boolean };

/** The worker's file: its .ts source under type stripping, or the built .js next to this one. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js',
  import.meta.url,
);

export class Checkpointer {
  readonly #path: string;
  readonly #walFd: number;
  #checkedAt = 0;
  #checking = false;
  #recheck: NodeJS.Timeout | undefined;
  /**
   * The WAL's size when the worker was last started. The file does not shrink when the log
   * restarts after a checkpoint: it grows past this only once it holds that much new again.
   */
  #sizeAtStart = 0;
  readonly #waiting = new Map<number, (done: boolean) => void>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closing = false;
  /** The worker could not run (its file missing from a bundle, say): erase() answers false. */
  #broken = false;

  /** Checkpoints on the caller's thread: only if the worker cannot run (see #broken). */
  readonly #fallback: () => void;

  readonly #workerUrl: URL;

  constructor(path: string, walFd: number, fallback: () => void, workerUrl = WORKER_URL) {
    this.#path = path;
    this.#walFd = walFd;
    this.#fallback = fallback;
    this.#workerUrl = workerUrl;
  }

  /** Commits became durable: starts the worker if the WAL has grown past WAL_START_BYTES. */
  wrote(): void {
    if (this.#worker !== undefined || this.#closing || this.#checking) return;
    const now = Date.now();
    if (now - this.#checkedAt < SIZE_CHECK_MS) {
      // Checked a moment ago: look again once the interval is over, or the last writes of a
      // burst that takes the WAL past the bound would wait for the next write to be noticed.
      this.#recheck ??= setTimeout(
        () => {
          this.#recheck = undefined;
          this.wrote();
        },
        SIZE_CHECK_MS - (now - this.#checkedAt),
      ).unref();
      return;
    }
    this.#checkedAt = now;
    this.#checking = true;
    fs.fstat(this.#walFd, (error, stat) => {
      this.#checking = false;
      if (error) return;
      // Truncated meanwhile (after a deletion): measure growth from there.
      this.#sizeAtStart = Math.min(this.#sizeAtStart, stat.size);
      if (stat.size < WAL_START_BYTES || stat.size <= this.#sizeAtStart) return;
      this.#sizeAtStart = stat.size;
      if (this.#closing) return;
      // Without its worker the WAL must not grow for ever: checkpoint here, once per ~4 MiB.
      if (this.#broken) this.#fallback();
      else if (this.#worker === undefined) this.#spawn();
    });
  }

  /**
   * Folds the WAL into the database file and truncates it. Resolves false if it could not (the
   * WAL stayed busy, e.g. `parley host` reading): the next deletion, or shutdown, does it then.
   */
  erase(): Promise<boolean> {
    if (this.#closing || this.#broken) return Promise.resolve(false);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      if (this.#worker) this.#worker.postMessage({ t: 'erase', id });
      else this.#spawn();
    });
  }

  /** Closes the worker's connection and ends the worker. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#recheck);
    const worker = this.#worker;
    if (!worker) return;
    // Waited for: keeps the process alive until the worker has closed its connection.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ t: 'close' });
    await exited;
  }

  /** Ends the worker at once (when the database is closed without a graceful stop). */
  terminate(): void {
    this.#closing = true;
    clearTimeout(this.#recheck);
    void this.#worker?.terminate();
  }

  #spawn(): void {
    let worker: Worker;
    try {
      worker = this.#start();
    } catch {
      // A worker that cannot even start (its file missing from a bundle, flags it refuses) is
      // the same case as one that fails later: not retried, the caller works on its own thread.
      this.#broken = true;
      for (const resolve of this.#waiting.values()) resolve(false);
      this.#waiting.clear();
      return;
    }
    this.#watch(worker);
  }

  #start(): Worker {
    return new Worker(this.#workerUrl, {
      workerData: { path: this.#path },
      // None of the host's Node flags: V8 heap flags (the shipped --max-semi-space-size=2,
      // --expose-gc) are per process and a Worker given them throws at construction, and
      // `--input-type` (tests start hosts with `node --input-type=module -e`) would misread the
      // worker's entry file. Node 24 strips a .ts entry's types without flags.
      execArgv: [],
    });
  }

  #watch(worker: Worker): void {
    this.#worker = worker;
    // A host that is never stopped (a test's) must not be kept alive by its checkpointer.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      this.#waiting.get(reply.id)?.(reply.done);
      this.#waiting.delete(reply.id);
    });
    worker.on('error', () => {
      // Not retried: the caller erases on its own thread instead (HostDatabase).
      this.#broken = true;
    });
    worker.on('exit', () => {
      this.#worker = undefined;
      if (this.#closing || this.#broken) {
        for (const resolve of this.#waiting.values()) resolve(false);
        this.#waiting.clear();
      } else if (this.#waiting.size > 0) {
        // It ended (idle) as a request arrived: a new one takes the requests still open.
        this.#spawn();
      }
    });
    for (const id of this.#waiting.keys()) worker.postMessage({ t: 'erase', id });
  }
}
