import { describe, expect, it } from 'vitest';
import { HostMisbehaved } from '../../../src-main/client/host-bounds.ts';
import { MAX_ROOM_LIST, RoomDirectory } from '../../../src-main/client/room-directory.ts';

describe('RoomDirectory', () => {
  it('replaces the list with the host’s, changes one entry, and drops a removed room', () => {
    const directory = new RoomDirectory();
    directory.replace([
      { room: 'lobby', kind: 'room', role: 'member', open: false },
      { room: 'public', kind: 'room', open: true },
    ]);
    directory.upsert({ room: 'lobby', kind: 'room', role: 'admin', open: false, topic: 'hi' });
    expect(directory.get('lobby')).toMatchObject({ role: 'admin', topic: 'hi' });
    expect(directory.remove('public')).toBe(true);
    expect(directory.remove('public')).toBe(false);
    expect(directory.list.map((r) => r.room)).toEqual(['lobby']);
  });

  it('holds no more rooms than a `rooms` message may list: past that the host misbehaves', () => {
    const directory = new RoomDirectory();
    directory.replace(
      Array.from({ length: MAX_ROOM_LIST }, (_, i) => ({
        room: `r${i}`,
        kind: 'room' as const,
        open: true,
      })),
    );
    directory.upsert({ room: 'r0', kind: 'room', open: false }); // a change, not one more
    expect(() => directory.upsert({ room: 'one-more', kind: 'room', open: true })).toThrow(
      HostMisbehaved,
    );
  });

  it('takes a paged listing whole: the list changes once, when the last page is in', () => {
    const directory = new RoomDirectory();
    directory.replace([{ room: 'mine', kind: 'room', role: 'owner', open: false }]);
    expect(directory.page([{ room: 'a', kind: 'room', role: 'member', open: false }], false)).toBe(
      undefined,
    );
    // Until then the old list stands: nothing is forgotten for being on a later page.
    expect(directory.list.map((r) => r.room)).toEqual(['mine']);
    const listing = directory.page(
      [{ room: 'mine', kind: 'room', role: 'owner', open: false }],
      true,
    );
    expect(listing?.map((r) => r.room)).toEqual(['a', 'mine']);
    expect(directory.list.map((r) => r.room)).toEqual(['a', 'mine']);
  });

  it('drops a listing a lost connection left unfinished, and bounds a paged one', () => {
    const directory = new RoomDirectory();
    directory.page([{ room: 'stale', kind: 'room', open: true }], false);
    directory.reset();
    expect(directory.page([{ room: 'fresh', kind: 'room', open: true }], true)?.length).toBe(1);
    const many = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        room: `r${from + i}`,
        kind: 'room' as const,
        open: true,
      }));
    directory.page(many(0, MAX_ROOM_LIST), false);
    expect(() => directory.page(many(MAX_ROOM_LIST, 1), true)).toThrow(HostMisbehaved);
  });
});
