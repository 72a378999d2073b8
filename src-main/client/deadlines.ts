import { Timer, type Timers } from './timers.ts';

/**
 * Answers the session is waiting for from the host (`welcome`, a join's `synced`, a history
 * page's `history-end`), each with a time limit. One timer serves them all: it is set for the
 * earliest. A host that answers pings but never the request would otherwise leave the client
 * waiting forever, since the keepalive sees a live connection.
 */
export class Deadlines {
  readonly #timer: Timer;
  readonly #now: () => number;
  readonly #expired: (what: string) => void;
  readonly #pending = new Map<string, { at: number; what: string }>();

  constructor(timers: Timers, now: () => number, expired: (what: string) => void) {
    this.#timer = new Timer(timers);
    this.#now = now;
    this.#expired = expired;
  }

  /** Expects an answer for `key` within `ms`; `what` says what was missing when it expires. */
  set(key: string, ms: number, what: string): void {
    this.#pending.set(key, { at: this.#now() + ms, what });
    this.#schedule();
  }

  has(key: string): boolean {
    return this.#pending.has(key);
  }

  /** The answer came (or is no longer wanted). */
  settle(key: string): void {
    if (this.#pending.delete(key)) this.#schedule();
  }

  clear(): void {
    this.#pending.clear();
    this.#timer.clear();
  }

  #schedule(): void {
    let earliest = Infinity;
    for (const { at } of this.#pending.values()) earliest = Math.min(earliest, at);
    if (earliest === Infinity) return this.#timer.clear();
    this.#timer.set(Math.max(1, earliest - this.#now()), () => this.#check());
  }

  #check(): void {
    const now = this.#now();
    for (const { at, what } of this.#pending.values()) {
      if (at <= now) {
        this.clear();
        this.#expired(what);
        return;
      }
    }
    this.#schedule();
  }
}
