/**
 * A client-side token bucket at the rate the host advertises (HostInfo.limits). A pasted
 * burst of lines then leaves at a pace the host accepts instead of being refused: the host
 * disconnects a client that keeps sending after being told to slow down.
 */
export class SendPacer {
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;

  constructor(messagesPerSecond: number, burst: number, now: number) {
    this.#perMs = messagesPerSecond / 1000;
    this.#capacity = Math.max(1, burst);
    this.#tokens = this.#capacity;
    this.#updatedAt = now;
  }

  /** How many messages may leave now. */
  available(now: number): number {
    this.#refill(now);
    return Math.floor(this.#tokens);
  }

  consume(count: number, now: number): void {
    this.#refill(now);
    this.#tokens -= count;
  }

  /** When the next message may leave (now, if one may). */
  nextAt(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? now : now + Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#perMs);
    this.#updatedAt = now;
  }
}
