import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src-main/server/db/schema.ts';
import type { HostDatabase, NewMessage } from '../../../src-main/server/host-database.ts';
import {
  DEVICE_RETIRE_MS,
  MAX_DEVICES_PER_KEY,
  MAX_KEY_PACKAGES_OUTSIDE,
  MAX_KEY_PACKAGES_PER_DEVICE,
} from '../../../src-main/server/mls-store.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { GROUP, T0, alice, bob, denDb, device, person } from './den-db.ts';

// The host's MLS tables (docs/protocol.md §12) on a real SQLite file: every table is bounded,
// commits are ordered by epoch in the appending transaction, and a restart keeps it all.

const cleanups = cleanupsAfterEach();
const fixture = denDb(cleanups, 'parley-mls-');
const { openDb } = fixture;

/** A database with the E2EE room "den": alice owns it, bob is a member. */
const den = (): HostDatabase => fixture.den([bob]);

function commit(epoch: number, extra: Partial<NewMessage['commit']> = {}): NewMessage {
  return {
    room: 'den',
    senderKey: alice.key,
    nick: 'alice',
    text: '',
    clientMsgId: '',
    sentAt: T0,
    commit: { groupId: GROUP, epoch, data: `commit-at-${epoch}`, ...extra },
  };
}

function mls(id: string, epoch: number, groupId = GROUP): NewMessage {
  return {
    room: 'den',
    senderKey: bob.key,
    nick: 'bob',
    text: '',
    clientMsgId: id,
    sentAt: T0,
    mls: { data: `cipher-${id}`, groupId, epoch },
  };
}

describe('commits and MLS messages in the appending transaction', () => {
  it('the first commit of an epoch wins, in one batch too; later items follow the new epoch', () => {
    const db = den();
    const results = db.appendMessages([
      mls('before-group-1', 0), // no group yet: nothing to encrypt for
      commit(0),
      commit(0, { data: 'the-loser' }),
      mls('at-epoch-1-a', 1),
      mls('at-epoch-0-a', 0),
    ]);
    expect(results.map((r) => r.staleEpoch)).toEqual([0, undefined, 1, undefined, 1]);
    expect(results[1]?.message.commit).toEqual({ epoch: 0, data: 'commit-at-0' });
    expect(db.rooms.room('den')).toMatchObject({ mlsEpoch: 1, mlsGroupId: GROUP });
    // Another group at the right epoch is stale too.
    expect(db.appendMessages([commit(1, { groupId: 'b3RoZXI' })])[0]?.staleEpoch).toBe(1);
    // Only what was accepted is in history, in order, with its kind.
    const history = db.recentMessages('den', 10).filter((m) => m.event === undefined);
    expect(history.map((m) => m.commit?.data ?? m.mls)).toEqual([
      'commit-at-0',
      'cipher-at-epoch-1-a',
    ]);
    expect(history.every((m) => m.text === '')).toBe(true);
  });

  it('a plaintext room takes no commit and no MLS message', () => {
    const db = den();
    db.rooms.createRoom({ name: 'plain', kind: 'room', open: false }, [], undefined, T0);
    const results = db.appendMessages([
      { ...commit(0), room: 'plain' },
      { ...mls('plain-mls-1', 0), room: 'plain' },
    ]);
    expect(results.map((r) => r.staleEpoch)).toEqual([0, 0]);
    expect(db.recentMessages('plain', 10).filter((m) => !m.event)).toEqual([]);
  });

  it('a resend of a stored MLS message is a duplicate, whatever the epoch is now', () => {
    const db = den();
    db.appendMessages([commit(0)]);
    const first = db.appendMessages([mls('resent-msg-1', 1)])[0];
    db.appendMessages([commit(1)]);
    const again = db.appendMessages([mls('resent-msg-1', 1)])[0];
    expect(again).toMatchObject({ duplicate: true, message: { seq: first?.message.seq } });
    expect(again?.staleEpoch).toBeUndefined();
  });
});

describe('KeyPackages and devices', () => {
  it('keeps the newest 20 KeyPackages of a device', () => {
    const db = den();
    const kps = Array.from({ length: 25 }, (_, i) => `kp-${i}`);
    expect(db.mls.publish(alice.key, device(1), kps.slice(0, 15), T0)).toMatchObject({
      newDevice: true,
      held: 15,
    });
    expect(db.mls.publish(alice.key, device(1), kps.slice(15), T0)).toMatchObject({
      newDevice: false,
      held: MAX_KEY_PACKAGES_PER_DEVICE,
    });
    expect(db.mls.keyPackageCount(alice.key, device(1))).toBe(MAX_KEY_PACKAGES_PER_DEVICE);
    // The oldest went: a claim gets kp-5 first.
    const claimed = db.mls.claim('den', device(99), new Set(), T0, {
      maxDevices: 400,
      maxKeyPackages: 20,
    });
    expect(claimed.keyPackages.map((k) => k.kp)).toEqual(['kp-5']);
  });

  it('a key keeps 8 devices: a ninth retires the one seen longest ago, with its KeyPackages', () => {
    const db = den();
    for (let i = 1; i <= MAX_DEVICES_PER_KEY; i++) {
      db.mls.publish(bob.key, device(i), [`kp-of-${i}`], T0 + i);
    }
    const ninth = db.mls.publish(bob.key, device(9), ['kp-of-9'], T0 + 9);
    expect(ninth).toMatchObject({ newDevice: true, retired: [device(1)] });
    const claimed = db.mls.claim('den', device(99), new Set(), T0 + 10, {
      maxDevices: 400,
      maxKeyPackages: 20,
    });
    expect(claimed.devices.map((d) => d.device).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => device(i + 2)).sort(),
    );
    expect(db.mls.keyPackageCount(bob.key, device(1))).toBe(0);
  });

  it('a key in no encrypted room (anyone can make one) keeps one device with a few KeyPackages', () => {
    const db = den();
    const stranger = person(0x5e, 'stranger');
    const kps = Array.from({ length: 20 }, (_, i) => `kp-${i}`);
    expect(db.mls.publish(stranger.key, device(1), kps, T0).held).toBe(MAX_KEY_PACKAGES_OUTSIDE);
    expect(db.mls.publish(stranger.key, device(2), kps, T0 + 1)).toMatchObject({
      newDevice: true,
      retired: [device(1)],
    });
    expect(db.mls.keyPackageCount(stranger.key, device(1))).toBe(0);
    // Invited into an encrypted room, it gets the full allowance.
    db.rooms.addMember('den', stranger, 'member', T0 + 2);
    expect(db.mls.publish(stranger.key, device(3), kps, T0 + 3)).toMatchObject({
      retired: [],
      held: MAX_KEY_PACKAGES_PER_DEVICE,
    });
  });

  it('a claim leaves out unseen devices, non-members, the asker and what it has', () => {
    const db = den();
    const carol = person(0xc4, 'carol');
    db.mls.publish(alice.key, device(1), ['a1'], T0);
    db.mls.publish(bob.key, device(2), ['b1'], T0);
    db.mls.publish(bob.key, device(3), ['b-old'], T0 - DEVICE_RETIRE_MS - 1);
    db.mls.publish(carol.key, device(4), ['c1'], T0);
    const claimed = db.mls.claim('den', device(1), new Set([device(5)]), T0, {
      maxDevices: 400,
      maxKeyPackages: 20,
    });
    expect(claimed.devices.map((d) => d.device).sort()).toEqual([device(1), device(2)]);
    expect(claimed.keyPackages.map((k) => k.kp)).toEqual(['b1']);
    // Forgotten at start after 90 days unseen.
    expect(db.mls.retireUnseen(T0)).toBe(1);
  });
});

describe('Welcomes', () => {
  it('kept for members’ devices only, replaced by a newer one, dropped when the member leaves', () => {
    const db = den();
    db.mls.publish(bob.key, device(2), ['b1'], T0);
    const stranger = person(0xee, 'eve');
    db.mls.publish(stranger.key, device(7), ['e1'], T0);
    const [first] = db.appendMessages([
      commit(0, { welcome: 'welcome-one', to: [device(2), device(7), device(8)] }),
    ]);
    expect(first?.welcomes?.map((w) => w.device)).toEqual([device(2)]);
    expect(db.mls.welcome('den', bob.key, device(2))).toMatchObject({
      seq: first?.message.seq,
      data: 'welcome-one',
    });
    expect(db.mls.welcome('den', stranger.key, device(7))).toBeUndefined();
    const [second] = db.appendMessages([commit(1, { welcome: 'welcome-two', to: [device(2)] })]);
    expect(db.mls.welcome('den', bob.key, device(2))).toMatchObject({
      seq: second?.message.seq,
      data: 'welcome-two',
    });
    db.rooms.removeMember('den', bob, 'removed', alice, T0 + 1);
    expect(db.mls.welcome('den', bob.key, device(2))).toBeUndefined();
  });

  it('a restart keeps the epoch, the group and the Welcomes', () => {
    const db = den();
    db.mls.publish(bob.key, device(2), ['b1'], T0);
    db.appendMessages([commit(0, { welcome: 'kept', to: [device(2)] })]);
    db.close();
    const again = openDb();
    expect(again.rooms.room('den')).toMatchObject({ e2ee: true, mlsEpoch: 1, mlsGroupId: GROUP });
    expect(again.mls.welcome('den', bob.key, device(2))?.data).toBe('kept');
    expect(again.recentMessages('den', 10).find((m) => m.commit)?.commit?.epoch).toBe(0);
  });
});

describe('upgrading a version-2 database', () => {
  it('keeps every room plaintext, at epoch 0', () => {
    const raw = new DatabaseSync(fixture.file);
    for (const step of MIGRATIONS.slice(0, 2)) raw.exec(step);
    raw.exec('PRAGMA user_version = 2');
    raw.exec(
      `INSERT INTO rooms (name, message_count, kind, open, topic, created_at) VALUES ('old', 0, 'room', 0, '', ${T0})`,
    );
    raw.close();
    const db = openDb();
    expect(db.rooms.room('old')).toMatchObject({ e2ee: false, mlsEpoch: 0 });
    expect(db.rooms.room('old')?.mlsGroupId).toBeUndefined();
  });
});
