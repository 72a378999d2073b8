import type { KeyBudget } from './key-budgets.ts';

/** `flooding`: refused again and again after being told to wait; the connection must end. */
export type SendVerdict = 'accepted' | 'refused' | 'flooding';

/**
 * One connection's chat sends, against its key's message bucket. Once a send is refused, later
 * ones are refused too until the wait is over, so a token that refills meanwhile cannot let a
 * later message overtake the refused one; refusals in a row beyond `floodStrikes` are flooding.
 */
export class SendLimiter {
  readonly #budget: KeyBudget;
  readonly #floodStrikes: number;
  /** Sends refused in a row for the rate limit. */
  #strikes = 0;
  /** While rate-limited: no send is accepted before this time. */
  #limitedUntil = 0;

  constructor(budget: KeyBudget, floodStrikes: number) {
    this.#budget = budget;
    this.#floodStrikes = floodStrikes;
  }

  /** Takes a token for one send at `now`, or counts the refusal (see `retryAfterMs`). */
  take(now: number): SendVerdict {
    const bucket = this.#budget.messages;
    if (now >= this.#limitedUntil && bucket.take(now)) {
      this.#strikes = 0;
      return 'accepted';
    }
    this.#strikes++;
    this.#budget.refused.messages++;
    if (this.#strikes > this.#floodStrikes) return 'flooding';
    if (now >= this.#limitedUntil) this.#limitedUntil = now + bucket.waitMs(now);
    return 'refused';
  }

  /** After a refusal: how long the client must wait before its next send is accepted. */
  retryAfterMs(now: number): number {
    return Math.max(1, this.#limitedUntil - now);
  }
}
