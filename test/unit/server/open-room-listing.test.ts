import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import type { PersonRecord } from '../../../src-main/server/room-store.ts';
import { RoomInfo } from '../../../src-main/protocol/wire/messages.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';

// A welcome lists the open rooms a key may see; their entries are written as JSON text by SQLite
// (RoomStore.openRoomListingFor) so that a reconnect storm on a host with many open rooms builds no
// object per room. The text must say exactly what the object form says, whatever a topic holds.

const person = (fill: number, nick: string): PersonRecord => ({
  key: new Uint8Array(32).fill(fill),
  nick,
});
const alice = person(0xa1, 'alice');
const bob = person(0xb0, 'bob');
const T0 = 1_700_000_000_000;

const cleanups = cleanupsAfterEach();
let db: HostDatabase;

beforeEach(() => {
  db = HostDatabase.open(path.join(cleanups.tempDir('parley-listing-'), 'host.db'));
  cleanups.push(() => db.close());
});

function listing(key: Uint8Array): unknown[] {
  const { count, json } = db.rooms.openRoomListingFor(key);
  const entries = JSON.parse(`[${json}]`) as unknown[];
  expect(entries).toHaveLength(count);
  for (const entry of entries) expect(RoomInfo.safeParse(entry).success).toBe(true);
  return entries;
}

describe('the open-room listing text', () => {
  it('names each open room with its topic, in name order, as the object form does', () => {
    const topics = [
      '',
      'quotes " and \\ backslashes',
      'tabs\tand\nnew lines',
      'ünïcödé, emoji 🎉, and </script>',
      'control \u0001 and \u2028 separators',
    ];
    topics.forEach((topic, i) =>
      db.rooms.createRoom(
        { name: `r${topics.length - i}`, kind: 'room', open: true, topic },
        [{ ...alice, role: 'owner' }],
        alice,
        T0,
      ),
    );
    db.rooms.createRoom(
      { name: 'private', kind: 'room', open: false, e2ee: true },
      [{ ...alice, role: 'owner' }],
      alice,
      T0,
    );
    const expected = db.rooms.openRoomsFor(bob.key).map((room) => ({
      room: room.name,
      kind: 'room',
      open: true,
      ...(room.topic ? { topic: room.topic } : {}),
    }));
    expect(expected).toHaveLength(topics.length);
    expect(listing(bob.key)).toEqual(expected);
    expect(listing(bob.key).map((entry) => (entry as { room: string }).room)).toEqual([
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
    ]);
  });

  it('leaves out the rooms the key is banned from or already in', () => {
    for (const name of ['a', 'b', 'c']) {
      db.rooms.createRoom(
        { name, kind: 'room', open: true },
        [{ ...alice, role: 'owner' }],
        alice,
        T0,
      );
    }
    db.rooms.addMember('b', bob, 'member', T0);
    db.rooms.removeMember('c', bob, 'banned', alice, T0);
    expect(listing(bob.key)).toEqual([{ room: 'a', kind: 'room', open: true }]);
    // Alice is in all three: nothing is left to offer her.
    expect(db.rooms.openRoomListingFor(alice.key)).toEqual({ count: 0, json: '' });
  });
});
