import { describe, expect, it } from 'vitest';
import type { RoomMute } from '../../src-shared/ipc/domain.ts';
import {
  Announcer,
  type AnnouncerContext,
  BURST_MAX_MS,
  BURST_QUIET_MS,
  type Clock,
  ELSEWHERE_INTERVAL_MS,
  type Incoming,
  KEEP_MS,
} from '../../src-renderer/state/announcer.svelte.ts';

// The announcer's decisions, with a clock moved by hand: what a screen reader is told, and when.

/** A clock that only moves when told to, running what fell due in order. */
function manualClock() {
  let now = 0;
  let timers: { at: number; run: () => void; id: number }[] = [];
  let ids = 0;
  const clock: Clock = {
    now: () => now,
    later(run, ms) {
      const id = ++ids;
      timers.push({ at: now + ms, run, id });
      return () => void (timers = timers.filter((t) => t.id !== id));
    },
  };
  return {
    clock,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = timers
          .filter((t) => t.at <= until)
          .sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!next) break;
        timers = timers.filter((t) => t !== next);
        now = next.at;
        next.run();
      }
      now = until;
    },
  };
}

const HOSTS: Record<string, string> = { home: 'Parley e2e', friends: 'Friends’ host' };

function setup(
  options: { mutes?: Record<string, RoomMute>; unread?: Record<string, number> } = {},
) {
  const time = manualClock();
  let screen: { hostId: string; room: string } | null = { hostId: 'home', room: 'lobby' };
  const context: AnnouncerContext = {
    onScreen: () => screen,
    mute: (hostId, room) => options.mutes?.[`${hostId}/${room}`],
    nick: () => 'alice',
    roomLabel: (_hostId, room) => `#${room}`,
    hostLabel: (hostId) => HOSTS[hostId] ?? hostId,
    unread: (hostId, room) => options.unread?.[`${hostId}/${room}`],
  };
  const announcer = new Announcer(context, time.clock);
  const say = (text: string, extra: Partial<Incoming> = {}) =>
    announcer.receive({ hostId: 'home', room: 'lobby', from: 'bob', text, own: false, ...extra });
  return {
    announcer,
    time,
    say,
    switchTo: (hostId: string, room: string) => void (screen = { hostId, room }),
    spoken: () => announcer.entries.map((e) => e.text),
  };
}

describe('the room on screen', () => {
  it('announces a message from someone else once, after a short pause', () => {
    const { say, time, spoken } = setup();
    say('hello');
    expect(spoken()).toEqual([]);
    time.advance(BURST_QUIET_MS);
    expect(spoken()).toEqual(['bob: hello']);
    time.advance(BURST_QUIET_MS * 3);
    expect(spoken()).toEqual(['bob: hello']);
  });

  it('announces two identical messages twice, as two entries', () => {
    const { announcer, say, time, spoken } = setup();
    say('same');
    time.advance(2000);
    say('same');
    time.advance(2000);
    expect(spoken()).toEqual(['bob: same', 'bob: same']);
    const [first, second] = announcer.entries;
    expect(first!.id).not.toBe(second!.id);
  });

  it('summarises a burst of five in one announcement instead of five', () => {
    const { say, time, spoken } = setup();
    for (let i = 0; i < 5; i++) {
      say(`line ${i}`, { from: i % 2 ? 'carol' : 'bob' });
      time.advance(100);
    }
    expect(spoken()).toEqual([]);
    time.advance(BURST_QUIET_MS);
    expect(spoken()).toEqual(['5 new messages in #lobby from bob, carol']);
  });

  it('does not hold a long burst back forever', () => {
    const { say, time, spoken } = setup();
    for (let t = 0; t <= BURST_MAX_MS; t += 500) {
      say(`line at ${t}`);
      time.advance(500);
    }
    expect(spoken()).toHaveLength(1);
    expect(spoken()[0]).toMatch(/^\d+ new messages in #lobby from bob$/);
  });

  it('reads two messages close together one after the other, and names at most three people', () => {
    const { say, time, spoken } = setup();
    say('one', { from: 'bob' });
    say('/me waves', { from: 'carol' });
    time.advance(BURST_QUIET_MS);
    expect(spoken()).toEqual(['bob: one', 'carol waves']);
    for (const from of ['a', 'b', 'c', 'd', 'e']) say('x', { from });
    time.advance(BURST_QUIET_MS);
    expect(spoken().at(-1)).toBe('5 new messages in #lobby from a, b, c and 2 others');
  });

  it('never announces our own messages or history, and cuts long ones', () => {
    const { say, time, spoken } = setup();
    say('mine', { own: true });
    say('old', { history: true });
    say('y'.repeat(500));
    time.advance(BURST_QUIET_MS);
    expect(spoken()).toHaveLength(1);
    expect(spoken()[0]).toBe(`bob: ${'y'.repeat(135)}…`);
  });

  it('lets announcements go from the log after a while (additions only are read)', () => {
    const { say, time, spoken } = setup();
    say('hello');
    time.advance(BURST_QUIET_MS);
    time.advance(KEEP_MS);
    expect(spoken()).toEqual([]);
  });
});

describe('other rooms and hosts', () => {
  it('are summarised as unread counts, the host named when it is not the one on screen', () => {
    const { say, time, spoken } = setup({ unread: { 'friends/general': 3, 'home/random': 1 } });
    say('a', { hostId: 'friends', room: 'general' });
    say('b', { hostId: 'friends', room: 'general' });
    say('c', { hostId: 'home', room: 'random' });
    say('d', { hostId: 'friends', room: 'general' });
    expect(spoken()).toEqual([]);
    time.advance(1000);
    expect(spoken()).toEqual(['3 unread in #general on Friends’ host; 1 unread in #random']);
  });

  it('are summarised at most every few seconds', () => {
    const { say, time, spoken } = setup();
    say('a', { room: 'random' });
    time.advance(1000);
    expect(spoken()).toEqual(['1 unread in #random']);
    say('b', { room: 'random' });
    time.advance(1000);
    expect(spoken()).toHaveLength(1);
    time.advance(ELSEWHERE_INTERVAL_MS);
    expect(spoken()).toEqual(['1 unread in #random', '1 unread in #random']);
  });

  it('leave out rooms muted to nothing, and count only mentions in rooms muted to mentions', () => {
    const { say, time, spoken } = setup({
      mutes: { 'home/quiet': 'nothing', 'home/busy': 'mentions' },
      // The list counts every message of #busy; the reader asked to hear of mentions only.
      unread: { 'home/busy': 2 },
    });
    say('a', { room: 'quiet' });
    say('not for you', { room: 'busy' });
    time.advance(2000);
    expect(spoken()).toEqual([]);
    say('hey @alice look', { room: 'busy' });
    time.advance(ELSEWHERE_INTERVAL_MS);
    expect(spoken()).toEqual(['1 mention of you in #busy']);
  });

  it('say nothing about a room the reader opened meanwhile', () => {
    const { say, time, spoken, switchTo } = setup();
    say('a', { room: 'random' });
    switchTo('home', 'random');
    time.advance(1000);
    expect(spoken()).toEqual([]);
  });

  it('a burst cut short by switching rooms is announced for the room it was in', () => {
    const { say, time, spoken, switchTo } = setup();
    say('one');
    say('two');
    say('three');
    switchTo('home', 'random');
    say('elsewhere now', { room: 'random' });
    expect(spoken()).toEqual(['3 new messages in #lobby from bob']);
    time.advance(BURST_QUIET_MS);
    expect(spoken()).toEqual(['3 new messages in #lobby from bob', 'bob: elsewhere now']);
  });
});
