import { render } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { EventPayload } from '../../src-shared/ipc/contract.ts';
import LiveAnnouncer from '../../src-renderer/components/LiveAnnouncer.svelte';
import TypingIndicator from '../../src-renderer/components/TypingIndicator.svelte';
import type { Clock } from '../../src-renderer/state/announcer.svelte.ts';
import { AppState } from '../../src-renderer/state/app.svelte.ts';
import { HOST, hostState, roomView, snapshot } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

// The announcer in the page: one hidden log the screen reader reads additions of, fed by the
// message events of every host.

const FRIENDS = '10.0.0.2:7878';

/** Timers that run when the test says so. */
function manualClock() {
  let now = 0;
  let timers: { at: number; run: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    later(run, ms) {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return () => void (timers = timers.filter((t) => t !== timer));
    },
  };
  const advance = async (ms: number) => {
    now += ms;
    const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
    timers = timers.filter((t) => t.at > now);
    for (const timer of due) timer.run();
    await tick();
  };
  return { clock, advance };
}

async function setup() {
  const fake = fakePlatform();
  fake.answer('getSnapshot', () => ({
    ok: true,
    value: snapshot([
      { connection: hostState(), rooms: [roomView('lobby'), roomView('random')] },
      {
        connection: hostState({ hostId: FRIENDS, hostName: 'Friends’ host' }),
        rooms: [roomView('general', { unread: 2 })],
      },
    ]),
  }));
  const app = new AppState(fake.api);
  app.start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  app.hosts.select(HOST);
  app.rooms.active = 'lobby';
  const time = manualClock();
  const { container } = render(LiveAnnouncer, { app, clock: time.clock });
  const log = container.querySelector<HTMLElement>('[role="log"]')!;
  let id = 0;
  const say = (text: string, extra: Partial<EventPayload<'message'>> = {}) =>
    fake.emit('message', {
      hostId: HOST,
      room: 'lobby',
      id: `m${++id}`,
      seq: id,
      from: 'bob',
      fp: 'BOB FP',
      key: 'B'.repeat(43),
      text,
      ts: id,
      own: false,
      status: 'sent',
      ...extra,
    });
  const lines = () => Array.from(log.querySelectorAll('p'), (p) => p.textContent);
  return { fake, app, log, say, lines, advance: time.advance };
}

describe('LiveAnnouncer', () => {
  it('is a polite log that only reads additions, hidden from sight', async () => {
    const { log } = await setup();
    expect(log.getAttribute('aria-live')).toBe('polite');
    expect(log.getAttribute('aria-relevant')).toBe('additions');
    expect(log.classList.contains('visually-hidden')).toBe(true);
  });

  it('adds one entry per message, so two identical messages are read twice', async () => {
    const { say, lines, advance, log } = await setup();
    say('hello');
    await advance(1000);
    expect(lines()).toEqual(['bob: hello']);
    const first = log.querySelector('p');
    say('hello');
    await advance(1000);
    expect(lines()).toEqual(['bob: hello', 'bob: hello']);
    // The first entry was left alone, not rewritten: only the new one is an addition.
    expect(log.querySelector('p')).toBe(first);
  });

  it('adds one summary for a burst of five, not five rewrites', async () => {
    const { say, lines, advance } = await setup();
    for (let i = 0; i < 5; i++) say(`burst ${i}`, { from: i < 3 ? 'bob' : 'carol' });
    await advance(3000);
    expect(lines()).toEqual(['5 new messages in #lobby from bob, carol']);
  });

  it('summarises another host’s room by its unread count and host name; ignores our own', async () => {
    const { say, lines, advance, fake } = await setup();
    say('mine', { own: true });
    say('over there', { hostId: FRIENDS, room: 'general' });
    fake.emit('unread', { hostId: FRIENDS, counts: { general: 3 }, total: 3, allHosts: 3 });
    await advance(1000);
    expect(lines()).toEqual(['3 unread in #general on Friends’ host']);
  });
});

describe('TypingIndicator', () => {
  it('is not a live region: others typing is never read out', () => {
    const { container } = render(TypingIndicator, {
      typists: [{ nick: 'bob', fp: 'FP', until: 0 }],
    });
    expect(container.textContent).toMatch(/bob\s+is typing/);
    expect(container.querySelector('[aria-live], [role="status"], [role="log"]')).toBeNull();
  });
});
