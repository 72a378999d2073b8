/** Timers, injectable so the session's clocks can be driven by tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The longest wait a timer can do: past it Node fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

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

  /**
   * Calls `callback` after `ms`, or after MAX_TIMER_MS if that is sooner: a wait derived from
   * what a host said (a rate, a retry) must never become no wait at all. The waits that can
   * be that long (the send pump, the deadlines) check the time again when called.
   */
  set(ms: number, callback: () => void): void {
    this.clear();
    this.#handle = this.#timers.setTimeout(
      () => {
        this.#handle = undefined;
        callback();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  clear(): void {
    if (this.#handle === undefined) return;
    this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
