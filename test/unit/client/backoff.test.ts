import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from '../../../src-main/client/backoff.ts';

describe('reconnect backoff', () => {
  it('doubles the ceiling per failed attempt up to the maximum', () => {
    const almostOne = () => 0.999_999;
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((attempt) =>
      backoffDelay(attempt, DEFAULT_BACKOFF, almostOne),
    );
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  });

  it('jitters over the whole range from zero (full jitter)', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(2000);
    const spread = new Set(
      Array.from({ length: 200 }, () => backoffDelay(4, DEFAULT_BACKOFF, Math.random)),
    );
    expect(spread.size).toBeGreaterThan(100);
    for (const delay of spread) expect(delay).toBeLessThan(8000);
  });

  it('never overflows after very many attempts', () => {
    expect(backoffDelay(5000, { initialDelayMs: 10, maxDelayMs: 1000 }, () => 0.5)).toBe(500);
  });
});
