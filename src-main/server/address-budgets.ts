import { isIPv6 } from 'node:net';
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

  /** The bucket of `address`'s block (see addressBlock). */
  for(address: string, now: number): TokenBucket {
    address = addressBlock(address);
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

/**
 * Whose allowance an address spends: an IPv4 address is its own (also when it arrives mapped
 * into IPv6, `::ffff:192.0.2.1`); an IPv6 address spends its /64's, the block one subscriber is
 * usually given, so that stepping through it buys no fresh allowance.
 */
export function addressBlock(address: string): string {
  const bare = address.split('%')[0] ?? address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(bare)) return bare;
  const [head = '', tail] = bare.toLowerCase().split('::');
  const groups = (part: string | undefined): string[] =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const front = groups(head);
  const back = groups(tail);
  const full =
    tail === undefined
      ? front
      : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${full
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
