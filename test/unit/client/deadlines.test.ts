import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../../src-main/client/deadlines.ts';
import type { Timers } from '../../../src-main/client/timers.ts';

/** Timers driven by hand: `advance` runs what is due. */
function manualClock() {
  let now = 0;
  let pending: { at: number; callback: () => void; id: number }[] = [];
  let ids = 0;
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      const id = ++ids;
      pending.push({ at: now + ms, callback, id });
      return id;
    },
    clearTimeout: (handle) => {
      pending = pending.filter((t) => t.id !== handle);
    },
  };
  return {
    timers,
    now: () => now,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = pending.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        pending = pending.filter((t) => t !== next);
        now = next.at;
        next.callback();
      }
      now = until;
    },
  };
}

describe('Deadlines', () => {
  it('reports the first answer that did not come in time, once', () => {
    const clock = manualClock();
    const expired: string[] = [];
    const deadlines = new Deadlines(clock.timers, clock.now, (what) => expired.push(what));
    deadlines.set('welcome', 1000, 'send its welcome');
    deadlines.set('join:lobby', 3000, 'finish joining');
    clock.advance(999);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['send its welcome']);
    clock.advance(10_000);
    expect(expired).toEqual(['send its welcome']); // the connection is over: nothing else
  });

  it('forgets what was answered, and a fresh deadline replaces the old one', () => {
    const clock = manualClock();
    const expired: string[] = [];
    const deadlines = new Deadlines(clock.timers, clock.now, (what) => expired.push(what));
    deadlines.set('welcome', 1000, 'welcome');
    deadlines.set('history:lobby', 2000, 'history');
    deadlines.settle('welcome');
    clock.advance(1500);
    deadlines.set('history:lobby', 2000, 'history'); // the next page: a new deadline
    clock.advance(1999);
    expect(expired).toEqual([]);
    expect(deadlines.has('history:lobby')).toBe(true);
    clock.advance(1);
    expect(expired).toEqual(['history']);
  });
});
