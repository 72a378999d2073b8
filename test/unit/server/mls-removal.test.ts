import { describe, expect, it } from 'vitest';
import type { HostDatabase, NewMessage } from '../../../src-main/server/host-database.ts';
import { MEMBERSHIP_GRACE_MS } from '../../../src-main/server/mls-removal.ts';
import { DEVICE_RETIRE_MS, MAX_DEVICES_PER_KEY } from '../../../src-main/server/mls-store.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { GROUP, T0, alice, bob, denDb, device, person } from './den-db.ts';

// A membership change the room's group has not committed yet (src-main/server/mls-removal.ts):
// from the change until the room's next accepted commit, MLS messages are stale-epoch, so no
// member encrypts for a group that still holds a leaver or lacks a newcomer. On a real SQLite file.

const carol = person(0xc0, 'carol');

const cleanups = cleanupsAfterEach();
const fixture = denDb(cleanups, 'parley-removal-');
const { openDb } = fixture;

/** "den" (E2EE): alice, bob and carol, each with a device; its group is at epoch 1. */
function den(): HostDatabase {
  const db = fixture.den([bob, carol]);
  db.mls.publish(alice.key, device(1), ['kp-a'], T0);
  db.mls.publish(bob.key, device(2), ['kp-b'], T0);
  db.mls.publish(carol.key, device(3), ['kp-c'], T0);
  expect(db.appendMessages([commit(0)])[0]?.staleEpoch).toBeUndefined();
  return db;
}

function commit(epoch: number, sentAt = T0): NewMessage {
  return {
    room: 'den',
    senderKey: alice.key,
    nick: 'alice',
    text: '',
    clientMsgId: '',
    sentAt,
    commit: { groupId: GROUP, epoch, data: `commit-at-${epoch}` },
  };
}

function mls(id: string, epoch: number, sentAt = T0 + 10): NewMessage {
  return {
    room: 'den',
    senderKey: carol.key,
    nick: 'carol',
    text: '',
    clientMsgId: id,
    sentAt,
    mls: { data: `cipher-${id}`, groupId: GROUP, epoch },
  };
}

const staleOf = (db: HostDatabase, m: NewMessage) => db.appendMessages([m])[0]?.staleEpoch;

describe('a member leaving an end-to-end encrypted room', () => {
  for (const reason of ['parted', 'removed', 'banned'] as const) {
    it(`${reason}: MLS messages at the current epoch are stale-epoch until the next commit`, () => {
      const db = den();
      expect(staleOf(db, mls(`before-${reason}`, 1))).toBeUndefined();
      db.rooms.removeMember('den', bob, reason, reason === 'parted' ? undefined : alice, T0 + 5);
      // The group at epoch 1 still holds bob: nothing more is stored for it.
      expect(staleOf(db, mls(`after-${reason}-1`, 1))).toBe(1);
      expect(staleOf(db, mls(`after-${reason}-2`, 1, T0 + 6))).toBe(1);
      // A member's commit (the removal) is accepted, and ends the wait.
      expect(staleOf(db, commit(1, T0 + 7))).toBeUndefined();
      expect(staleOf(db, mls(`after-${reason}-1`, 2, T0 + 8))).toBeUndefined();
      const stored = db.recentMessages('den', 20).filter((m) => m.mls !== undefined);
      expect(stored.map((m) => m.clientMsgId)).toEqual([`before-${reason}`, `after-${reason}-1`]);
    });
  }

  it('a resend of a message stored before the leave is still a duplicate', () => {
    const db = den();
    const first = db.appendMessages([mls('stored-before-1', 1)])[0];
    db.rooms.removeMember('den', bob, 'parted', undefined, T0 + 5);
    const again = db.appendMessages([mls('stored-before-1', 1, T0 + 6)])[0];
    expect(again).toMatchObject({ duplicate: true, message: { seq: first?.message.seq } });
    expect(again?.staleEpoch).toBeUndefined();
  });

  it('the wait survives closing and opening the database', () => {
    const db = den();
    db.rooms.removeMember('den', bob, 'removed', alice, T0 + 5);
    db.close();
    const reopened = openDb();
    expect(staleOf(reopened, mls('after-reopen-1', 1))).toBe(1);
    expect(staleOf(reopened, commit(1, T0 + 7))).toBeUndefined();
    expect(staleOf(reopened, mls('after-reopen-1', 2))).toBeUndefined();
  });

  it('a batch orders them: a message before the leave is stored, one after it waits', () => {
    const db = den();
    expect(staleOf(db, mls('same-turn-1', 1, T0 + 4))).toBeUndefined();
    db.rooms.removeMember('den', bob, 'parted', undefined, T0 + 5);
    const results = db.appendMessages([
      mls('same-turn-2', 1),
      commit(1, T0 + 7),
      mls('same-turn-3', 2),
    ]);
    expect(results.map((r) => r.staleEpoch)).toEqual([1, undefined, undefined]);
  });

  it('a key with no live device is in no group: its leaving holds nothing', () => {
    const db = den();
    const dave = person(0xd0, 'dave');
    db.rooms.addMember('den', dave, 'member', T0 + 1);
    db.rooms.removeMember('den', dave, 'parted', undefined, T0 + 2);
    expect(staleOf(db, mls('after-dave-1', 1))).toBeUndefined();
    // A device unseen for the retirement age is not listed to members either.
    const erin = person(0xe0, 'erin');
    db.rooms.addMember('den', erin, 'member', T0 + 3);
    db.mls.publish(erin.key, device(5), ['kp-e'], T0 - DEVICE_RETIRE_MS - 1);
    db.rooms.removeMember('den', erin, 'removed', alice, T0 + 4);
    expect(staleOf(db, mls('after-erin-1', 1))).toBeUndefined();
  });

  it('lapses after MEMBERSHIP_GRACE_MS when no member commits (the leaver may never have been added)', () => {
    const db = den();
    db.rooms.removeMember('den', bob, 'parted', undefined, T0 + 5);
    expect(staleOf(db, mls('grace-1', 1, T0 + 5 + MEMBERSHIP_GRACE_MS - 1))).toBe(1);
    expect(staleOf(db, mls('grace-2', 1, T0 + 5 + MEMBERSHIP_GRACE_MS))).toBeUndefined();
  });

  it('leaves other rooms and plaintext rooms alone', () => {
    const db = den();
    db.rooms.createRoom(
      { name: 'plain', kind: 'room', open: false },
      [
        { ...alice, role: 'owner' },
        { ...bob, role: 'member' },
      ],
      alice,
      T0,
    );
    db.rooms.removeMember('plain', bob, 'parted', undefined, T0 + 5);
    expect(staleOf(db, mls('other-room-1', 1))).toBeUndefined();
    const text = db.appendMessages([
      { ...mls('plain-text-1', 0), room: 'plain', mls: undefined, text: 'hello' } as NewMessage,
    ])[0];
    expect(text?.staleEpoch).toBeUndefined();
    expect(text?.message.seq).toBeGreaterThan(0);
  });
});

describe('a member device retired', () => {
  it('beyond the devices a key keeps: the rooms of that key wait for a commit', () => {
    const db = den();
    for (let i = 10; i < 10 + MAX_DEVICES_PER_KEY - 1; i++) {
      db.mls.publish(bob.key, device(i), [`kp-${i}`], T0 + i);
    }
    // The new devices themselves held the room until a commit added them.
    expect(staleOf(db, commit(1, T0 + 50))).toBeUndefined();
    expect(staleOf(db, mls('full-1', 2, T0 + 51))).toBeUndefined();
    const ninth = db.mls.publish(bob.key, device(99), ['kp-99'], T0 + 100);
    expect(ninth.retired).toEqual([device(2)]);
    expect(staleOf(db, mls('retired-1', 2, T0 + 101))).toBe(2);
    expect(staleOf(db, commit(2, T0 + 102))).toBeUndefined();
    expect(staleOf(db, mls('retired-1', 3, T0 + 103))).toBeUndefined();
  });

  it('unseen for the retirement age: nothing waits (members stopped being offered it long ago)', () => {
    const db = den();
    expect(db.mls.retireUnseen(T0 + DEVICE_RETIRE_MS + 1)).toBe(3);
    expect(staleOf(db, mls('unseen-1', 1))).toBeUndefined();
  });
});

describe('a member joining an end-to-end encrypted room', () => {
  const dave = person(0xd0, 'dave');

  function inviteTo(db: HostDatabase, room = 'den'): string {
    return db.rooms.createInvite(
      { room, role: 'member', uses: null, expiresAt: null, createdBy: alice },
      T0,
    ).token;
  }

  it('by an invite, with a device: MLS messages wait for the commit that adds it', () => {
    const db = den();
    db.mls.publish(dave.key, device(4), ['kp-d'], T0 + 1);
    expect(staleOf(db, mls('before-dave-1', 1, T0 + 2))).toBeUndefined();
    expect(db.rooms.redeemInvite(inviteTo(db), dave, T0 + 5)).toMatchObject({ ok: true });
    // The group at epoch 1 lacks dave's device: a line sealed for it would be lost to him.
    expect(staleOf(db, mls('after-dave-1', 1, T0 + 6))).toBe(1);
    expect(staleOf(db, commit(1, T0 + 7))).toBeUndefined();
    expect(staleOf(db, mls('after-dave-1', 2, T0 + 8))).toBeUndefined();
  });

  it('without a device: nothing waits until its first KeyPackages, then the room waits', () => {
    const db = den();
    db.rooms.redeemInvite(inviteTo(db), dave, T0 + 5);
    expect(staleOf(db, mls('no-device-1', 1, T0 + 6))).toBeUndefined();
    db.mls.publish(dave.key, device(4), ['kp-d'], T0 + 7);
    expect(staleOf(db, mls('new-device-1', 1, T0 + 8))).toBe(1);
    expect(staleOf(db, commit(1, T0 + 9))).toBeUndefined();
    // More KeyPackages of a device already known change no group.
    db.mls.publish(dave.key, device(4), ['kp-d2'], T0 + 10);
    expect(staleOf(db, mls('new-device-1', 2, T0 + 11))).toBeUndefined();
  });

  it("a member's new device: the member's rooms wait for the commit that adds it", () => {
    const db = den();
    db.mls.publish(bob.key, device(20), ['kp-b2'], T0 + 5);
    expect(staleOf(db, mls('second-device-1', 1, T0 + 6))).toBe(1);
    expect(staleOf(db, commit(1, T0 + 7))).toBeUndefined();
    expect(staleOf(db, mls('second-device-1', 2, T0 + 8))).toBeUndefined();
  });

  it('a direct message opened again: the one who comes back is waited for', () => {
    const db = den();
    db.rooms.createRoom(
      { name: 'dm', kind: 'dm', open: false, e2ee: true, dmKeys: [alice.key, bob.key] },
      [
        { ...alice, role: 'member' },
        { ...bob, role: 'member' },
      ],
      alice,
      T0,
    );
    const inDm = (m: NewMessage): NewMessage => ({
      ...m,
      room: 'dm',
      ...(m.mls ? { mls: { ...m.mls } } : {}),
      ...(m.commit ? { commit: { ...m.commit } } : {}),
    });
    expect(staleOf(db, inDm(commit(0, T0 + 1)))).toBeUndefined();
    db.rooms.removeMember('dm', bob, 'parted', undefined, T0 + 2);
    expect(staleOf(db, inDm(commit(1, T0 + 3)))).toBeUndefined();
    db.rooms.addMember('dm', bob, 'member', T0 + 4);
    expect(staleOf(db, inDm(mls('dm-back-1', 2, T0 + 5)))).toBe(2);
    expect(staleOf(db, inDm(commit(2, T0 + 6)))).toBeUndefined();
    expect(staleOf(db, inDm(mls('dm-back-1', 3, T0 + 7)))).toBeUndefined();
  });

  it('lapses after MEMBERSHIP_GRACE_MS when no member commits the add', () => {
    const db = den();
    db.mls.publish(dave.key, device(4), ['kp-d'], T0 + 1);
    db.rooms.redeemInvite(inviteTo(db), dave, T0 + 5);
    expect(staleOf(db, mls('add-grace-1', 1, T0 + 5 + MEMBERSHIP_GRACE_MS - 1))).toBe(1);
    expect(staleOf(db, mls('add-grace-2', 1, T0 + 5 + MEMBERSHIP_GRACE_MS))).toBeUndefined();
  });

  it('a promotion by invite adds nobody: nothing waits', () => {
    const db = den();
    const admins = db.rooms.createInvite(
      { room: 'den', role: 'admin', uses: null, expiresAt: null, createdBy: alice },
      T0,
    ).token;
    expect(db.rooms.redeemInvite(admins, carol, T0 + 5)).toMatchObject({ ok: true, role: 'admin' });
    expect(staleOf(db, mls('promoted-1', 1, T0 + 6))).toBeUndefined();
  });

  it('an open (plaintext) room a key joins is not held, nor are its other rooms', () => {
    const db = den();
    db.rooms.createRoom({ name: 'square', kind: 'room', open: true }, [], undefined, T0);
    db.mls.publish(dave.key, device(4), ['kp-d'], T0 + 1);
    db.rooms.addMember('square', dave, 'member', T0 + 5);
    expect(staleOf(db, mls('open-join-1', 1, T0 + 6))).toBeUndefined();
    const text = db.appendMessages([
      { ...mls('square-text-1', 0), room: 'square', mls: undefined, text: 'hi' } as NewMessage,
    ])[0];
    expect(text?.staleEpoch).toBeUndefined();
  });
});
