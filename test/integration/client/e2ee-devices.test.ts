import { describe, expect, it } from 'vitest';
import { openDevice } from '../../support/e2ee-device.ts';
import { startMember, untilAllShow } from '../../support/e2ee-members.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// One person, two installs: the same identity.key on two machines, each with its own device
// (its own E2EE store, its own MLS leaf). Both read the room; the others see one member with
// two devices — not two members, and not one device hiding the other.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';

describe('a person with two installs in an end-to-end encrypted room', () => {
  it('reads the room on both devices; the others see one member key with two devices', async () => {
    const h = await spawnE2eeHost(cleanups);
    const owner = h.ownerInvite;

    const aliceId = newKeyPair();
    const aliceDevice = await openDevice(cleanups, aliceId);
    const alice = await startMember(cleanups, h, {
      nick: 'alice',
      invite: owner,
      identity: aliceId,
      session: aliceDevice.options,
    });
    const bobId = newKeyPair();
    const laptop = await openDevice(cleanups, bobId);
    const phone = await openDevice(cleanups, bobId);
    expect(laptop.device.deviceText).not.toBe(phone.device.deviceText);
    expect(laptop.device.personKey).toEqual(phone.device.personKey);
    const bob1 = await startMember(cleanups, h, {
      nick: 'bob',
      invite: h.memberInvite,
      identity: bobId,
      session: laptop.options,
    });
    // The second install is the same member: no invite needed, the room is listed for the key.
    const bob2 = await startMember(cleanups, h, {
      nick: 'bob',
      identity: bobId,
      session: phone.options,
    });
    const all = [alice, bob1, bob2];

    const hello = 'alice to both of bob';
    alice.s.send(ROOM, hello);
    await untilAllShow(all, alice, ROOM, hello, 30_000);
    for (const bob of [bob1, bob2]) {
      const shown = bob.shown(ROOM, hello)[0];
      expect(shown?.e2ee).toMatchObject({
        status: 'ok',
        device: aliceDevice.device.deviceText,
      });
    }
    // Each of bob's devices reads the other's lines too, and alice sees which device spoke.
    const fromLaptop = 'bob from the laptop';
    bob1.s.send(ROOM, fromLaptop);
    await untilAllShow(all, bob1, ROOM, fromLaptop, 30_000);
    expect(alice.shown(ROOM, fromLaptop)[0]?.e2ee).toMatchObject({
      status: 'ok',
      device: laptop.device.deviceText,
    });
    const fromPhone = 'bob from the phone';
    bob2.s.send(ROOM, fromPhone);
    await untilAllShow(all, bob2, ROOM, fromPhone, 30_000);
    expect(alice.shown(ROOM, fromPhone)[0]?.e2ee).toMatchObject({
      status: 'ok',
      device: phone.device.deviceText,
    });

    // alice's group: two members, bob's with both devices, under one person key.
    const latest = () => alice.devices.filter((d) => d.room === ROOM).at(-1)?.members ?? [];
    await until(
      () => latest().find((m) => m.key === bob1.key)?.devices.length === 2,
      "bob's two devices in alice's group",
    );
    expect(latest()).toHaveLength(2);
    const bobInGroup = latest().find((m) => m.key === bob1.key);
    expect([...(bobInGroup?.devices ?? [])].sort()).toEqual(
      [laptop.device.deviceText, phone.device.deviceText].sort(),
    );
    expect(bobInGroup?.keyChanged).toBe(false);
    // The host's member list still has one bob.
    expect(alice.s.members(ROOM).filter((m) => m.key === bob1.key)).toHaveLength(1);
  }, 60_000);
});
