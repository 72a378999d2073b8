import { TokenBucket } from './token-bucket.ts';

/** Addresses whose allowance the host remembers (least recently used go first). */
export const REMEMBERED_ADDRESSES = 10_000;

/**
 * One token bucket per remote address, for what a guesser could repeat with fresh keys (keys
 * are free to make): failed invite redemptions. Bounded in memory; forgetting an address only
 * ever gives it a full allowance again.
 */
export class AddressBudgets {
  readonly #capacity: number;
  readonly #perSecond: number;
  readonly #remembered: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(capacity: number, perSecond: number, remembered = REMEMBERED_ADDRESSES) {
    this.#capacity = capacity;
    this.#perSecond = perSecond;
    this.#remembered = remembered;
  }

  get size(): number {
    return this.#buckets.size;
  }

  for(address: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(address);
    if (bucket) {
      this.#buckets.delete(address); // re-inserted last: the map is kept in order of last use
    } else {
      bucket = new TokenBucket(this.#capacity, this.#perSecond, now);
      if (this.#buckets.size >= this.#remembered) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(address, bucket);
    return bucket;
  }
}
