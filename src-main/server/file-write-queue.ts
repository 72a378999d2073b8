import type { FileStore, FileWrite, FileWriteResult } from './file-store.ts';

interface PendingWrite {
  readonly write: FileWrite;
  readonly done: (result: FileWriteResult) => void;
  readonly failed: (error: unknown) => void;
}

/**
 * Group commit for uploads, as the commit queue does for messages: the file writes (starts,
 * chunks, ends, drops) received during one event-loop turn are stored in one transaction, one
 * fsync, and each is answered only once it is on disk. A chunk then costs the event loop no
 * more than a message does, however many arrive at once, and the writes keep their order.
 */
export class FileWriteQueue {
  readonly #store: () => FileStore;
  readonly #onCallbackError: (error: unknown) => void;
  #pending: PendingWrite[] = [];
  #scheduled = false;

  constructor(store: () => FileStore, onCallbackError: (error: unknown) => void) {
    this.#store = store;
    this.#onCallbackError = onCallbackError;
  }

  enqueue(
    write: FileWrite,
    done: (result: FileWriteResult) => void = () => {},
    failed: (error: unknown) => void = () => {},
  ): void {
    this.#pending.push({ write, done, failed });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Stores whatever is pending now (also called on shutdown). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    let results: FileWriteResult[];
    try {
      results = this.#store().write(batch.map((pending) => pending.write));
    } catch (error) {
      for (const pending of batch) this.#call(() => pending.failed(error));
      return;
    }
    batch.forEach((pending, i) => this.#call(() => pending.done(results[i] ?? 'gone')));
  }

  /** Each answer on its own: one connection's failure costs no other its answer. */
  #call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#onCallbackError(error);
    }
  }
}
