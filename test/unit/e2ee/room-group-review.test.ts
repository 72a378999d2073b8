import { describe, expect, it } from 'vitest';
import {
  E2eeError,
  RoomGroup,
  groupIdIsFor,
  roomGroupId,
} from '../../../src-main/e2ee/room-group.ts';
import { decodeGroupState, encodeGroupState } from 'ts-mls';
import { deviceFrom } from '../../../src-main/e2ee/device-identity.ts';
import { nodeBackend } from '../../../src-main/protocol/crypto/node-backend.ts';
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

describe('review: a committer keeps its identity', () => {
  it("refuses a commit whose sender's own leaf now names another Parley key", async () => {
    const alice = await member('alice');
    const carol = await member('carol');
    // bob, with a device seed the test knows, so it can make his lie.
    const bobIdentity = nodeBackend.generateKeyPair();
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const bob = { ...(await member('bob', { identity: bobIdentity })) };
    const bobDevice = deviceFrom(bobIdentity, seed);
    const bobMember = { ...bob, device: bobDevice };
    const group = await RoomGroup.create(alice.suite, alice.device, alice.pins, roomGroupId('r'));
    const prepared = await group.prepareCommit({
      add: [await keyPackageOf(bobMember), await keyPackageOf(carol)],
      remove: [],
    });
    const aliceGroup = prepared.next;
    prepared.erase();
    const bobGroup = await RoomGroup.join(
      bob.suite,
      bobDevice,
      bob.pins,
      bobMember.store,
      prepared.welcome ?? '',
    );
    // bob's client rewrites its own leaf's credential: "this device is alice's", vouched for by
    // bob's own person key (a self-consistent credential), then commits (removing carol).
    const forged = deviceFrom(
      { publicKey: alice.identity.publicKey, privateKey: bobIdentity.privateKey },
      seed,
    ).credential;
    const bytes = bobGroup.encode();
    const [state] = decodeGroupState(bytes, 1) ?? [];
    if (!state) throw new Error('no state');
    const own = state.ratchetTree[state.privatePath.leafIndex * 2];
    if (own?.nodeType !== 'leaf') throw new Error('no own leaf');
    const tree = [...state.ratchetTree];
    tree[state.privatePath.leafIndex * 2] = {
      ...own,
      leaf: { ...own.leaf, credential: { credentialType: 'basic', identity: forged } },
    };
    const body = encodeGroupState({ ...state, ratchetTree: tree });
    const lying = RoomGroup.decode(bob.suite, bobDevice, bob.pins, new Uint8Array([1, ...body]));
    const commit = await lying.prepareCommit({ add: [], remove: [carol.device.deviceText] });

    const processed = aliceGroup.process(commit.commit);
    await expect(processed).rejects.toBeInstanceOf(E2eeError);
  });
});
