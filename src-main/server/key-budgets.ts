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
    const l = this.#limits;
    return {
      messages: new TokenBucket(l.messageBurst, l.messagesPerSecond, now),
      renames: new TokenBucket(l.renameBurst, l.renamesPerMinute / 60, now),
      membership: new TokenBucket(l.membershipBurst, l.membershipPerSecond, now),
      historyPages: new TokenBucket(l.historyBurst, l.historyPagesPerSecond, now),
      typing: new TokenBucket(l.typingBurst, l.typingPerSecond, now),
      redeems: new TokenBucket(l.redeemFailureBurst, l.redeemFailuresPerMinute / 60, now),
      manage: new TokenBucket(l.manageBurst, l.managePerSecond, now),
      refused: {
        messages: 0,
        renames: 0,
        membership: 0,
        historyPages: 0,
        typing: 0,
        redeems: 0,
        manage: 0,
      },
    };
  }
}
