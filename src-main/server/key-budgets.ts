import type { HostLimits } from './host-limits.ts';
import { TokenBucket } from './token-bucket.ts';

/** Keys whose allowances the host remembers across reconnects (least recently used go first). */
export const REMEMBERED_KEYS = 10_000;

/**
 * What one key may still do, one budget per kind of request. Each kind has its own, so that
 * a storm of one (renames, each a durable write; join/leave, each a presence event to every
 * member) cannot spend the allowance of another, and none of them slows a bystander.
 */
export interface KeyBudget {
  readonly messages: TokenBucket;
  readonly renames: TokenBucket;
  /** Joins and leaves together: each one tells every member of the room. */
  readonly membership: TokenBucket;
  readonly historyPages: TokenBucket;
  readonly typing: TokenBucket;
  /** Invite redemptions that failed: guessing tokens. */
  readonly redeems: TokenBucket;
  /** Membership requests (docs/protocol.md §11.2). */
  readonly manage: TokenBucket;
  /** Refusals counted for docs/reliability.md and the host's log, by kind. */
  readonly refused: Record<BudgetKind, number>;
}

export type BudgetKind =
  'messages' | 'renames' | 'membership' | 'historyPages' | 'typing' | 'redeems' | 'manage';

/**
 * Budgets belong to keys, not connections: reconnecting, or opening eight connections with one
 * key, must not buy a fresh allowance. Bounded in memory; the least recently used key is
 * forgotten first, which only ever gives a key a full allowance again.
 */
export class KeyBudgets {
  readonly #limits: HostLimits;
  readonly #budgets = new Map<string, KeyBudget>();

  constructor(limits: HostLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#budgets.size;
  }

  for(keyText: string, now: number): KeyBudget {
    let budget = this.#budgets.get(keyText);
    if (budget) {
      this.#budgets.delete(keyText); // re-inserted last: the map is kept in order of last use
    } else {
      budget = this.#create(now);
      if (this.#budgets.size >= REMEMBERED_KEYS) {
        const oldest = this.#budgets.keys().next().value;
        if (oldest !== undefined) this.#budgets.delete(oldest);
      }
    }
    this.#budgets.set(keyText, budget);
    return budget;
  }

  #create(now: number): KeyBudget {
    return new LazyKeyBudget(this.#limits, now);
  }
}

/**
 * A key's budgets, each made when first spent from: a bucket is full when made and stays full
 * until spent, so one made at its first use behaves exactly as one made with the budget. Most
 * keys never rename, manage or redeem; the seven buckets and the counts made eagerly were
 * ~0.6 KB per connection of an idle host.
 */
class LazyKeyBudget implements KeyBudget {
  readonly #limits: HostLimits;
  readonly #since: number;
  #messages: TokenBucket | undefined;
  #renames: TokenBucket | undefined;
  #membership: TokenBucket | undefined;
  #historyPages: TokenBucket | undefined;
  #typing: TokenBucket | undefined;
  #redeems: TokenBucket | undefined;
  #manage: TokenBucket | undefined;
  #refused: Record<BudgetKind, number> | undefined;

  constructor(limits: HostLimits, now: number) {
    this.#limits = limits;
    this.#since = now;
  }

  get messages(): TokenBucket {
    const l = this.#limits;
    return (this.#messages ??= new TokenBucket(l.messageBurst, l.messagesPerSecond, this.#since));
  }

  get renames(): TokenBucket {
    const l = this.#limits;
    return (this.#renames ??= new TokenBucket(l.renameBurst, l.renamesPerMinute / 60, this.#since));
  }

  get membership(): TokenBucket {
    const l = this.#limits;
    return (this.#membership ??= new TokenBucket(
      l.membershipBurst,
      l.membershipPerSecond,
      this.#since,
    ));
  }

  get historyPages(): TokenBucket {
    const l = this.#limits;
    return (this.#historyPages ??= new TokenBucket(
      l.historyBurst,
      l.historyPagesPerSecond,
      this.#since,
    ));
  }

  get typing(): TokenBucket {
    const l = this.#limits;
    return (this.#typing ??= new TokenBucket(l.typingBurst, l.typingPerSecond, this.#since));
  }

  get redeems(): TokenBucket {
    const l = this.#limits;
    return (this.#redeems ??= new TokenBucket(
      l.redeemFailureBurst,
      l.redeemFailuresPerMinute / 60,
      this.#since,
    ));
  }

  get manage(): TokenBucket {
    const l = this.#limits;
    return (this.#manage ??= new TokenBucket(l.manageBurst, l.managePerSecond, this.#since));
  }

  get refused(): Record<BudgetKind, number> {
    return (this.#refused ??= {
      messages: 0,
      renames: 0,
      membership: 0,
      historyPages: 0,
      typing: 0,
      redeems: 0,
      manage: 0,
    });
  }
}
