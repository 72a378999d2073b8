import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { openDevice } from '../../support/e2ee-device.ts';
import { groupKeys, startMember, untilGroupComplete } from '../../support/e2ee-members.ts';
import type { HostRewrite } from '../../support/e2ee-relay.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// Review (R1) of #16: a hostile host (a relay in front of alice, real host behind it) tells
// alice, after a restart, that her end-to-end encrypted room is a plaintext one (`joined`
// without an epoch, the room list without `e2ee`). Her device holds the room's group: it knows
// the room is encrypted, so what she types there must never leave in the clear.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';

function downgraded(m: HostMessage): HostMessage {
  if (m.t === 'joined' && m.room === ROOM) {
    const { epoch: _epoch, ...rest } = m;
    return rest;
  }
  if (m.t === 'rooms') {
    return { ...m, rooms: m.rooms.map((r) => (r.room === ROOM ? { ...r, e2ee: false } : r)) };
  }
  return m;
}

describe('review: a host that says an encrypted room is plaintext', () => {
  it('gets no plaintext of what is typed there after a restart', async () => {
    const h = await spawnE2eeHost(cleanups);
    const plan = { downgrade: false };
    const rewrite: HostRewrite = (m) => (plan.downgrade ? [downgraded(m)] : undefined);
    const aliceIdentity = newKeyPair();
    const aliceDevice = await openDevice(cleanups, aliceIdentity);
    const alice = await startMember(cleanups, h, {
      nick: 'alice',
      invite: h.ownerInvite,
      identity: aliceIdentity,
      session: aliceDevice.options,
      rewrite,
    });
    const bobIdentity = newKeyPair();
    const bob = await startMember(cleanups, h, {
      nick: 'bob',
      invite: h.memberInvite,
      identity: bobIdentity,
      session: (await openDevice(cleanups, bobIdentity)).options,
    });
    await untilGroupComplete([alice, bob], ROOM);
    await alice.s.stop();

    // alice starts again on her device; from now on the host lies about the room.
    plan.downgrade = true;
    const again = await startMember(cleanups, h, {
      nick: 'alice',
      identity: aliceIdentity,
      session: (await aliceDevice.reopen()).options,
      relay: alice.relay,
    });
    const secret = 'typed into an encrypted room after the restart';
    const before = alice.relay.fromClient.length;
    again.s.send(ROOM, secret);
    // Long enough for the outbox to send it (it would within a few ms, in the clear).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const leaked = alice.relay.fromClient.slice(before).filter((item) => item.includes(secret));
    expect(leaked).toEqual([]);
    // And the room is not shown to her as a plaintext one.
    expect(again.encryptionOf(ROOM)).not.toBe('not-encrypted');
    await until(() => again.s.state === 'connected', 'alice connected');
  }, 60_000);

  it('gets no plaintext from a device that restarted before its Welcome came', async () => {
    const h = await spawnE2eeHost(cleanups);
    const plan = { downgrade: false };
    // alice's Welcome never reaches her: she waits ('joining'), with no group stored.
    const rewrite: HostRewrite = (m) =>
      m.t === 'mls-welcome' ? [] : plan.downgrade ? [downgraded(m)] : undefined;
    const bobIdentity = newKeyPair();
    const bob = await startMember(cleanups, h, {
      nick: 'bob',
      invite: h.ownerInvite,
      identity: bobIdentity,
      session: (await openDevice(cleanups, bobIdentity)).options,
    });
    await until(() => bob.encryptionOf(ROOM) === 'encrypted', 'bob made the group');
    const aliceIdentity = newKeyPair();
    const aliceDevice = await openDevice(cleanups, aliceIdentity);
    const alice = await startMember(cleanups, h, {
      nick: 'alice',
      invite: h.memberInvite,
      identity: aliceIdentity,
      session: aliceDevice.options,
      rewrite,
    });
    await until(() => groupKeys(bob, ROOM).includes(alice.key), 'bob added alice');
    expect(alice.encryptionOf(ROOM)).toBe('joining');
    await alice.s.stop();

    plan.downgrade = true;
    const again = await startMember(cleanups, h, {
      nick: 'alice',
      identity: aliceIdentity,
      session: (await aliceDevice.reopen()).options,
      relay: alice.relay,
    });
    const secret = 'typed while waiting for the Welcome, after a restart';
    const before = alice.relay.fromClient.length;
    again.s.send(ROOM, secret);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(alice.relay.fromClient.slice(before).filter((item) => item.includes(secret))).toEqual(
      [],
    );
    expect(again.encryptionOf(ROOM)).not.toBe('not-encrypted');
  }, 60_000);
});
