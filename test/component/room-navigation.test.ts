import { describe, expect, it } from 'vitest';
import { type NavRoom, stepRoom } from '../../src-renderer/lib/room-navigation.ts';
import type { RoomMute } from '../../src-shared/ipc/domain.ts';

const room = (
  hostId: string,
  name: string,
  {
    unread = 0,
    joined = true,
    mute = 'all',
  }: { unread?: number; joined?: boolean; mute?: RoomMute } = {},
): NavRoom => ({ hostId, room: { name, joined, unread, mute } });

const names = (entry: NavRoom | undefined): string | undefined =>
  entry ? `${entry.hostId}/${entry.room.name}` : undefined;

describe('stepRoom', () => {
  const rooms = [
    room('a', 'lobby'),
    room('a', 'open', { joined: false, unread: 3 }),
    room('a', 'dev', { unread: 2 }),
    room('b', 'lobby', { unread: 1 }),
    room('b', 'quiet', { unread: 5, mute: 'nothing' }),
  ];

  it('steps through the joined rooms of the host on screen, wrapping', () => {
    const here = { hostId: 'a', room: 'lobby' };
    expect(names(stepRoom(rooms, here, true, false))).toBe('a/dev');
    expect(names(stepRoom(rooms, here, false, false))).toBe('a/dev');
    expect(names(stepRoom(rooms, { hostId: 'b', room: 'lobby' }, true, false))).toBe('b/quiet');
  });

  it('steps to unread rooms on every host, leaving out rooms muted to nothing', () => {
    const here = { hostId: 'a', room: 'dev' };
    expect(names(stepRoom(rooms, here, true, true))).toBe('b/lobby');
    expect(names(stepRoom(rooms, { hostId: 'b', room: 'lobby' }, true, true))).toBe('a/dev');
  });

  it('starts at an end when no room is on screen, and goes nowhere from a lone room', () => {
    expect(names(stepRoom(rooms, { hostId: 'a', room: null }, true, false))).toBe('a/lobby');
    expect(names(stepRoom(rooms, { hostId: 'a', room: null }, false, false))).toBe('a/dev');
    expect(
      stepRoom([room('a', 'lobby')], { hostId: 'a', room: 'lobby' }, true, false),
    ).toBeUndefined();
  });
});
