import { describe, expect, it } from 'vitest';
import { startHost } from '../../../src-main/server/host.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { HostModel, PRIVATE_ROOM } from '../../support/host-model/model.ts';
import { removedSendRefusals } from '../../support/host-model/membership-commands.ts';

// A send of a key just removed from a room the owner had opened: the host reads it after the
// removal, so it is a send to a room the key may still see but is not in — `not-in-room`
// (docs/protocol.md §13's send checks), not the `unknown-room` of a send still waiting for the
// removal's commit (§11). The host model once knew only the latter and failed the model test
// whenever the host read the removed key's send after the removal (PARLEY_FUZZ_SEED=1577810395).
// Banned, the key may not see the open room: `unknown-room`.

const cleanups = cleanupsAfterEach();

async function client(port: number, publicKey: Uint8Array, nick: string): Promise<WireClient> {
  const c = await connectWireClient(port, publicKey, nick);
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  await c.waitFor('rooms');
  return c;
}

/** Bob sends to the room and resolves with the host's refusal. */
async function refusal(bob: WireClient, id: string): Promise<string> {
  bob.send({ t: 'send', room: PRIVATE_ROOM, id, text: 'still here?' });
  return (await bob.waitFor('error', (e) => e.ref === id)).code;
}

describe('a send of a key removed from an open room', () => {
  it('is refused not-in-room, or unknown-room once banned, and the host model accepts both', async () => {
    const h = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: [PRIVATE_ROOM],
      dataDir: cleanups.tempDir('parley-removed-send-'),
    });
    cleanups.push(() => h.stop());
    const link = (role: string) => h.startInvites.find((i) => i.role === role)?.link ?? '';
    const alice = await client(h.address.port, h.publicKey, 'alice');
    const bob = await client(h.address.port, h.publicKey, 'bob');
    expect(await alice.redeem(link('owner'))).toMatchObject({ t: 'redeemed', role: 'owner' });
    expect(await bob.redeem(link('member'))).toMatchObject({ t: 'redeemed', role: 'member' });
    expect(await alice.request({ t: 'set-open', room: PRIVATE_ROOM, open: true })).toMatchObject({
      t: 'done',
    });
    await bob.join(PRIVATE_ROOM);
    // The model in the same state: alice (key 0) owns the opened room, bob (key 1) was removed.
    const model = new HostModel();
    model.privateRoomOpen = true;
    model.roles.set(0, 'owner');

    const remove = { t: 'remove', room: PRIVATE_ROOM, key: bob.keyText } as const;
    expect(await alice.request({ ...remove, ban: false })).toMatchObject({ t: 'done' });
    await bob.waitFor('removed');
    const removed = await refusal(bob, 'removed-send-1');
    expect(removed).toBe('not-in-room');
    expect(removedSendRefusals(model, 1)).toContain(removed);

    expect(await alice.request({ ...remove, ban: true })).toMatchObject({ t: 'done' });
    model.bans.add(1);
    const banned = await refusal(bob, 'removed-send-2');
    expect(banned).toBe('unknown-room');
    expect(removedSendRefusals(model, 1)).toContain(banned);
    expect(removedSendRefusals(model, 1)).not.toContain('not-in-room');
  });
});
