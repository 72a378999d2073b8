/**
 * One room's work in host order: a task starts only when the one before it has finished,
 * even when that one awaited (a decryption, a store write, a host answer). Timeline items,
 * the end of a join (`synced`), Welcomes and sends all pass through it, so nothing of an
 * end-to-end encrypted room is reordered by the asynchronous steps MLS needs. When idle, a
 * task that does not await runs at once, inside `enqueue`, like plaintext delivery does.
 */
export type CryptoTask = () => void | Promise<void>;

export class CryptoQueue {
  readonly #tasks: CryptoTask[] = [];
  readonly #failed: (error: unknown) => void;
  #running = false;
  #idle: (() => void)[] = [];

  /** `failed` hears a task that threw: the next task still runs. */
  constructor(failed: (error: unknown) => void) {
    this.#failed = failed;
  }

  get busy(): boolean {
    return this.#running;
  }

  get length(): number {
    return this.#tasks.length;
  }

  enqueue(task: CryptoTask): void {
    this.#tasks.push(task);
    if (!this.#running) void this.#run();
  }

  /** Resolves once every task enqueued so far (and any they enqueued) has finished. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #run(): Promise<void> {
    this.#running = true;
    for (let task = this.#tasks.shift(); task; task = this.#tasks.shift()) {
      try {
        const done = task();
        if (done instanceof Promise) await done;
      } catch (error) {
        this.#failed(error);
      }
    }
    this.#running = false;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
