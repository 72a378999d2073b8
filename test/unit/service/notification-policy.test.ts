import { describe, expect, it } from 'vitest';
import {
  COALESCE_WINDOW_MS,
  MAX_EXCERPT,
  type NotificationInput,
  type RecentNotification,
  burstOf,
  decideNotification,
  escapeMarkup,
  nameList,
} from '../../../src-main/service/notification-policy.ts';

const NOW = 1_000_000;

function input(
  overrides: Partial<NotificationInput> = {},
  message: Partial<NotificationInput['message']> = {},
): NotificationInput {
  return {
    message: {
      room: 'lobby',
      from: 'alice',
      text: 'hello',
      own: false,
      history: false,
      ...message,
    },
    windowFocused: false,
    roomVisible: false,
    muted: false,
    privacy: 'sender-and-text',
    recent: [],
    now: NOW,
    platform: 'darwin',
    ...overrides,
  };
}

const recent = (from: string, agoMs: number, room = 'lobby'): RecentNotification => ({
  room,
  from,
  at: NOW - agoMs,
});

describe('whether to notify', () => {
  it('never for your own messages, whatever else holds', () => {
    for (const windowFocused of [true, false]) {
      for (const roomVisible of [true, false]) {
        expect(decideNotification(input({ windowFocused, roomVisible }, { own: true }))).toEqual({
          show: false,
          reason: 'own',
        });
      }
    }
  });

  it('never for replayed history', () => {
    expect(decideNotification(input({}, { history: true }))).toEqual({
      show: false,
      reason: 'history',
    });
  });

  it('never while muted', () => {
    expect(decideNotification(input({ muted: true }))).toEqual({ show: false, reason: 'muted' });
  });

  it('not when the window is focused on that very room', () => {
    expect(decideNotification(input({ windowFocused: true, roomVisible: true }))).toEqual({
      show: false,
      reason: 'visible',
    });
  });

  it.each([
    { windowFocused: false, roomVisible: true, why: 'window not focused, room shown' },
    { windowFocused: true, roomVisible: false, why: 'window focused on another room' },
    { windowFocused: false, roomVisible: false, why: 'neither' },
  ])('when $why', ({ windowFocused, roomVisible }) => {
    expect(decideNotification(input({ windowFocused, roomVisible })).show).toBe(true);
  });

  it('checks own before muted before visibility (the reason says the first rule that applies)', () => {
    expect(
      decideNotification(
        input({ muted: true, windowFocused: true, roomVisible: true }, { own: true }),
      ),
    ).toMatchObject({ reason: 'own' });
    expect(
      decideNotification(input({ muted: true, windowFocused: true, roomVisible: true })),
    ).toMatchObject({ reason: 'muted' });
  });
});

describe('what a single notification says, per privacy level', () => {
  it('nothing: no sender, no room, no text', () => {
    const decision = decideNotification(input({ privacy: 'nothing' }, { text: 'the secret plan' }));
    expect(decision).toEqual({
      show: true,
      title: 'Parley',
      body: 'New message',
      room: 'lobby',
      coalesced: 1,
    });
  });

  it('sender: who and where, not what', () => {
    expect(decideNotification(input({ privacy: 'sender' }, { text: 'the secret plan' }))).toEqual({
      show: true,
      title: 'alice in #lobby',
      body: 'New message',
      room: 'lobby',
      coalesced: 1,
    });
  });

  it('sender and text: the message too', () => {
    expect(decideNotification(input({ privacy: 'sender-and-text' }))).toMatchObject({
      title: 'alice in #lobby',
      body: 'hello',
    });
  });

  it('shortens long text to an excerpt without splitting a character', () => {
    const long = '😀'.repeat(MAX_EXCERPT + 10);
    const decision = decideNotification(input({}, { text: long }));
    if (!decision.show) throw new Error('expected a notification');
    expect([...decision.body]).toHaveLength(MAX_EXCERPT + 1);
    expect(decision.body.endsWith('😀…')).toBe(true);
  });
});

describe('markup on Linux', () => {
  it('escapes & < > in the body on Linux, where libnotify reads it as markup', () => {
    const text = '<b>bold</b> & <a href="x">link</a>';
    const linux = decideNotification(input({ platform: 'linux' }, { text }));
    expect(linux).toMatchObject({
      body: '&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="x"&gt;link&lt;/a&gt;',
    });
  });

  it.each(['darwin', 'win32'])('leaves the text as it is on %s', (platform) => {
    const text = '<b>bold</b> & more';
    expect(decideNotification(input({ platform }, { text }))).toMatchObject({ body: text });
  });

  it('escapes an ampersand first, so entities are not double-decoded', () => {
    expect(escapeMarkup('&lt;')).toBe('&amp;lt;');
  });
});

describe('coalescing bursts', () => {
  it('folds messages within the window in the same room into one: "3 new messages from alice, bob"', () => {
    const decision = decideNotification(
      input(
        { privacy: 'sender', recent: [recent('alice', 3000), recent('bob', 1000)] },
        { from: 'alice' },
      ),
    );
    expect(decision).toEqual({
      show: true,
      title: '#lobby',
      body: '3 new messages from alice, bob',
      room: 'lobby',
      coalesced: 3,
    });
  });

  it('names a direct message as one, not by its dm.… room name', () => {
    const dm = `dm.${'a'.repeat(32)}`;
    expect(decideNotification(input({}, { room: dm, direct: true }))).toMatchObject({
      title: 'alice (direct message)',
      body: 'hello',
      room: dm,
    });
    const burst = decideNotification(
      input({ privacy: 'sender', recent: [recent('alice', 1000, dm)] }, { room: dm, direct: true }),
    );
    expect(burst).toMatchObject({ title: 'Direct message', body: '2 new messages from alice' });
  });

  it('adds the latest text with sender-and-text', () => {
    const decision = decideNotification(
      input({ recent: [recent('bob', 1000)] }, { from: 'carol', text: 'lunch?' }),
    );
    expect(decision).toMatchObject({
      body: '2 new messages from bob, carol\ncarol: lunch?',
      coalesced: 2,
    });
  });

  it('says only how many with privacy "nothing"', () => {
    const decision = decideNotification(
      input({ privacy: 'nothing', recent: [recent('bob', 1000)] }),
    );
    expect(decision).toMatchObject({ title: 'Parley', body: '2 new messages', coalesced: 2 });
  });

  it('does not fold notifications of other rooms', () => {
    const decision = decideNotification(input({ recent: [recent('bob', 1000, 'dev')] }));
    expect(decision).toMatchObject({ coalesced: 1, title: 'alice in #lobby' });
  });

  it('starts a new burst after a quiet gap of the window or more', () => {
    expect(
      decideNotification(input({ recent: [recent('bob', COALESCE_WINDOW_MS)] })),
    ).toMatchObject({
      coalesced: 1,
    });
    expect(
      decideNotification(input({ recent: [recent('bob', COALESCE_WINDOW_MS - 1)] })),
    ).toMatchObject({ coalesced: 2 });
  });

  it('keeps a burst going while messages keep coming closer than the window', () => {
    // 4 s apart each: 12 s in all, but never a 5 s gap.
    const chain = [recent('a', 12_000), recent('b', 8000), recent('c', 4000)];
    expect(burstOf(chain, 'lobby', NOW).map((r) => r.from)).toEqual(['a', 'b', 'c']);
    // A gap breaks the chain: only what came after it counts.
    const broken = [recent('old', 20_000), recent('b', 4000)];
    expect(burstOf(broken, 'lobby', NOW).map((r) => r.from)).toEqual(['b']);
  });

  it('ignores entries from the future (a clock step back)', () => {
    expect(burstOf([{ room: 'lobby', from: 'x', at: NOW + 10 }], 'lobby', NOW)).toEqual([]);
  });

  it('names at most three senders', () => {
    expect(nameList(['a'])).toBe('a');
    expect(nameList(['a', 'b', 'c'])).toBe('a, b, c');
    expect(nameList(['a', 'b', 'c', 'd'])).toBe('a, b, c and 1 other');
    expect(nameList(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c and 2 others');
  });

  it('escapes the coalesced body on Linux too', () => {
    const decision = decideNotification(
      input({ platform: 'linux', recent: [recent('bob', 100)] }, { text: 'a<b' }),
    );
    expect(decision).toMatchObject({ body: '2 new messages from bob, alice\nalice: a&lt;b' });
  });
});
