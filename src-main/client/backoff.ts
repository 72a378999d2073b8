/**
 * Reconnect delays: exponential backoff with full jitter, `random(0, min(max, initial·2^attempt))`.
 * The jitter spreads a roomful of clients that all lost the host at the same moment, so a
 * restarted host is not hit by every one of them in the same millisecond.
 */
export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** `attempt` counts failures in a row, from 0; `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
