import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { inspectMessage } from '../../../src-main/e2ee/host-checks.ts';
import { E2eeError, RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import {
  commitAndDeliver,
  createRoom,
  keyPackageOf,
  member,
  members,
  read,
  say,
} from './e2ee-fixtures.ts';

describe('an MLS room group', () => {
  it('three members: the creator adds two, and everyone reads everyone', async () => {
    const [alice, bob, carol] = await Promise.all([
      member('alice'),
      member('bob'),
      member('carol'),
    ]);
    await createRoom(alice);
    expect(alice.group!.epoch).toBe(0);
    await commitAndDeliver(alice, { add: [bob, carol] }, []);
    for (const m of [alice, bob, carol]) expect(m.group!.epoch).toBe(1);
    expect(
      bob
        .group!.roster()
        .map((e) => e.parleyKey)
        .sort(),
    ).toEqual([alice, bob, carol].map((m) => encodeBase64Url(m.identity.publicKey)).sort());

    const fromAlice = await say(alice, 'hello both');
    expect(await read(bob, fromAlice)).toEqual({
      text: 'hello both',
      from: encodeBase64Url(alice.identity.publicKey),
    });
    expect((await read(carol, fromAlice)).text).toBe('hello both');
    const fromBob = await say(bob, 'hi alice');
    expect((await read(alice, fromBob)).text).toBe('hi alice');
    expect((await read(carol, fromBob)).from).toBe(encodeBase64Url(bob.identity.publicKey));
    const fromCarol = await say(carol, 'hey');
    expect((await read(alice, fromCarol)).text).toBe('hey');
    expect((await read(bob, fromCarol)).text).toBe('hey');
  });

  it('a member cannot process its own commit: it adopts its pending state', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    const before = alice.group!;
    const { commit } = await commitAndDeliver(alice, { add: [bob] }, []);
    await expect(alice.group!.process(commit)).rejects.toMatchObject({ reason: 'wrong-epoch' });
    await expect(before.process(commit)).rejects.toMatchObject({ reason: 'own-commit' });
    await expect(before.process(commit)).rejects.toBeInstanceOf(E2eeError);
  });
});

describe('a room group in the host’s order', () => {
  it('two commits at one epoch: the host takes one, the other side follows it and retries', async () => {
    const [alice, bob, carol, dave] = await members('alice', 'bob', 'carol', 'dave');
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    // Both prepare a commit at epoch 1; neither adopts before the host answers.
    const fromAlice = await alice.group!.prepareCommit({
      add: [await keyPackageOf(carol)],
      remove: [],
    });
    const fromBob = await bob.group!.prepareCommit({ add: [await keyPackageOf(dave)], remove: [] });
    expect(inspectMessage(fromAlice.commit)?.epoch).toBe(1);
    expect(inspectMessage(fromBob.commit)?.epoch).toBe(1);
    // The host accepts alice's (first to arrive): alice adopts, bob gets stale-epoch and drops his.
    alice.group = fromAlice.next;
    fromAlice.erase();
    const processed = await bob.group!.process(fromAlice.commit);
    bob.group = processed.next;
    carol.group = await RoomGroup.join(
      carol.suite,
      carol.device,
      carol.pins,
      carol.store,
      fromAlice.welcome!,
    );
    for (const m of [alice, bob, carol]) expect(m.group!.epoch).toBe(2);
    expect((await read(bob, await say(alice, 'converged'))).text).toBe('converged');
    expect((await read(alice, await say(bob, 'yes'))).text).toBe('yes');
    expect((await read(carol, await say(bob, 'welcome carol'))).text).toBe('welcome carol');
    // Bob's stale commit is of no use to anyone now.
    await expect(alice.group!.process(fromBob.commit)).rejects.toMatchObject({
      reason: 'wrong-epoch',
    });
    // Bob retries at the new epoch, and everyone follows.
    await commitAndDeliver(bob, { add: [dave] }, [alice, carol]);
    for (const m of [alice, bob, carol, dave]) expect(m.group!.epoch).toBe(3);
    const hello = await say(dave, 'hello all');
    for (const m of [alice, bob, carol]) expect((await read(m, hello)).text).toBe('hello all');
  });

  it('a device offline for five epochs applies the commits in order and reads on', async () => {
    const [alice, bob, dave] = await members('alice', 'bob', 'dave');
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob, dave] }, []);
    const missed: string[] = [];
    const guests = await Promise.all([1, 2, 3].map((i) => member(`guest${i}`)));
    // Five commits dave does not see: adds, a removal, an empty commit.
    missed.push((await commitAndDeliver(alice, { add: [guests[0]!] }, [bob])).commit);
    missed.push((await commitAndDeliver(bob, { add: [guests[1]!] }, [alice, guests[0]!])).commit);
    missed.push(
      (await commitAndDeliver(alice, { remove: [guests[0]!] }, [bob, guests[1]!])).commit,
    );
    missed.push((await commitAndDeliver(alice, { add: [guests[2]!] }, [bob, guests[1]!])).commit);
    missed.push((await commitAndDeliver(bob, {}, [alice, guests[1]!, guests[2]!])).commit);
    expect(alice.group!.epoch).toBe(6);
    const latest = await say(alice, 'are you back?');
    for (const commit of missed) {
      const processed = await dave.group!.process(commit);
      dave.group = processed.next;
    }
    expect(dave.group!.epoch).toBe(6);
    expect((await read(dave, latest)).text).toBe('are you back?');
    expect((await read(alice, await say(dave, 'I am'))).text).toBe('I am');
  });

  it('reads a message sent just before a commit it processed first (receive keys kept 4 epochs)', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    const late = await say(bob, 'sent at epoch 1');
    await commitAndDeliver(alice, {}, [bob]);
    await commitAndDeliver(alice, {}, [bob]);
    expect(alice.group!.epoch).toBe(3);
    expect((await read(alice, late)).text).toBe('sent at epoch 1');
  });

  it('survives encode and decode: the restored state reads and sends', async () => {
    const [alice, bob] = await Promise.all([member('alice'), member('bob')]);
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    const bytes = bob.group!.encode();
    bob.group = RoomGroup.decode(bob.suite, bob.device, bob.pins, bytes);
    expect(bob.group.epoch).toBe(1);
    expect(bob.group.roster()).toHaveLength(2);
    expect((await read(bob, await say(alice, 'after restart'))).text).toBe('after restart');
    expect((await read(alice, await say(bob, 'back'))).text).toBe('back');
    // Another device cannot load bob's state; damaged bytes are refused, not half-loaded.
    expect(() => RoomGroup.decode(alice.suite, alice.device, alice.pins, bytes)).toThrow(E2eeError);
    expect(() => RoomGroup.decode(bob.suite, bob.device, bob.pins, bytes.subarray(0, 200))).toThrow(
      E2eeError,
    );
    expect(() =>
      RoomGroup.decode(bob.suite, bob.device, bob.pins, new Uint8Array([9, 1, 2])),
    ).toThrow(E2eeError);
  });

  it('a Welcome for none of this device’s KeyPackages says no-key-package', async () => {
    const [alice, bob, carol] = await Promise.all([
      member('alice'),
      member('bob'),
      member('carol'),
    ]);
    await createRoom(alice);
    const { welcome } = await commitAndDeliver(alice, { add: [bob] }, []);
    await expect(
      RoomGroup.join(carol.suite, carol.device, carol.pins, carol.store, welcome!),
    ).rejects.toMatchObject({ reason: 'no-key-package' });
  });
});

describe('a device’s own items', () => {
  it('cannot read back its own message (its key is spent): the client skips it by id', async () => {
    const [alice, bob] = await members('alice', 'bob');
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob] }, []);
    const mine = await say(alice, 'mine');
    await expect(alice.group!.process(mine)).rejects.toMatchObject({ reason: 'replay' });
    expect((await read(bob, mine)).text).toBe('mine');
  });
});
