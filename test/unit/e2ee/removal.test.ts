import { describe, expect, it } from 'vitest';
import { decodeBase64Url } from '../../../src-shared/base64url.ts';
import { decodeMlsMessage } from 'ts-mls';
import { commitAndDeliver, createRoom, member, members, read, say } from './e2ee-fixtures.ts';

function updatePathOf(commit: string): unknown {
  const [message] = decodeMlsMessage(decodeBase64Url(commit)!, 0)!;
  if (message.wireformat !== 'mls_public_message') throw new Error('not a public message');
  const content = message.publicMessage.content;
  if (content.contentType !== 'commit') throw new Error('not a commit');
  return content.commit.path;
}

describe('removing a device from a room', () => {
  it('locks the removed device out of the new epoch: old state can neither read nor follow', async () => {
    const [alice, bob, carol] = await Promise.all([
      member('alice'),
      member('bob'),
      member('carol'),
    ]);
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob, carol] }, []);
    const carolBefore = carol.group!;
    expect((await read(carol, await say(alice, 'before'))).text).toBe('before');

    const { commit } = await commitAndDeliver(alice, { remove: [carol] }, [bob]);
    // The remove commit carries an UpdatePath: fresh secrets the removed leaf cannot decrypt.
    expect(updatePathOf(commit)).toBeDefined();
    expect(alice.group!.epoch).toBe(2);
    expect(bob.group!.roster().map((e) => e.device)).not.toContain(carol.device.deviceText);

    const secret = await say(alice, 'after carol left');
    expect((await read(bob, secret)).text).toBe('after carol left');
    // Carol's state from before the removal, against the new epoch's ciphertext.
    await expect(carolBefore.process(secret)).rejects.toMatchObject({ reason: 'wrong-epoch' });
    await expect(carol.group!.process(secret)).rejects.toMatchObject({ reason: 'wrong-epoch' });

    // Processing the commit tells carol she is out, and leaves her without the new epoch.
    const processed = await carolBefore.process(commit);
    expect(processed.kind).toBe('commit');
    if (processed.kind !== 'commit') return;
    expect(processed.removed.map((e) => e.device)).toEqual([carol.device.deviceText]);
    expect(processed.next.active).toBe(false);
    expect(processed.next.epoch).toBe(1);
    await expect(processed.next.process(secret)).rejects.toMatchObject({ reason: 'not-in-group' });
    await expect(processed.next.encrypt(new Uint8Array([1]))).rejects.toMatchObject({
      reason: 'not-in-group',
    });
  });

  it('gives every commit that removes an UpdatePath, also one that adds at the same time', async () => {
    const [alice, bob, carol, dave] = await members('alice', 'bob', 'carol', 'dave');
    await createRoom(alice);
    await commitAndDeliver(alice, { add: [bob, carol] }, []);
    const { commit } = await commitAndDeliver(alice, { remove: [carol], add: [dave] }, [bob]);
    expect(updatePathOf(commit)).toBeDefined();
    // Bob removes one more: the committer need not be the group's creator.
    const removeByBob = await commitAndDeliver(bob, { remove: [dave] }, [alice]);
    expect(updatePathOf(removeByBob.commit)).toBeDefined();
    expect((await read(alice, await say(bob, 'two of us'))).text).toBe('two of us');
  });
});
