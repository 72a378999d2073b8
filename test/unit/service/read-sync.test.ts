// When our read position goes to our other installs: unread counts follow a position (and a
// deletion), never a message we have not reached; ReadSync sends at most one read per room per
// interval, with the newest seq seen, and nothing at or below what is known.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReadSync } from '../../../src-main/service/read-sync.ts';
import { UnreadCounts } from '../../../src-main/service/unread-counts.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('UnreadCounts with seqs', () => {
  it('a read position takes away what is at or before it, mentions too', () => {
    const u = new UnreadCounts();
    u.increment('lobby', { seq: 5 });
    u.increment('lobby', { seq: 6, mention: true });
    u.increment('lobby', { seq: 9, mention: true });
    expect([u.get('lobby'), u.mentionsIn('lobby'), u.firstSeq('lobby')]).toEqual([3, 2, 5]);
    expect(u.readUpTo('lobby', 6)).toBe(true);
    expect([u.get('lobby'), u.mentionsIn('lobby'), u.firstSeq('lobby')]).toEqual([1, 1, 9]);
    expect(u.readUpTo('lobby', 6)).toBe(false);
    expect(u.mentions()).toEqual({ lobby: 1 });
    expect(u.removeSeq('lobby', 9)).toBe(true);
    expect(u.counts()).toEqual({});
    expect(u.mentions()).toEqual({});
  });

  it("counts mentions on the tray unless the room is muted to 'nothing'", () => {
    const u = new UnreadCounts();
    u.increment('a', { seq: 1, mention: true });
    u.increment('b', { seq: 1, mention: true });
    u.increment('c', { seq: 1, mention: true });
    const mute = (room: string) => (room === 'a' ? 'all' : room === 'b' ? 'mentions' : 'nothing');
    expect(u.badgeMentions(mute)).toBe(2);
    expect(u.badgeTotal(mute)).toBe(2);
  });
});

describe('ReadSync', () => {
  it('sends one read per interval, trailing, with the newest seq seen', () => {
    vi.useFakeTimers();
    const sent: [string, number][] = [];
    const sync = new ReadSync({ delayMs: 3000, send: (room, upTo) => sent.push([room, upTo]) > 0 });
    sync.seen('lobby', 4);
    sync.seen('lobby', 7);
    vi.advanceTimersByTime(2999);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([['lobby', 7]]);
    // Nothing new: nothing sent; a position learnt from elsewhere counts as sent.
    sync.seen('lobby', 7);
    sync.known('lobby', 12);
    sync.seen('lobby', 10);
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([['lobby', 7]]);
    sync.seen('lobby', 13);
    vi.advanceTimersByTime(3000);
    expect(sent).toEqual([
      ['lobby', 7],
      ['lobby', 13],
    ]);
    sync.close();
  });

  it('sends what was seen at once when the user moves on, and waits half a minute otherwise', () => {
    vi.useFakeTimers();
    const sent: [string, number][] = [];
    const sync = new ReadSync({ send: (room, upTo) => sent.push([room, upTo]) > 0 });
    sync.seen('lobby', 4);
    vi.advanceTimersByTime(29_999);
    expect(sent).toEqual([]);
    sync.seen('lobby', 6);
    // Another room, or another window: the other installs learn it now, not 30 s later.
    sync.leave('lobby');
    expect(sent).toEqual([['lobby', 6]]);
    // Nothing pending: leaving again sends nothing, and no timer is left behind.
    sync.leave('lobby');
    vi.advanceTimersByTime(60_000);
    expect(sent).toEqual([['lobby', 6]]);
    sync.close();
  });

  it('tries again later when the read could not be sent', () => {
    vi.useFakeTimers();
    let online = false;
    const sent: number[] = [];
    const sync = new ReadSync({
      delayMs: 100,
      send: (_room, upTo) => {
        if (online) sent.push(upTo);
        return online;
      },
    });
    sync.seen('lobby', 3);
    vi.advanceTimersByTime(100);
    online = true;
    sync.seen('lobby', 3);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([3]);
    sync.close();
  });
});
