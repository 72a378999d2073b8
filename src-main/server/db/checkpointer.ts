// Checkpoints off the event loop. The host's connection never checkpoints (wal_autocheckpoint =
// 0): a checkpoint copies pages into the database file and syncs it, which would stall every
// connection. A worker thread with its own connection to the same file runs a PASSIVE checkpoint
// when the WAL has grown by ~4 MiB or after a quiet second (PASSIVE never takes the write lock,
// so the host keeps committing meanwhile), and, on request after a deletion (docs/protocol.md
// §13), folds the WAL into the file and truncates it, so the deleted text does not linger there.
import { Worker } from 'node:worker_threads';

type Reply = { t: 'erased'; id: number; done: boolean } | { t: 'closed' };

/** The worker's file: its .ts source under type stripping, or the built .js next to this one. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './checkpoint-worker.ts' : './checkpoint-worker.js',
  import.meta.url,
);

export class Checkpointer {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (done: boolean) => void>();
  #nextId = 1;
  #closed: Promise<void> | undefined;

  constructor(path: string) {
    this.#worker = new Worker(WORKER_URL, { workerData: { path } });
    // A host that is never stopped (a test's) must not be kept alive by its checkpointer.
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      if (reply.t !== 'erased') return;
      this.#waiting.get(reply.id)?.(reply.done);
      this.#waiting.delete(reply.id);
    });
    this.#worker.on('error', () => this.#settleAll());
    this.#worker.on('exit', () => this.#settleAll());
  }

  /**
   * Folds the WAL into the database file and truncates it. Resolves false if it could not (the
   * WAL stayed busy, e.g. `parley host` reading): the next deletion, or shutdown, does it then.
   */
  erase(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#worker.postMessage({ t: 'erase', id });
    });
  }

  /** Closes the worker's connection and ends the worker. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      // Waited for: keeps the process alive until the worker has closed its connection.
      this.#worker.ref();
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage({ t: 'close' });
    });
    return this.#closed;
  }

  /** Ends the worker at once (when the database is closed without a graceful stop). */
  terminate(): void {
    this.#closed ??= this.#worker.terminate().then(() => undefined);
  }

  #settleAll(): void {
    for (const resolve of this.#waiting.values()) resolve(false);
    this.#waiting.clear();
  }
}
