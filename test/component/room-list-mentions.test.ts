// Mentions in the room list (#17): a room whose unread messages name us shows an "@" badge with
// their number, apart from the plain count, and says "2 mentions" in its accessible name — in a
// room muted to mentions too, whose other unread messages stay quiet. The counts follow main's
// `unread` event (mentions per room), as the tray's do.
import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import RoomList from '../../src-renderer/components/RoomList.svelte';
import { RoomsStore } from '../../src-renderer/state/rooms.svelte.ts';
import { HOST, roomView } from './fixtures.ts';
import { fakePlatform } from './platform.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const badgeOf = (button: HTMLElement): HTMLElement | null => button.querySelector('.count');

describe('RoomList: mentions', () => {
  it('marks rooms with unread mentions apart, in every room that may notify', () => {
    render(RoomList, {
      joined: [
        roomView('lobby', { unread: 5, unreadMentions: 2 }),
        roomView('pings', { unread: 3, unreadMentions: 1, mute: 'mentions' }),
        roomView('chatter', { unread: 4, mute: 'mentions' }),
        roomView('plain', { unread: 2 }),
        roomView('silent', { unread: 6, unreadMentions: 1, mute: 'nothing' }),
      ],
      dms: [
        roomView('dm.0123', {
          kind: 'dm',
          unread: 1,
          unreadMentions: 1,
          peer: { nick: 'bob', key: 'B'.repeat(43), fp: 'B' },
        }),
      ],
      others: [],
      active: null,
      onselect: () => {},
    });

    const lobby = screen.getByRole('button', { name: 'lobby, 5 unread, 2 mentions' });
    expect(badgeOf(lobby)?.textContent).toBe('@2');
    expect(badgeOf(lobby)?.classList.contains('mention')).toBe(true);
    expect(lobby.classList.contains('unread')).toBe(true);

    // Muted to mentions: the mention is what counts, shown as loudly as anywhere.
    const pings = screen.getByRole('button', {
      name: 'pings, 3 unread, 1 mention, notifications for mentions only',
    });
    expect(badgeOf(pings)?.textContent).toBe('@1');
    expect(badgeOf(pings)?.classList.contains('mention')).toBe(true);
    expect(pings.classList.contains('unread')).toBe(true);

    // Muted to mentions, none: counted, quietly, and the name is not bold.
    const chatter = screen.getByRole('button', {
      name: 'chatter, 4 unread, notifications for mentions only',
    });
    expect(badgeOf(chatter)?.textContent).toBe('4');
    expect(badgeOf(chatter)?.classList.contains('mention')).toBe(false);
    expect(badgeOf(chatter)?.classList.contains('quiet-count')).toBe(true);
    expect(chatter.classList.contains('unread')).toBe(false);

    // No mention: the plain accent count, as before.
    const plain = screen.getByRole('button', { name: 'plain, 2 unread' });
    expect(badgeOf(plain)?.textContent).toBe('2');
    expect(badgeOf(plain)?.classList.contains('mention')).toBe(false);
    expect(badgeOf(plain)?.classList.contains('quiet-count')).toBe(false);

    // Muted to nothing: quiet about mentions too.
    const silent = screen.getByRole('button', { name: 'silent, 6 unread, muted' });
    expect(badgeOf(silent)?.textContent).toBe('6');
    expect(badgeOf(silent)?.classList.contains('mention')).toBe(false);

    const dm = screen.getByRole('button', { name: 'bob, 1 unread, 1 mention' });
    expect(badgeOf(dm)?.textContent).toBe('@1');
  });

  it('shows no mark for mentions that were read', () => {
    render(RoomList, {
      // A stale mention count without unread messages (read meanwhile) is no mention.
      joined: [roomView('lobby', { unreadMentions: 1 })],
      others: [],
      active: null,
      onselect: () => {},
    });
    const lobby = screen.getByRole('button', { name: 'lobby' });
    expect(badgeOf(lobby)).toBeNull();
  });
});

describe('RoomsStore: mentions per room', () => {
  it('takes each room’s mentions from main’s unread event, and drops them when read', () => {
    const platform = fakePlatform();
    const rooms = new RoomsStore(platform.api, () => HOST);
    const stop = rooms.listen();
    rooms.hydrate(HOST, [roomView('lobby'), roomView('random')]);
    const entry = (name: string) => rooms.byHost[HOST]?.find((r) => r.name === name);

    platform.emit('unread', {
      hostId: HOST,
      counts: { lobby: 3, random: 1 },
      total: 4,
      allHosts: 4,
      mentions: { lobby: 2 },
      allHostsMentions: 2,
    });
    expect(entry('lobby')).toMatchObject({ unread: 3, unreadMentions: 2 });
    expect(entry('random')?.unreadMentions).toBeUndefined();

    // Read (here or on another install of ours): the mention mark goes with the count.
    platform.emit('unread', {
      hostId: HOST,
      counts: { random: 1 },
      total: 1,
      allHosts: 1,
      mentions: {},
      allHostsMentions: 0,
    });
    expect(entry('lobby')).toMatchObject({ unread: 0 });
    expect(entry('lobby')?.unreadMentions).toBeUndefined();
    stop();
  });
});
