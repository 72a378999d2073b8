import { describe, expect, it } from 'vitest';
import { RoomState } from '../../../src-main/client/room-state.ts';
import type { Member, RoomEvent } from '../../../src-main/protocol/wire/messages.ts';
import { fakeMember } from '../../support/hostile-host.ts';

const alice = fakeMember(1);
const bob = fakeMember(2);

function event(action: RoomEvent['action'], extra: Partial<RoomEvent> = {}): RoomEvent {
  return { t: 'event', room: 'lobby', seq: 10, ts: 1, action, actor: alice, ...extra };
}

/** A room whose join listed `members`. */
function listed(...members: Member[]): RoomState {
  const room = new RoomState('lobby');
  room.joined();
  room.page(members);
  room.finishPages();
  return room;
}

describe('RoomState members in a private room', () => {
  it('lists who joined by invite as an offline member until their presence says otherwise', () => {
    const room = listed({ ...alice, role: 'owner', online: true });
    expect(room.memberEvent(event('joined', { actor: bob, role: 'admin' }))).toBe(true);
    expect(room.members.find((m) => m.key === bob.key)).toEqual({
      ...bob,
      role: 'admin',
      online: false,
    });
    room.presence('joined', bob);
    expect(room.members.find((m) => m.key === bob.key)).toMatchObject({
      role: 'admin',
      online: true,
    });
  });

  it('keeps a member with a role listed, offline, when they leave the room', () => {
    const room = listed(
      { ...alice, role: 'owner', online: true },
      { ...bob, role: 'member', online: true },
    );
    room.presence('disconnected', bob);
    expect(room.members.find((m) => m.key === bob.key)).toMatchObject({
      role: 'member',
      online: false,
    });
    room.presence('renamed', bob, 'robert');
    expect(room.members.find((m) => m.key === bob.key)).toMatchObject({
      nick: 'robert',
      role: 'member',
    });
  });

  it('drops who left, was removed or banned, and shows a new role', () => {
    const room = listed(
      { ...alice, role: 'owner', online: true },
      { ...bob, role: 'member', online: true },
      { ...fakeMember(3), role: 'member', online: false },
    );
    expect(room.memberEvent(event('role', { target: bob, role: 'admin' }))).toBe(true);
    expect(room.members.find((m) => m.key === bob.key)?.role).toBe('admin');
    expect(room.memberEvent(event('removed', { target: bob }))).toBe(true);
    expect(room.memberEvent(event('banned', { target: fakeMember(3) }))).toBe(true);
    expect(room.memberEvent(event('left'))).toBe(true);
    expect(room.members).toEqual([]);
  });

  it('changes nothing for events about the room itself or people it does not list', () => {
    const room = listed({ ...alice, role: 'owner', online: true });
    expect(room.memberEvent(event('topic', { topic: 'news' }))).toBe(false);
    expect(room.memberEvent(event('opened'))).toBe(false);
    expect(room.memberEvent(event('role', { target: bob, role: 'admin' }))).toBe(false);
    expect(room.memberEvent(event('joined', { actor: undefined }))).toBe(false);
    expect(room.members).toHaveLength(1);
  });

  it('counts room events in a rejoin’s replay like messages', () => {
    const room = listed();
    room.seen(5);
    room.synced();
    room.joined();
    expect(room.holdReplay(event('topic', { seq: 6, history: true, topic: 'x' }))).toBe(true);
    expect(room.takeReplay().map((item) => item.seq)).toEqual([6]);
  });
});
