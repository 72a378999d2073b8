import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberView, RoomMute } from '../../../src-shared/ipc/domain.ts';
import { LocalHistory } from '../../../src-main/service/local-history.ts';
import { LocalStoreGuard } from '../../../src-main/service/local-store-guard.ts';
import {
  type HostRoom,
  type RoomEntry,
  type RoomListSession,
  RoomsModel,
} from '../../../src-main/service/rooms-model.ts';

const ME = 'M'.repeat(43);
const BOB = 'B'.repeat(43);
const HOST_A = { host: '127.0.0.1', port: 7001 };
const HOST_B = { host: '127.0.0.1', port: 7002 };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A rooms model over a real local history file, recording what it tells the UI. */
function model(
  dir = mkdtempSync(join(tmpdir(), 'parley-rooms-')),
  muteOf: (room: string) => RoomMute = () => 'all',
) {
  const history = LocalHistory.open(join(dir, 'history.sqlite'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => history.close());
  const told = {
    rooms: [] as RoomEntry[][],
    unread: [] as Record<string, number>[],
    totals: [] as number[],
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
    muteOf,
    events: {
      rooms: (list) => told.rooms.push(list),
      unread: ({ counts, total }) => {
        told.unread.push(counts);
        told.totals.push(total);
      },
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

  it("leaves muted rooms out of the badge: 'nothing' entirely, 'mentions' but for mentions", () => {
    const mutes = new Map<string, RoomMute>([
      ['quiet', 'nothing'],
      ['busy', 'mentions'],
    ]);
    const { rooms, told } = model(undefined, (room) => mutes.get(room) ?? 'all');
    rooms.aboutHost(HOST_A);
    for (const room of ['lobby', 'quiet', 'busy']) rooms.joined(room);
    rooms.setActive(null);
    rooms.countUnread('quiet', 1, true);
    rooms.countUnread('busy', 2);
    rooms.countUnread('busy', 3, true);
    rooms.countUnread('lobby', 4);
    // The list counts everything; the badge one for #lobby and one mention in #busy.
    expect(told.unread.at(-1)).toEqual({ quiet: 1, busy: 2, lobby: 1 });
    expect(rooms.unreadTotal).toBe(2);
    expect(told.totals.at(-1)).toBe(2);
    expect(rooms.list().find((r) => r.name === 'quiet')?.mute).toBe('nothing');
    mutes.delete('quiet');
    rooms.muteChanged();
    expect(told.totals.at(-1)).toBe(3);
  });

  it('keeps where the unread messages start until the room was seen and left', () => {
    const { rooms } = model();
    const line = (room: string) => rooms.list().find((r) => r.name === room)?.firstUnreadSeq;
    rooms.aboutHost(HOST_A);
    rooms.joined('lobby');
    rooms.joined('dev');
    rooms.setActive('dev');
    rooms.countUnread('lobby', 10);
    rooms.countUnread('lobby', 11);
    expect(line('lobby')).toBe(10);
    // Looking at it: the count goes, the line stays while the room is read…
    rooms.setActive('lobby');
    expect(rooms.list().find((r) => r.name === 'lobby')?.unread).toBe(0);
    expect(line('lobby')).toBe(10);
    // …and goes once the user moves on.
    rooms.setActive('dev');
    expect(line('lobby')).toBeUndefined();

    // With the window in the background, the room on screen is not being read.
    rooms.setWindowFocused(false);
    rooms.countUnread('dev', 20);
    expect(line('dev')).toBe(20);
    rooms.setActive('lobby'); // never seen: the line is still news
    expect(line('dev')).toBe(20);
    rooms.setWindowFocused(true);
    rooms.setActive('dev');
    expect(line('dev')).toBe(20);
    rooms.setActive(null);
    expect(line('dev')).toBeUndefined();
  });

  it("starts afresh on another host: nothing of one host's #lobby shows on the other's", async () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('lobby', undefined);
    rooms.welcome(['lobby', 'random']);
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

  it('joins the first open room when the host lists none of ours and nothing is joined', () => {
    const { rooms } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin(undefined, undefined);
    expect(rooms.welcome(['lobby', 'random'])).toBe('lobby');
    const asked: string[] = [];
    rooms.roomList(
      [open('lobby'), open('random')],
      session((room) => asked.push(room)),
    );
    expect(asked).toEqual(['lobby']);
    expect(rooms.isJoined('lobby')).toBe(true);
  });

  it('joins no open room on a later list: a room opened mid-session is offered, not joined', () => {
    const { rooms } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin(undefined, undefined);
    const asked: string[] = [];
    // On connecting, nothing was open (the invite was refused, say): no room is joined.
    rooms.roomList(
      [],
      session((room) => asked.push(room)),
    );
    // Then an owner opens #design: it is listed, and nobody is made its member unasked.
    rooms.roomList([open('design')], {
      ...session((room) => asked.push(room)),
      complete: false,
    });
    expect(asked).toEqual([]);
    expect(rooms.isJoined('design')).toBe(false);
  });

  it('lists what the host says of each room: kind, our role, topic, open, a DM peer', () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin(undefined, undefined);
    const peer = { nick: 'bob', key: BOB, fp: 'FPB' };
    const asked: string[] = [];
    rooms.roomList(
      [
        { name: 'dev', kind: 'room', role: 'owner', topic: 'ship it', open: false },
        { name: 'lobby', kind: 'room', open: true },
        { name: `dm.${'0'.repeat(32)}`, kind: 'dm', role: 'member', open: false, peer },
      ],
      session((room) => asked.push(room)),
    );
    // Member rooms are joined by the session; nothing else is asked for.
    expect(asked).toEqual([]);
    expect(told.rooms.at(-1)).toEqual([
      {
        name: 'dev',
        joined: true,
        unread: 0,
        kind: 'room',
        role: 'owner',
        topic: 'ship it',
        open: false,
        mute: 'all',
        e2ee: 'not-encrypted',
      },
      {
        name: 'lobby',
        joined: false,
        unread: 0,
        kind: 'room',
        open: true,
        mute: 'all',
        e2ee: 'not-encrypted',
      },
      {
        name: `dm.${'0'.repeat(32)}`,
        joined: true,
        unread: 0,
        kind: 'dm',
        role: 'member',
        open: false,
        peer,
        mute: 'all',
        e2ee: 'not-encrypted',
      },
    ]);
  });

  it('forgets a room we were removed from, and one the host no longer lists, history and all', () => {
    const { rooms, history } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('dev', undefined);
    rooms.roomList([member('dev'), member('ops')], session());
    const host = rooms.host?.id ?? '';
    for (const room of ['dev', 'ops']) {
      history.storeReceived(host, {
        room,
        id: 'abcdefgh',
        seq: 1,
        from: 'bob',
        fp: 'FP',
        key: BOB,
        text: 'hi',
        ts: 1,
        own: false,
        status: 'sent',
      });
    }
    rooms.presence({ room: 'dev', event: 'joined', nick: 'bob', fp: 'FP', key: BOB });
    rooms.setActive('dev');
    rooms.removed('dev');
    expect(rooms.active).toBeNull();
    expect(rooms.members('dev')).toEqual([]);
    expect(history.hasMessages(host, 'dev')).toBe(false);
    expect(rooms.list().map((r) => r.name)).toEqual(['ops']);
    // A later list of the same connection follows one change: nothing is forgotten by it.
    expect(rooms.roomList([], { ...session(), complete: false })).toEqual([]);
    // Removed while we were away: the next connection's list does not have it.
    expect(rooms.roomList([], session())).toEqual(['ops']);
    expect(history.hasMessages(host, 'ops')).toBe(false);
    expect(rooms.list()).toEqual([]);
  });

  it('lists a room offline as the host last described it: a DM by its peer', () => {
    const first = model();
    first.rooms.aboutHost(HOST_A);
    first.rooms.roomsToJoin(undefined, undefined);
    const dm = `dm.${'0'.repeat(32)}`;
    const peer = { nick: 'bob', key: BOB, fp: 'FPB' };
    first.rooms.roomList(
      [{ name: dm, kind: 'dm', role: 'member', open: false, peer }, open('lobby')],
      session(),
    );
    first.rooms.close();
    first.history.close();

    const { rooms } = model(first.dir);
    rooms.aboutHost(HOST_A);
    // The open room was never ours: only the DM is kept.
    expect(rooms.list()).toEqual([
      {
        name: dm,
        joined: true,
        unread: 0,
        kind: 'dm',
        role: 'member',
        open: false,
        peer,
        mute: 'all',
        e2ee: 'not-encrypted',
      },
    ]);
  });

  it('does not call a member room joined when the session is not in it (the user left it)', () => {
    const { rooms } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin(undefined, undefined);
    rooms.roomList([member('dev'), member('ops')], {
      ...session(),
      joins: (room) => room === 'ops',
    });
    expect(rooms.list().map((r) => [r.name, r.joined, r.role])).toEqual([
      ['dev', false, 'member'],
      ['ops', true, 'member'],
    ]);
  });

  it('keeps the room of an invite being redeemed until the host answers', () => {
    const { rooms } = model();
    rooms.aboutHost(HOST_A);
    rooms.roomsToJoin('secret', undefined);
    expect(
      rooms.roomList([open('lobby')], {
        ...session(),
        keeps: (room) => room === 'secret',
        redeeming: true,
      }),
    ).toEqual([]);
    expect(rooms.isJoined('secret')).toBe(true);
    expect(rooms.isJoined('lobby')).toBe(false);
    rooms.inviteRefused('secret');
    expect(rooms.list().map((r) => r.name)).toEqual(['lobby']);
  });

  it('keeps members with their roles; room events admit, remove and promote', async () => {
    const { rooms, told } = model();
    rooms.aboutHost(HOST_A);
    const carol = 'C'.repeat(43);
    rooms.membersPresent({
      room: 'dev',
      members: [
        { nick: 'me', fp: 'FPM', key: ME, role: 'owner', online: true },
        { nick: 'bob', fp: 'FPB', key: BOB, role: 'member', online: false },
      ],
    });
    rooms.membership({
      room: 'dev',
      action: 'joined',
      person: { nick: 'carol', key: carol, fp: 'FPC' },
    });
    rooms.membership({
      room: 'dev',
      action: 'role',
      person: { nick: 'bob', key: BOB, fp: 'FPB' },
      role: 'admin',
    });
    rooms.presence({ room: 'dev', event: 'joined', nick: 'carol', fp: 'FPC', key: carol });
    await nextTurn();
    expect(told.members.at(-1)?.members.map((m) => [m.nick, m.role, m.online, m.self])).toEqual([
      ['carol', 'member', true, false],
      ['me', 'owner', true, true],
      ['bob', 'admin', false, false],
    ]);
    rooms.membership({
      room: 'dev',
      action: 'removed',
      person: { nick: 'bob', key: BOB, fp: 'FPB' },
    });
    rooms.allOffline();
    await nextTurn();
    expect(told.members.at(-1)?.members.map((m) => [m.nick, m.online])).toEqual([
      ['carol', false],
      ['me', false],
    ]);
  });
});

/** A session that joins every member room, and records what it is asked to join. */
function session(join: (room: string) => void = () => undefined): RoomListSession {
  return { joins: () => true, join, complete: true, keeps: () => false, redeeming: false };
}

function open(name: string): HostRoom {
  return { name, kind: 'room', open: true };
}

function member(name: string): HostRoom {
  return { name, kind: 'room', role: 'member', open: false };
}
