import { describe, expect, it } from 'vitest';
import {
  E2eeError,
  RoomGroup,
  groupIdIsFor,
  roomGroupId,
} from '../../../src-main/e2ee/room-group.ts';
import { keyPackageOf, member } from './e2ee-fixtures.ts';

// Review (R1) of #16: a group is bound to its room, so a host cannot hand a member one room's
// Welcome (and with it that room's lines) in another room.

describe('review: a room group bound to its room', () => {
  it('refuses a Welcome whose group was made for another room, and keeps the KeyPackage', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    const group = await RoomGroup.create(
      alice.suite,
      alice.device,
      alice.pins,
      roomGroupId('lobby'),
    );
    const prepared = await group.prepareCommit({ add: [await keyPackageOf(bob)], remove: [] });
    const welcome = prepared.welcome ?? '';
    // A second KeyPackage held, so the one the Welcome used would be consumed by a join.
    await keyPackageOf(bob);
    const held = (await bob.store.list('kp/')).length;

    const wrong = RoomGroup.join(bob.suite, bob.device, bob.pins, bob.store, welcome, 'work');
    await expect(wrong).rejects.toBeInstanceOf(E2eeError);
    await expect(wrong).rejects.toMatchObject({ reason: 'wrong-group' });
    expect((await bob.store.list('kp/')).length).toBe(held);

    const right = await RoomGroup.join(
      bob.suite,
      bob.device,
      bob.pins,
      bob.store,
      welcome,
      'lobby',
    );
    expect(right.groupId).toEqual(group.groupId);
  });

  it('a random (unbound) group id is for no room', async () => {
    expect(groupIdIsFor(new Uint8Array(32), 'lobby')).toBe(false);
    const id = roomGroupId('lobby');
    expect(id.length).toBe(32);
    expect(groupIdIsFor(id, 'lobby')).toBe(true);
    expect(groupIdIsFor(id, 'lobby2')).toBe(false);
    expect(groupIdIsFor(roomGroupId('lobby'), 'lobby')).toBe(true);
    expect(roomGroupId('lobby')).not.toEqual(id); // a fresh nonce each time
  });
});
