import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { DM_ROOM_PREFIX, INVITE_TOKEN_PATTERN } from '../../../src-shared/identifiers.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/server/db/schema.ts';
import { dmRoomName } from '../../../src-main/server/dm-room.ts';
import {
  HostDatabase,
  type HostDatabaseOptions,
  type StoredMessage,
} from '../../../src-main/server/host-database.ts';
import { hashInviteToken, newInviteId } from '../../../src-main/server/invite-token.ts';
import {
  type PersonRecord,
  type RedeemResult,
  type RoomStore,
  RoomStoreError,
} from '../../../src-main/server/room-store.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

const person = (fill: number, nick: string): PersonRecord => ({
  key: new Uint8Array(32).fill(fill),
  nick,
});
const alice = person(0xa1, 'alice');
const bob = person(0xb0, 'bob');
const carol = person(0xc4, 'carol');
const dave = person(0xd1, 'dave');
const OPERATOR = new Uint8Array(32);
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const cleanups = cleanupsAfterEach();
let file: string;

beforeEach(() => {
  file = path.join(cleanups.tempDir('parley-rooms-'), 'host.db');
});

function openDb(options?: HostDatabaseOptions): HostDatabase {
  const db = HostDatabase.open(file, options);
  cleanups.push(() => db.close());
  return db;
}

/** A store with room "team" owned by alice. */
function teamStore(options?: HostDatabaseOptions): { db: HostDatabase; store: RoomStore } {
  const db = openDb(options);
  db.rooms.createRoom(
    { name: 'team', kind: 'room', open: false },
    [{ ...alice, role: 'owner' }],
    alice,
    T0,
  );
  return { db, store: db.rooms };
}

function names(store: RoomStore, room: string): string[] {
  return store.members(room).map((m) => `${m.nick}:${m.role}`);
}

function timeline(db: HostDatabase, room: string): string[] {
  return db
    .recentMessages(room, 1000)
    .map((m) =>
      m.event === undefined ? `msg ${m.text}` : `${m.nick || '(host)'} ${eventText(m)}`,
    );
}

function eventText(m: StoredMessage): string {
  const e = m.event;
  if (e === undefined) return m.text;
  return [e.action, e.target?.nick, e.role, e.topic].filter((x) => x !== undefined).join(' ');
}

function expectOk(result: RedeemResult): Extract<RedeemResult, { ok: true }> {
  if (!result.ok) throw new Error(`redeem failed: ${result.code}`);
  return result;
}

describe('rooms', () => {
  it('creates a room with its owner and a created event, and lists it', () => {
    const { db, store } = teamStore();
    expect(store.room('team')).toEqual({
      name: 'team',
      kind: 'room',
      open: false,
      topic: '',
      createdAt: T0,
      e2ee: false,
      mlsEpoch: 0,
    });
    expect(store.rooms().map((r) => r.name)).toEqual(['team']);
    expect(store.room('nope')).toBeUndefined();
    expect(names(store, 'team')).toEqual(['alice:owner']);
    expect(store.member('team', alice.key)).toMatchObject({ role: 'owner', joinedAt: T0 });
    expect(store.member('team', bob.key)).toBeUndefined();
    expect(timeline(db, 'team')).toEqual(['alice created']);
  });

  it('refuses a second room of the same name and writes nothing', () => {
    const { db, store } = teamStore();
    expect(() =>
      store.createRoom({ name: 'team', kind: 'room', open: true }, [], undefined, T0 + 1),
    ).toThrow(expect.objectContaining({ name: 'RoomStoreError', code: 'room-exists' }));
    expect(store.room('team')?.open).toBe(false);
    expect(timeline(db, 'team')).toEqual(['alice created']);
  });

  it('creates a direct message with both keys and a joined event per member', () => {
    const db = openDb();
    const name = dmRoomName(alice.key, bob.key);
    const events = db.rooms.createRoom(
      { name, kind: 'dm', open: false, dmKeys: [alice.key, bob.key] },
      [
        { ...alice, role: 'member' },
        { ...bob, role: 'member' },
      ],
      alice,
      T0,
    );
    expect(events.map((e) => `${e.nick} ${eventText(e)}`)).toEqual([
      'alice created',
      'alice joined',
      'bob joined',
    ]);
    const room = db.rooms.room(name);
    expect(room?.kind).toBe('dm');
    expect(room?.dmKeys).toEqual([alice.key, bob.key]);
    expect(db.rooms.roomsOf(bob.key)).toEqual([{ room: name, role: 'member', nick: 'bob' }]);
  });

  it('an operator-made room has events with no actor: the all-zero sender', () => {
    const db = openDb();
    const [created] = db.rooms.createRoom(
      { name: 'lobby', kind: 'room', open: true, topic: 'hi' },
      [],
      undefined,
      T0,
    );
    expect(created?.senderKey).toEqual(OPERATOR);
    expect(created?.nick).toBe('');
    expect(db.rooms.room('lobby')).toMatchObject({ open: true, topic: 'hi' });
  });

  it('names a DM room the same whichever key asks, and differently for other pairs', () => {
    const ab = dmRoomName(alice.key, bob.key);
    expect(dmRoomName(bob.key, alice.key)).toBe(ab);
    expect(ab).toMatch(new RegExp(`^${DM_ROOM_PREFIX.replace('.', '\\.')}[0-9a-f]{32}$`));
    expect(dmRoomName(alice.key, carol.key)).not.toBe(ab);
  });
});

describe('members', () => {
  it('adds, lists by role then nick, renames across rooms, and finds rooms of a key', () => {
    const { db, store } = teamStore();
    store.createRoom({ name: 'other', kind: 'room', open: true }, [], undefined, T0);
    store.addMember('team', carol, 'member', T0 + 1);
    store.addMember('team', bob, 'admin', T0 + 2);
    store.addMember('other', carol, 'member', T0 + 3);
    expect(names(store, 'team')).toEqual(['alice:owner', 'bob:admin', 'carol:member']);
    expect(store.roomsOf(carol.key)).toEqual([
      { room: 'other', role: 'member', nick: 'carol' },
      { room: 'team', role: 'member', nick: 'carol' },
    ]);
    store.renameMember(carol.key, 'caz');
    expect(store.member('team', carol.key)?.nick).toBe('caz');
    expect(store.member('other', carol.key)?.nick).toBe('caz');
    expect(timeline(db, 'team')).toEqual(['alice created', 'carol joined', 'bob joined']);
  });

  it('an unchanged nickname on a welcome takes no write lock', () => {
    const { store } = teamStore({ busyTimeoutMs: 0 });
    const other = new DatabaseSync(file);
    cleanups.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    store.renameMember(alice.key, 'alice'); // would fail 'locked' if it wrote
    expect(() => store.renameMember(alice.key, 'alicia')).toThrow(
      expect.objectContaining({ code: 'locked' }),
    );
    other.exec('ROLLBACK');
    store.renameMember(alice.key, 'alicia');
    expect(store.member('team', alice.key)?.nick).toBe('alicia');
  });

  it('refuses adding a member twice, or to a room that does not exist', () => {
    const { store } = teamStore();
    expect(() => store.addMember('team', alice, 'member', T0)).toThrow(
      expect.objectContaining({ code: 'already-member' }),
    );
    expect(() => store.addMember('nope', bob, 'member', T0)).toThrow(RoomStoreError);
    expect(store.member('team', alice.key)?.role).toBe('owner');
  });

  it('removes, bans (also a non-member), parts and unbans, each with its event', () => {
    const { db, store } = teamStore();
    store.addMember('team', bob, 'member', T0);
    store.addMember('team', carol, 'member', T0);
    const removed = store.removeMember('team', bob, 'removed', alice, T0 + 1);
    expect(removed.event).toEqual({ action: 'removed', target: bob });
    expect(store.isBanned('team', bob.key)).toBe(false);
    store.removeMember('team', carol, 'banned', alice, T0 + 2);
    expect(store.member('team', carol.key)).toBeUndefined();
    expect(store.isBanned('team', carol.key)).toBe(true);
    store.removeMember('team', dave, 'banned', undefined, T0 + 3); // pre-emptive, by the operator
    expect(store.isBanned('team', dave.key)).toBe(true);
    store.addMember('team', bob, 'member', T0 + 4);
    const left = store.removeMember('team', bob, 'parted', bob, T0 + 5);
    expect(left.event).toEqual({ action: 'left' });
    expect(left.nick).toBe('bob');
    expect(store.unban('team', carol, alice, T0 + 6)?.event).toEqual({
      action: 'unbanned',
      target: carol,
    });
    expect(store.unban('team', carol, alice, T0 + 7)).toBeUndefined();
    expect(store.isBanned('team', carol.key)).toBe(false);
    expect(names(store, 'team')).toEqual(['alice:owner']);
    expect(timeline(db, 'team')).toEqual([
      'alice created',
      'bob joined',
      'carol joined',
      'alice removed bob',
      'alice banned carol',
      '(host) banned dave',
      'bob joined',
      'bob left',
      'alice unbanned carol',
    ]);
  });

  it('refuses to remove or part a non-member', () => {
    const { store } = teamStore();
    expect(() => store.removeMember('team', bob, 'removed', alice, T0)).toThrow(
      expect.objectContaining({ code: 'not-member' }),
    );
    expect(() => store.removeMember('team', bob, 'parted', bob, T0)).toThrow(
      expect.objectContaining({ code: 'not-member' }),
    );
  });

  it('sets roles, the topic and openness, with events; unchanged openness is no event', () => {
    const { db, store } = teamStore();
    store.addMember('team', bob, 'member', T0);
    expect(store.setRole('team', bob, 'admin', alice, T0 + 1).event).toEqual({
      action: 'role',
      target: bob,
      role: 'admin',
    });
    expect(store.member('team', bob.key)?.role).toBe('admin');
    expect(() => store.setRole('team', carol, 'admin', alice, T0)).toThrow(
      expect.objectContaining({ code: 'not-member' }),
    );
    store.setTopic('team', 'ship it', bob, T0 + 2);
    expect(store.room('team')?.topic).toBe('ship it');
    expect(store.setOpen('team', false, alice, T0 + 3)).toBeUndefined();
    expect(store.setOpen('team', true, alice, T0 + 3)?.event).toEqual({ action: 'opened' });
    expect(store.room('team')?.open).toBe(true);
    expect(store.openRooms().map((r) => r.name)).toEqual(['team']);
    expect(store.setOpen('team', false, undefined, T0 + 4)?.event).toEqual({ action: 'closed' });
    expect(store.openRooms()).toEqual([]);
    expect(timeline(db, 'team')).toEqual([
      'alice created',
      'bob joined',
      'alice role bob admin',
      'bob topic ship it',
      'alice opened',
      '(host) closed',
    ]);
  });
});

describe('events in the timeline', () => {
  it('share the host-wide seq with messages, strictly increasing, and page like messages', () => {
    const { db, store } = teamStore();
    const [a] = db.appendMessages([
      {
        room: 'team',
        senderKey: alice.key,
        nick: 'alice',
        text: 'one',
        clientMsgId: 'msg-0001',
        sentAt: T0 + 1,
      },
    ]);
    const joined = store.addMember('team', bob, 'member', T0 + 2);
    const [b] = db.appendMessages([
      {
        room: 'team',
        senderKey: bob.key,
        nick: 'bob',
        text: 'two',
        clientMsgId: 'msg-0002',
        sentAt: T0 + 3,
      },
    ]);
    expect(joined.seq).toBeGreaterThan(a?.message.seq ?? Infinity);
    expect(b?.message.seq).toBeGreaterThan(joined.seq);
    const all = db.recentMessages('team', 10);
    expect(all.map((m) => m.seq)).toEqual([...all.map((m) => m.seq)].sort((x, y) => x - y));
    expect(all.map((m) => m.text || eventText(m))).toEqual(['created', 'one', 'joined', 'two']);
    expect(db.messagesBefore('team', joined.seq, 10).map((m) => m.text || eventText(m))).toEqual([
      'created',
      'one',
    ]);
    expect(all[2]).toEqual(joined);
  });

  it('are trimmed with history, and count toward the limit', () => {
    const { db, store } = teamStore({ historyLimit: 3 });
    for (const [i, p] of [bob, carol, dave].entries()) store.addMember('team', p, 'member', T0 + i);
    expect(timeline(db, 'team')).toEqual(['bob joined', 'carol joined', 'dave joined']);
    db.appendMessages([
      {
        room: 'team',
        senderKey: bob.key,
        nick: 'bob',
        text: 'hi',
        clientMsgId: 'msg-0003',
        sentAt: T0 + 9,
      },
    ]);
    expect(timeline(db, 'team')).toEqual(['carol joined', 'dave joined', 'msg hi']);
  });

  it('skips a stored event that does not decode, reports its seq, and reads the rest', () => {
    const skipped: [number, string][] = [];
    const { db, store } = teamStore({ onSkippedRow: (seq, room) => skipped.push([seq, room]) });
    const bad = store.addMember('team', bob, 'member', T0);
    store.setTopic('team', 'fine', alice, T0 + 1);
    const raw = new DatabaseSync(file);
    try {
      raw
        .prepare('UPDATE messages SET event = \'{"action":"exploded"}\' WHERE seq = ?')
        .run(bad.seq);
    } finally {
      raw.close();
    }
    expect(timeline(db, 'team')).toEqual(['alice created', 'alice topic fine']);
    expect(skipped).toEqual([[bad.seq, 'team']]);
    const raw2 = new DatabaseSync(file);
    try {
      raw2.prepare("UPDATE messages SET event = 'not json' WHERE seq = ?").run(bad.seq);
    } finally {
      raw2.close();
    }
    expect(db.messagesBefore('team', bad.seq + 100, 10)).toHaveLength(2);
  });
});

describe('what an event cannot say', () => {
  it('refuses a topic too long or a target with no nickname, writing nothing', () => {
    const { db, store } = teamStore();
    store.addMember('team', bob, 'member', T0);
    expect(() => store.setTopic('team', 'x'.repeat(301), alice, T0 + 1)).toThrow(RangeError);
    expect(store.room('team')?.topic).toBe('');
    expect(() =>
      store.removeMember('team', { key: bob.key, nick: '' }, 'removed', alice, T0),
    ).toThrow(RangeError);
    expect(store.member('team', bob.key)).toBeDefined();
    expect(timeline(db, 'team')).toEqual(['alice created', 'bob joined']);
  });
});

describe('naming a key that is not connected', () => {
  it('gives its nickname in its rooms, else one it registered, else nothing', () => {
    const { db, store } = teamStore();
    expect(db.nickOf(bob.key)).toBeUndefined();
    db.claimNick('bobby', bob.key);
    expect(db.nickOf(bob.key)).toBe('bobby');
    store.addMember('team', bob, 'member', T0);
    store.renameMember(bob.key, 'robert');
    expect(db.nickOf(bob.key)).toBe('robert');
    expect(db.nickOf(carol.key)).toBeUndefined();
  });
});

describe('invites', () => {
  it('creates an invite whose token is shown once and stored only as its SHA-256', () => {
    const { store } = teamStore();
    const { token, invite } = store.createInvite(
      { room: 'team', role: 'admin', uses: 3, expiresAt: T0 + HOUR, createdBy: alice },
      T0,
    );
    expect(token).toMatch(INVITE_TOKEN_PATTERN);
    expect(invite).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      room: 'team',
      role: 'admin',
      usesLeft: 3,
      expiresAt: T0 + HOUR,
      revokedAt: null,
      createdBy: alice,
      createdAt: T0,
    });
    expect(store.liveInvites('team', T0)).toEqual([invite]);
    const raw = new DatabaseSync(file, { readOnly: true });
    try {
      const row = raw.prepare('SELECT token_hash FROM invites').get();
      expect(row?.['token_hash']).toEqual(
        new Uint8Array(createHash('sha256').update(token).digest()),
      );
      const dump = JSON.stringify(raw.prepare('SELECT * FROM invites').all());
      expect(dump).not.toContain(token);
    } finally {
      raw.close();
    }
    expect(hashInviteToken(token)).toHaveLength(32);
    expect(newInviteId()).not.toBe(invite.id);
  });

  it('refuses an invite to a room that does not exist', () => {
    const { store } = teamStore();
    expect(() =>
      store.createInvite({ room: 'nope', role: 'member', uses: 1, expiresAt: null }, T0),
    ).toThrow(expect.objectContaining({ code: 'unknown-room' }));
  });

  it('lists only live invites and revokes by id within the room', () => {
    const { store } = teamStore();
    store.createRoom({ name: 'other', kind: 'room', open: false }, [], undefined, T0);
    const forever = store.createInvite(
      { room: 'team', role: 'member', uses: null, expiresAt: null },
      T0,
    ).invite;
    const soon = store.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: T0 + HOUR },
      T0 + 1,
    ).invite;
    const once = store.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: null },
      T0 + 2,
    );
    expectOk(store.redeemInvite(once.token, bob, T0 + 3));
    expect(store.liveInvites('team', T0 + 3).map((i) => i.id)).toEqual([forever.id, soon.id]);
    expect(store.liveInvites('team', T0 + HOUR).map((i) => i.id)).toEqual([forever.id]);
    expect(store.liveInvites('other', T0)).toEqual([]);
    expect(store.revokeInvite('other', forever.id, T0 + 4)).toBe(false);
    expect(store.revokeInvite('team', forever.id, T0 + 4)).toBe(true);
    expect(store.revokeInvite('team', forever.id, T0 + 5)).toBe(false);
    expect(store.revokeInvite('team', 'no-such-id00', T0 + 5)).toBe(false);
    expect(store.liveInvites('team', T0 + 4).map((i) => i.id)).toEqual([soon.id]);
  });
});

describe('redeeming an invite', () => {
  it('admits a new member with the invite role and a joined event, spending a use', () => {
    const { db, store } = teamStore();
    const { token, invite } = store.createInvite(
      { room: 'team', role: 'admin', uses: 2, expiresAt: null, createdBy: alice },
      T0,
    );
    const result = expectOk(store.redeemInvite(token, bob, T0 + 1));
    expect(result.room).toBe('team');
    expect(result.role).toBe('admin');
    expect(result.event?.event).toEqual({ action: 'joined' });
    expect(result.event?.senderKey).toEqual(bob.key);
    expect(store.member('team', bob.key)).toMatchObject({ role: 'admin', nick: 'bob' });
    expect(store.liveInvites('team', T0 + 1)).toEqual([{ ...invite, usesLeft: 1 }]);
    expect(timeline(db, 'team')).toEqual(['alice created', 'bob joined']);
  });

  it('a member redeeming again gets ok with no event and spends no use, even when used up', () => {
    const { db, store } = teamStore();
    const { token } = store.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: null },
      T0,
    );
    expectOk(store.redeemInvite(token, bob, T0 + 1));
    const again = expectOk(store.redeemInvite(token, bob, T0 + 2));
    expect(again).toEqual({ ok: true, room: 'team', role: 'member' });
    expect(store.redeemInvite(token, carol, T0 + 3)).toEqual({
      ok: false,
      code: 'invite-used-up',
      room: 'team',
    });
    const two = store.createInvite({ room: 'team', role: 'member', uses: 2, expiresAt: null }, T0);
    expect(expectOk(store.redeemInvite(two.token, alice, T0 + 4)).role).toBe('owner');
    expect(store.liveInvites('team', T0 + 4).find((i) => i.id === two.invite.id)?.usesLeft).toBe(2);
    expect(timeline(db, 'team')).toEqual(['alice created', 'bob joined']);
  });

  it('promotes a member whose role is below the invite role, by the invite creator', () => {
    const { db, store } = teamStore();
    store.addMember('team', bob, 'member', T0);
    const { token } = store.createInvite(
      { room: 'team', role: 'owner', uses: 1, expiresAt: null },
      T0,
    );
    const result = expectOk(store.redeemInvite(token, bob, T0 + 1));
    expect(result.role).toBe('owner');
    expect(result.event?.event).toEqual({ action: 'role', target: bob, role: 'owner' });
    expect(result.event?.senderKey).toEqual(OPERATOR);
    expect(store.member('team', bob.key)?.role).toBe('owner');
    expect(store.redeemInvite(token, carol, T0 + 2)).toMatchObject({ code: 'invite-used-up' });
    expect(timeline(db, 'team')).toEqual(['alice created', 'bob joined', '(host) role bob owner']);
  });

  it("an invite dies when its maker's role drops below it: no admin back by their own link", () => {
    const { store } = teamStore();
    store.addMember('team', bob, 'admin', T0);
    const invite = (role: 'admin' | 'member') =>
      store.createInvite({ room: 'team', role, uses: null, expiresAt: null, createdBy: bob }, T0);
    const asAdmin = invite('admin');
    const asMember = invite('member');
    store.setRole('team', bob, 'member', alice, T0 + 1);
    // Demoted, bob cannot make himself admin again with the link he made as admin.
    expect(store.redeemInvite(asAdmin.token, bob, T0 + 2)).toEqual({
      ok: false,
      code: 'invite-revoked',
      room: 'team',
    });
    expect(store.member('team', bob.key)?.role).toBe('member');
    expect(store.liveInvites('team', T0 + 2).map((i) => i.id)).toEqual([asMember.invite.id]);
    // Removed, bob's member link admits nobody either (not him, not a friend of his).
    store.removeMember('team', bob, 'removed', alice, T0 + 3);
    expect(store.redeemInvite(asMember.token, bob, T0 + 4)).toMatchObject({
      code: 'invite-revoked',
    });
    expect(store.redeemInvite(asMember.token, carol, T0 + 4)).toMatchObject({
      code: 'invite-revoked',
    });
    expect(store.liveInvites('team', T0 + 4)).toEqual([]);
  });

  it('counts uses down to used up', () => {
    const { store } = teamStore();
    const { token, invite } = store.createInvite(
      { room: 'team', role: 'member', uses: 3, expiresAt: null },
      T0,
    );
    for (const [i, p] of [bob, carol, dave].entries()) {
      expectOk(store.redeemInvite(token, p, T0 + i));
      expect(store.liveInvites('team', T0).find((x) => x.id === invite.id)?.usesLeft).toBe(
        i === 2 ? undefined : 2 - i,
      );
    }
    expect(store.redeemInvite(token, person(0xee, 'eve'), T0 + 5)).toEqual({
      ok: false,
      code: 'invite-used-up',
      room: 'team',
    });
    expect(names(store, 'team')).toHaveLength(4);
  });

  it('an unlimited invite admits anyone until revoked', () => {
    const { store } = teamStore();
    const { token, invite } = store.createInvite(
      { room: 'team', role: 'member', uses: null, expiresAt: null },
      T0,
    );
    for (let i = 0; i < 20; i++) expectOk(store.redeemInvite(token, person(i + 1, `p${i}`), T0));
    expect(store.liveInvites('team', T0)[0]?.usesLeft).toBeNull();
    store.revokeInvite('team', invite.id, T0 + 1);
    expect(store.redeemInvite(token, bob, T0 + 2)).toEqual({
      ok: false,
      code: 'invite-revoked',
      room: 'team',
    });
  });

  it('expires exactly at expiresAt', () => {
    const { store } = teamStore();
    const expiresAt = T0 + HOUR;
    const { token } = store.createInvite({ room: 'team', role: 'member', uses: 5, expiresAt }, T0);
    expectOk(store.redeemInvite(token, bob, expiresAt - 1));
    expect(store.redeemInvite(token, carol, expiresAt)).toEqual({
      ok: false,
      code: 'invite-expired',
      room: 'team',
    });
    expect(store.member('team', carol.key)).toBeUndefined();
  });

  it('refuses an unknown token without naming a room', () => {
    const { store } = teamStore();
    store.createInvite({ room: 'team', role: 'member', uses: 1, expiresAt: null }, T0);
    expect(store.redeemInvite('A'.repeat(24), bob, T0)).toEqual({
      ok: false,
      code: 'invite-unknown',
    });
    expect(store.redeemInvite('not a token', bob, T0)).toEqual({
      ok: false,
      code: 'invite-unknown',
    });
  });

  it('refuses a banned key, without spending a use', () => {
    const { store } = teamStore();
    store.removeMember('team', bob, 'banned', alice, T0);
    const { token, invite } = store.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: null },
      T0,
    );
    expect(store.redeemInvite(token, bob, T0 + 1)).toEqual({
      ok: false,
      code: 'banned',
      room: 'team',
    });
    expect(store.liveInvites('team', T0 + 1)).toEqual([invite]);
    store.unban('team', bob, alice, T0 + 2);
    expect(expectOk(store.redeemInvite(token, bob, T0 + 3)).role).toBe('member');
  });

  it('checks in order: unknown, revoked, expired, used up, banned', () => {
    const { store } = teamStore();
    store.removeMember('team', bob, 'banned', alice, T0);
    const make = (uses: number, expiresAt: number | null) =>
      store.createInvite({ room: 'team', role: 'member', uses, expiresAt }, T0);
    // Every later condition holds too, so the first one decides.
    const all = make(1, T0 + 10);
    const used = make(1, T0 + 10);
    expectOk(store.redeemInvite(all.token, carol, T0));
    expectOk(store.redeemInvite(used.token, carol, T0)); // carol is a member: spends no use
    expectOk(store.redeemInvite(used.token, dave, T0));
    store.revokeInvite('team', all.invite.id, T0);
    const code = (token: string) => {
      const r = store.redeemInvite(token, bob, T0 + 10);
      return r.ok ? 'ok' : r.code;
    };
    expect(code(all.token)).toBe('invite-revoked'); // revoked, expired, used up, banned
    expect(code(used.token)).toBe('invite-expired'); // expired, used up, banned
    const usedLive = make(1, null);
    expectOk(store.redeemInvite(usedLive.token, person(0xee, 'eve'), T0));
    expect(code(usedLive.token)).toBe('invite-used-up'); // used up, banned
    expect(code(make(1, null).token)).toBe('banned');
  });
});

describe('host address', () => {
  it('keeps the address the host wrote, replacing it on the next write', () => {
    const { store } = teamStore();
    expect(store.publicAddress()).toBeUndefined();
    store.setPublicAddress('chat.example.org', 7878);
    store.setPublicAddress('203.0.113.5', 443);
    expect(store.publicAddress()).toEqual({ host: '203.0.113.5', port: 443 });
    expect(() => store.setPublicAddress('x', 0)).toThrow(RangeError);
  });
});

describe('two connections to one file (the host and the parley host command)', () => {
  it('see each other’s invites, uses and members', () => {
    const { store: host } = teamStore();
    const cli = openDb({ busyTimeoutMs: 5000 }).rooms;
    const { token } = cli.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: null },
      T0,
    );
    expectOk(host.redeemInvite(token, bob, T0 + 1));
    expect(cli.liveInvites('team', T0 + 1)).toEqual([]);
    expect(cli.redeemInvite(token, carol, T0 + 2)).toMatchObject({ code: 'invite-used-up' });
    expect(names(cli, 'team')).toEqual(['alice:owner', 'bob:member']);
    const second = host.createInvite(
      { room: 'team', role: 'member', uses: 1, expiresAt: null },
      T0,
    );
    expect(cli.revokeInvite('team', second.invite.id, T0 + 3)).toBe(true);
    expect(host.redeemInvite(second.token, carol, T0 + 4)).toMatchObject({
      code: 'invite-revoked',
    });
  });

  it('another process creating invites while this one redeems them: every one admits once', async () => {
    const { db, store } = teamStore();
    const count = 40;
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../../fixtures/room-store-inviter.ts', import.meta.url)),
        file,
        `${count}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const results: boolean[] = [];
    let n = 0;
    for await (const token of createInterface({ input: child.stdout })) {
      n++;
      // Redeemed while the other process goes on creating: each waits for the other's lock.
      results.push(expectOk(store.redeemInvite(token, person(n, `guest${n}`), T0 + n)).ok);
      const reuse = store.redeemInvite(token, person(200, 'late'), T0 + n);
      results.push(!reuse.ok && reuse.code === 'invite-used-up');
    }
    const code = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(results).toHaveLength(2 * count);
    expect(results.every(Boolean)).toBe(true);
    expect(store.members('team')).toHaveLength(count + 1);
    expect(store.liveInvites('team', T0)).toEqual([]);
    const seqs = db.recentMessages('team', 1000).map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('upgrading a version-1 database', () => {
  function buildVersion1(): void {
    const raw = new DatabaseSync(file);
    try {
      raw.exec(MIGRATIONS[0] ?? '');
      raw.exec('PRAGMA user_version = 1');
      const insertRoom = raw.prepare('INSERT INTO rooms (name, message_count) VALUES (?, ?)');
      insertRoom.run('lobby', 3);
      insertRoom.run('dev', 1);
      insertRoom.run('quiet', 0);
      const sender = raw.prepare('INSERT INTO dedupe_senders VALUES (?, ?)');
      const message = raw.prepare(
        `INSERT INTO messages (room, sender_key, nick, text, client_msg_id, sent_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
      );
      const dedupe = raw.prepare('INSERT INTO dedupe VALUES (?, ?, ?, ?, ?, ?)');
      sender.run(alice.key, 2);
      sender.run(bob.key, 2);
      sender.run(carol.key, 1);
      const rows: [string, PersonRecord, string, number][] = [
        ['lobby', alice, 'al', T0 + 1],
        ['lobby', bob, 'bob', T0 + 2],
        ['dev', alice, 'alice', T0 + 3], // alice's latest nickname
        ['lobby', bob, 'bobby', T0 + 4], // bob's latest nickname
      ];
      for (const [i, [room, who, nick, at]] of rows.entries()) {
        const seq = message.get(room, who.key, nick, `text ${i}`, `msg-000${i}`, at)?.['seq'];
        dedupe.run(who.key, `msg-000${i}`, seq ?? 0, room, nick, at);
      }
      // carol spoke in "lobby" long ago: her message was trimmed, her dedupe entry remains.
      dedupe.run(carol.key, 'msg-0009', 1, 'lobby', 'carol', T0);
      raw.prepare('DELETE FROM messages WHERE seq = 1').run();
      raw.prepare("UPDATE rooms SET message_count = 2 WHERE name = 'lobby'").run();
    } finally {
      raw.close();
    }
  }

  it('keeps every room, private, and makes every key that spoke a member with its latest nick', () => {
    buildVersion1();
    const db = openDb();
    const store = db.rooms;
    expect(store.rooms().map((r) => [r.name, r.kind, r.open])).toEqual([
      ['dev', 'room', false],
      ['lobby', 'room', false],
      ['quiet', 'room', false],
    ]);
    expect(names(store, 'lobby')).toEqual(['alice:member', 'bobby:member', 'carol:member']);
    expect(names(store, 'dev')).toEqual(['alice:member']);
    expect(names(store, 'quiet')).toEqual([]);
    expect(store.member('lobby', carol.key)?.joinedAt).toBe(T0);
    expect(store.room('lobby')?.createdAt).toBe(T0);
    // Nobody is owner: the host offers an owner invite at start.
    expect(store.members('lobby').some((m) => m.role === 'owner')).toBe(false);
    // History is intact and new rows continue the seq.
    expect(db.recentMessages('lobby', 10).map((m) => m.text)).toEqual(['text 1', 'text 3']);
    const joined = store.addMember('lobby', dave, 'member', T0 + 10);
    expect(joined.seq).toBe(5);
  });

  it('upgrades once, when a second connection opens it too', () => {
    buildVersion1();
    const first = openDb();
    const second = openDb();
    expect(names(second.rooms, 'lobby')).toEqual(names(first.rooms, 'lobby'));
    const raw = new DatabaseSync(file, { readOnly: true });
    try {
      expect(raw.prepare('PRAGMA user_version').get()?.['user_version']).toBe(SCHEMA_VERSION);
    } finally {
      raw.close();
    }
    expect(fs.statSync(file).size).toBeGreaterThan(0);
  });
});
