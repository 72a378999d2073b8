import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberView } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory } from '../../../src-main/service/local-history.ts';
import { LocalStoreGuard } from '../../../src-main/service/local-store-guard.ts';
import { type RoomEntry, RoomsModel } from '../../../src-main/service/rooms-model.ts';

const ME = 'M'.repeat(43);
const BOB = 'B'.repeat(43);
const HOST_A = { host: '127.0.0.1', port: 7001 };
const HOST_B = { host: '127.0.0.1', port: 7002 };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A rooms model over a real local history file, recording what it tells the UI. */
function model(dir = mkdtempSync(join(tmpdir(), 'parley-rooms-'))) {
  const history = LocalHistory.open(join(dir, 'history.sqlite'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => history.close());
  const told = {
    rooms: [] as RoomEntry[][],
    unread: [] as Record<string, number>[],
    members: [] as { room: string; members: MemberView[] }[],
    errors: [] as string[],
  };
  const rooms = new RoomsModel({
    history,
    store: new LocalStoreGuard(
      () => undefined,
      (error) => told.errors.push(error.message),
    ),
    ownKey: ME,
    isVerified: () => false,
    events: {
      rooms: (list) => told.rooms.push(list),
      unread: ({ counts }) => told.unread.push(counts),
      members: (room, members) => told.members.push({ room, members }),
    },
  });
  cleanups.push(() => rooms.close());
  return { rooms, history, told, dir };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('RoomsModel', () => {
  it('keeps the joined rooms in the local history: a later start rejoins them, per host', () => {
    const { rooms, dir } = model();
    rooms.aboutHost(HOST_A);
    expect(rooms.roomsToJoin('lobby', undefined)).toEqual(['lobby']);
    rooms.joined('random');
    rooms.aboutHost(HOST_B);
    expect(rooms.roomsToJoin(undefined, 'dev')).toEqual(['dev']);
    rooms.close();

    const again = model(dir).rooms;
    again.aboutHost(HOST_A);
    expect(again.roomsToJoin(undefined, 'dev')).toEqual(['lobby', 'random']);
    expect(
      again
        .list()
        .filter((r) => r.joined)
        .map((r) => r.name),
    ).toEqual(['lobby', 'random']);
  });

  it('forgets a room the host says does not exist, there and in the local history', () => {
    const { rooms, told, dir } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('lobby', undefined);
    rooms.joined('gone');
    rooms.gone('gone');
    expect(rooms.isJoined('gone')).toBe(false);
    expect(told.rooms.at(-1)?.find((r) => r.name === 'gone')?.joined).toBe(false);
    rooms.close();
    const again = model(dir).rooms;
    again.aboutHost(HOST_A);
    expect(again.roomsToJoin(undefined, undefined)).toEqual(['lobby']);
  });

  it('counts unread only for joined rooms the user is not looking at', () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('lobby', undefined);
    rooms.joined('random');
    rooms.setActive('lobby');
    rooms.countUnread('lobby');
    rooms.countUnread('elsewhere');
    rooms.countUnread('random');
    rooms.countUnread('random');
    expect(rooms.unreadTotal).toBe(2);
    expect(told.unread.at(-1)).toEqual({ random: 2 });
    rooms.setWindowFocused(false);
    rooms.countUnread('lobby');
    expect(rooms.unreadTotal).toBe(3);
    rooms.setWindowFocused(true);
    expect(told.unread.at(-1)).toEqual({ random: 2 });
  });

  it("starts afresh on another host: nothing of one host's #lobby shows on the other's", async () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('lobby', undefined);
    rooms.welcome(['lobby', 'random'], () => undefined);
    rooms.presence({ room: 'lobby', event: 'joined', nick: 'bob', fp: 'FP', key: BOB });
    rooms.countUnread('lobby');
    rooms.setActive('random');
    expect(rooms.members('lobby').map((m) => m.nick)).toEqual(['bob']);

    expect(rooms.aboutHost(HOST_A)).toBe(false); // the same host again keeps it all
    expect(rooms.unreadTotal).toBe(1);

    expect(rooms.aboutHost(HOST_B)).toBe(true);
    expect(rooms.active).toBeNull();
    expect(rooms.unreadTotal).toBe(0);
    expect(rooms.members('lobby')).toEqual([]);
    expect(rooms.list()).toEqual([]);
    await nextTurn();
    // A's list, not yet told when the host changed, is not told as B's.
    expect(told.members).toEqual([]);
  });

  it('tells a room its member list once per turn, however many presence events came', async () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('lobby', undefined);
    for (let i = 0; i < 500; i++) {
      const key = String(i).padStart(43, 'k');
      rooms.presence({ room: 'lobby', event: 'joined', nick: `n${i}`, fp: `fp${i}`, key });
    }
    expect(told.members).toEqual([]);
    await nextTurn();
    expect(told.members).toHaveLength(1);
    expect(told.members[0]?.members).toHaveLength(500);
  });

  it('welcomes with nothing joined by joining the host’s first room', () => {
    const { rooms } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin(undefined, undefined);
    const asked: string[] = [];
    expect(rooms.welcome(['lobby', 'random'], (room) => asked.push(room))).toBe('lobby');
    expect(asked).toEqual(['lobby']);
    expect(rooms.isJoined('lobby')).toBe(true);
  });
});
