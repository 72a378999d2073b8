import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../../src-shared/base64url.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import { WIRE_VERSION } from '../../../src-main/protocol/wire/messages.ts';
import {
  type Member,
  memberJoiner,
  untilAllShow,
  untilGroupComplete,
} from '../../support/e2ee-members.ts';
import { mlsOf } from '../../support/e2ee-wire.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { connectWireClient } from '../../support/wire-client.ts';

// Since wire v5 the host relays an end-to-end encrypted message without decoding it: it checks
// only the epoch the sender states. A member whose stated epoch lies (or whose ciphertext is
// junk) gets it stored and relayed — and every other member decrypts by the ciphertext's real
// header and shows it as failed. That lie costs its sender alone: nobody else's messages, group
// or session suffer.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';

describe('a member that states a false epoch', () => {
  it('has its messages stored, shown to everyone as failed, and the room goes on', async () => {
    const h = await spawnE2eeHost(cleanups);
    const join = memberJoiner(cleanups, h);
    const alice = await join('alice', h.ownerInvite);
    const bob = await join('bob', h.memberInvite);
    await untilGroupComplete([alice, bob], ROOM);
    const early = 'alice, at the first epoch';
    alice.s.send(ROOM, early);
    await untilAllShow([alice, bob], alice, ROOM, early, 30_000);
    const earlyId = bob.shown(ROOM, early)[0]?.id ?? '';
    const sealedEarlier = mlsOf([bob.relay], earlyId);
    expect(sealedEarlier).toBeDefined();

    // carol's add moves the group to a later epoch: alice's line above is now of an old one.
    const carol = await join('carol', h.memberInvite);
    const all: Member[] = [alice, bob, carol];
    await untilGroupComplete(all, ROOM);

    // mallory is a member with a device of her own (never in the group) and writes raw sends.
    const device = encodeBase64Url(new Uint8Array(randomBytes(32)));
    const mallory = await connectWireClient(h.port, h.publicKey, 'mallory', {
      hello: encodeMessage({ v: WIRE_VERSION, nick: 'mallory', software: 'test', device }),
    });
    cleanups.push(() => mallory.close());
    expect(await mallory.redeem(h.memberInvite)).toMatchObject({ t: 'redeemed' });
    await mallory.join(ROOM);
    const epoch = mallory.of('joined').find((j) => j.room === ROOM)?.epoch ?? 0;
    expect(epoch).toBeGreaterThan(1);

    const lies = [
      // A genuine ciphertext of an earlier epoch, stated to be of the current one.
      { id: 'mallory-lie-old-epoch', mls: sealedEarlier ?? '' },
      // Not MLS at all: the host can no longer tell, and need not.
      { id: 'mallory-lie-junk-0001', mls: encodeBase64Url(new Uint8Array(randomBytes(300))) },
    ];
    for (const lie of lies) {
      mallory.send({ t: 'send', room: ROOM, id: lie.id, mls: lie.mls, epoch });
      const ack = await mallory.waitFor('ack', (a) => a.id === lie.id);
      expect(ack.duplicate).toBeUndefined();
    }
    // The stated epoch is still checked: one that is not the room's is refused, nothing stored.
    mallory.send({ t: 'send', room: ROOM, id: 'mallory-wrong-epoch', mls: 'AAAAAAAA', epoch: 0 });
    const stale = await mallory.waitFor('error', (e) => e.ref === 'mallory-wrong-epoch');
    expect(stale).toMatchObject({ code: 'stale-epoch', epoch });

    for (const member of all) {
      for (const lie of lies) {
        await until(
          () => member.of('message').some((m) => m.id === lie.id),
          `${member.nick} shows ${lie.id}`,
        );
        const shown = member.of('message').filter((m) => m.id === lie.id);
        expect(shown, `${member.nick}: ${lie.id}`).toHaveLength(1);
        expect(shown[0]?.e2ee?.status, `${member.nick}: ${lie.id}`).toBe('failed');
        expect(shown[0]?.text).toBe('');
        // The fingerprint shown is derived from the key the host named (wire v5 sends none).
        expect(shown[0]?.key).toBe(mallory.keyText);
        expect(shown[0]?.fp).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
      }
      expect(member.of('message').some((m) => m.id === 'mallory-wrong-epoch')).toBe(false);
    }
    // Nothing of alice's earlier line was shown again as text.
    expect(carol.shown(ROOM, early)).toEqual([]);

    // The room goes on: everyone reads what comes next, on the same connections.
    for (const sender of all) {
      const text = `${sender.nick}, after the lies`;
      sender.s.send(ROOM, text);
      await untilAllShow(all, sender, ROOM, text, 30_000);
    }
    for (const member of all) {
      expect(member.s.state).toBe('connected');
      expect(member.relay.connections).toBe(1);
      expect(member.of('fatal')).toEqual([]);
      expect(member.encryptionOf(ROOM)).toBe('encrypted');
    }
  }, 90_000);
});
