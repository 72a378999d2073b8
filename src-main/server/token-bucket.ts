/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Pure, with the clock passed
 * in, so limits are testable without waiting.
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #ratePerMs: number;
  #tokens: number;
  #updatedAt: number;

  constructor(capacity: number, ratePerSecond: number, now: number) {
    this.#capacity = capacity;
    this.#ratePerMs = ratePerSecond / 1000;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available. */
  waitMs(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#ratePerMs);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
