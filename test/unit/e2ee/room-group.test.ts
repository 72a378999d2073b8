import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { E2eeError } from '../../../src-main/e2ee/room-group.ts';
import { commitAndDeliver, createRoom, member, read, say } from './e2ee-fixtures.ts';

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
