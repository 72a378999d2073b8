/** Timers, injectable so the session's clocks can be driven by tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** One named timer: setting it again replaces the previous one. */
export class Timer {
  readonly #timers: Timers;
  #handle: unknown;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  get active(): boolean {
    return this.#handle !== undefined;
  }

  set(ms: number, callback: () => void): void {
    this.clear();
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = undefined;
      callback();
    }, ms);
  }

  clear(): void {
    if (this.#handle === undefined) return;
    this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
