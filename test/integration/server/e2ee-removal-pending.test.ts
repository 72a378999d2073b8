import { describe, expect, it } from 'vitest';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import type { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import type { HostOptions } from '../../../src-main/server/host.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import type { WireClient } from '../../support/wire-client.ts';
import { joinGroup, keyPackages, newGroup, newInstall } from './e2ee-kit.ts';
import { e2eeHostSetup } from './e2ee-host-setup.ts';

// The issue: "a removal, ban or leave → a commit that removes them, after which they cannot read
// anything sent", and "a new member reads from the moment they join". Until a member commits the
// change, the room's group still holds the leaver (or lacks the newcomer), and a member who has
// not yet seen the change would encrypt for that group. So from the change until the room's next
// accepted commit the host refuses MLS messages as stale-epoch (docs/protocol.md §12), and
// members send again after the commit. Real host, real TCP, real SQLite, real MLS.

const cleanups = cleanupsAfterEach();
const encode = (text: string) => new TextEncoder().encode(text);

const { host, connect, invite, aliceAndBob } = e2eeHostSetup(cleanups, 'parley-e2ee-removal-');

/** E2EE #lobby: alice (owner) and bob, both joined, in one group at epoch 1. */
async function lobbyWithBob(options: Partial<HostOptions> = {}) {
  const t = await aliceAndBob(options, 2);
  const { alice, bob, aliceInstall } = t;
  await alice.join('lobby');
  await bob.join('lobby');
  const claimed = await alice.request({ t: 'kp-claim', room: 'lobby', have: [] });
  if (claimed.t !== 'kps') throw new Error(JSON.stringify(claimed));
  const made = await (
    await newGroup(aliceInstall)
  ).prepareCommit({
    add: claimed.kps.map((kp) => kp.kp),
    remove: [],
  });
  const answer = await alice.request({
    t: 'commit',
    room: 'lobby',
    commit: made.commit,
    ...(made.welcome ? { welcome: made.welcome } : {}),
    to: made.to,
  });
  expect(answer).toMatchObject({ t: 'committed', epoch: 1 });
  made.erase();
  return { ...t, group: made.next };
}

let ids = 0;
const newId = () => `removal-msg-${String(++ids).padStart(6, '0')}`;

async function sendAndAnswer(
  c: WireClient,
  room: string,
  id: string,
  body: { mls: string; epoch: number } | { text: string },
) {
  c.send({ t: 'send', room, id, ...body });
  return Promise.race([
    c.waitFor('ack', (m) => m.id === id),
    c.waitFor('error', (m) => m.ref === id),
  ]);
}

/** Encrypts a line in `group` and sends it: the host's answer, and the group after. */
async function say(c: WireClient, group: RoomGroup, text: string, id = newId()) {
  const epoch = group.epoch;
  const { data, next } = await group.encrypt(encode(text));
  return {
    answer: await sendAndAnswer(c, 'lobby', id, { mls: data, epoch }),
    next,
    id,
    data,
    epoch,
  };
}

/** Alice commits bob's device out: the group after. */
async function removeBob(alice: WireClient, group: RoomGroup, bobDevice: string, epoch: number) {
  const made = await group.prepareCommit({ add: [], remove: [bobDevice] });
  const answer = await alice.request({ t: 'commit', room: 'lobby', commit: made.commit });
  expect(answer).toMatchObject({ t: 'committed', epoch });
  made.erase();
  return made.next;
}

function expectStale(answer: HostMessage, epoch: number): void {
  expect(answer).toMatchObject({ t: 'error', code: 'stale-epoch', epoch });
}

describe('a member leaving an encrypted room', () => {
  const leaves = {
    parts: (t: Awaited<ReturnType<typeof lobbyWithBob>>) =>
      t.bob.request({ t: 'part', room: 'lobby' }),
    'is removed': (t: Awaited<ReturnType<typeof lobbyWithBob>>) =>
      t.alice.request({ t: 'remove', room: 'lobby', key: t.bob.keyText, ban: false }),
    'is banned': (t: Awaited<ReturnType<typeof lobbyWithBob>>) =>
      t.alice.request({ t: 'remove', room: 'lobby', key: t.bob.keyText, ban: true }),
  };
  for (const [how, leave] of Object.entries(leaves)) {
    it(`${how}: nothing is taken at the epoch whose group still holds them until a commit, then it is`, async () => {
      const t = await lobbyWithBob();
      const before = await say(t.alice, t.group, 'before bob left');
      expect(before.answer).toMatchObject({ t: 'ack' });
      expect(await leave(t)).toMatchObject({ t: 'done' });

      // The group at epoch 1 still holds bob's device: refused, for the id, with the epoch.
      const after = await say(t.alice, before.next, 'after bob left');
      expectStale(after.answer, 1);
      expect(after.answer).toMatchObject({ ref: after.id });
      // A resend of what was stored before is still acknowledged as a duplicate.
      t.alice.send({
        t: 'send',
        room: 'lobby',
        id: before.id,
        mls: before.data,
        epoch: before.epoch,
      });
      expect(
        await t.alice.waitFor('ack', (m) => m.id === before.id && m.duplicate === true),
      ).toMatchObject({ seq: before.answer.t === 'ack' ? before.answer.seq : -1 });

      // The removal commit is accepted at epoch 1, and the line goes again at epoch 2 (a new id
      // here only because this test client's waitFor would find the old answer).
      const without = await removeBob(t.alice, after.next, t.bobInstall.device.deviceText, 2);
      const again = await say(t.alice, without, 'after bob left');
      expect(again.answer).toMatchObject({ t: 'ack' });
    });
  }

  it('the room still waits for the commit after a restart', async () => {
    const t = await lobbyWithBob();
    expect(await t.bob.request({ t: 'part', room: 'lobby' })).toMatchObject({ t: 'done' });
    t.alice.close();
    t.bob.close();
    await t.stop();

    const again = await host({ dataDir: t.dataDir });
    const alice = await connect(again.h, 'alice', t.aliceInstall);
    await alice.join('lobby');
    const after = await say(alice, t.group, 'after the restart');
    expectStale(after.answer, 1);
    const without = await removeBob(alice, after.next, t.bobInstall.device.deviceText, 2);
    const last = await say(alice, without, 'after the restart');
    expect(last.answer).toMatchObject({ t: 'ack' });
  });

  it('a plaintext room is not held: text is taken right after a member parts', async () => {
    const t = await lobbyWithBob();
    expect(await t.alice.request({ t: 'create', room: 'square', open: true })).toMatchObject({
      t: 'room',
    });
    await t.alice.join('square');
    await t.bob.join('square');
    expect(await t.bob.request({ t: 'part', room: 'square' })).toMatchObject({ t: 'done' });
    const answer = await sendAndAnswer(t.alice, 'square', newId(), { text: 'still here' });
    expect(answer).toMatchObject({ t: 'ack' });
    // Nor is the encrypted room, which nobody left.
    expect((await say(t.alice, t.group, 'in the lobby')).answer).toMatchObject({ t: 'ack' });
  });
});

/** Alice claims what the host offers for devices not in `have` and commits their add. */
async function addDevices(alice: WireClient, group: RoomGroup, have: string[], epoch: number) {
  const claimed = await alice.request({ t: 'kp-claim', room: 'lobby', have });
  if (claimed.t !== 'kps') throw new Error(JSON.stringify(claimed));
  expect(claimed.kps.length).toBeGreaterThan(0);
  const made = await group.prepareCommit({ add: claimed.kps.map((kp) => kp.kp), remove: [] });
  const answer = await alice.request({
    t: 'commit',
    room: 'lobby',
    commit: made.commit,
    ...(made.welcome ? { welcome: made.welcome } : {}),
    to: made.to,
  });
  expect(answer).toMatchObject({ t: 'committed', epoch });
  made.erase();
  return made.next;
}

/** The text of the `msg` with `id` that `c` was relayed, read with `group`. */
async function read(c: WireClient, group: RoomGroup, id: string): Promise<string> {
  const relayed = await c.waitFor('msg', (m) => m.id === id);
  if (relayed.mls === undefined) throw new Error('not an MLS message');
  const processed = await group.process(relayed.mls);
  if (processed.kind !== 'application') throw new Error(processed.kind);
  return new TextDecoder().decode(processed.payload);
}

describe('a member joining an encrypted room', () => {
  it('by an invite: nothing is taken at the epoch whose group lacks them until the add, so they read the line', async () => {
    const t = await lobbyWithBob();
    const carolInstall = await newInstall();
    const carol = await connect(t.h, 'carol', carolInstall);
    // Carol's client leaves KeyPackages before redeeming (her device is live).
    const kps = await keyPackages(carolInstall, 2);
    expect(await carol.request({ t: 'kp-publish', kps })).toMatchObject({ t: 'done' });
    expect(await carol.redeem(invite(t.h, 'member'))).toMatchObject({ t: 'redeemed' });

    // Alice has not seen carol's `joined` yet: her line sealed at epoch 1 lacks carol.
    const early = await say(t.alice, t.group, 'said the moment carol joined');
    expectStale(early.answer, 1);
    expect(early.answer).toMatchObject({ ref: early.id });

    // The add is committed; the line goes again at epoch 2 and carol reads it.
    const have = [t.aliceInstall.device.deviceText, t.bobInstall.device.deviceText];
    const withCarol = await addDevices(t.alice, early.next, have, 2);
    await carol.join('lobby');
    const welcome = await carol.waitFor('mls-welcome', (m) => m.room === 'lobby');
    const carolGroup = await joinGroup(carolInstall, welcome.data);
    const again = await say(t.alice, withCarol, 'said the moment carol joined');
    expect(again.answer).toMatchObject({ t: 'ack' });
    expect(await read(carol, carolGroup, again.id)).toBe('said the moment carol joined');
  });

  it("a member's new device: the room waits for the commit that adds it, which then reads", async () => {
    const t = await lobbyWithBob();
    // Bob's second install: the same Parley key, another device.
    const bobLaptop = await newInstall(t.bobInstall.keyPair);
    const laptop = await connect(t.h, 'bob', bobLaptop);
    const kps = await keyPackages(bobLaptop, 2);
    expect(await laptop.request({ t: 'kp-publish', kps })).toMatchObject({ t: 'done' });
    await t.alice.waitFor('devices', (m) => m.room === 'lobby');

    const early = await say(t.alice, t.group, 'to both of bob');
    expectStale(early.answer, 1);

    const have = [t.aliceInstall.device.deviceText, t.bobInstall.device.deviceText];
    const withLaptop = await addDevices(t.alice, early.next, have, 2);
    await laptop.join('lobby');
    const welcome = await laptop.waitFor('mls-welcome', (m) => m.room === 'lobby');
    const laptopGroup = await joinGroup(bobLaptop, welcome.data);
    const again = await say(t.alice, withLaptop, 'to both of bob');
    expect(again.answer).toMatchObject({ t: 'ack' });
    expect(await read(laptop, laptopGroup, again.id)).toBe('to both of bob');

    // More KeyPackages of a device the host knows add nobody: nothing waits.
    const more = await keyPackages(bobLaptop, 1);
    expect(await laptop.request({ t: 'kp-publish', kps: more })).toMatchObject({ t: 'done' });
    expect((await say(t.alice, again.next, 'still here')).answer).toMatchObject({ t: 'ack' });
  });

  it('with no device yet: the room is not held for a key nobody can add', async () => {
    const t = await lobbyWithBob();
    const carol = await connect(t.h, 'carol', await newInstall());
    expect(await carol.redeem(invite(t.h, 'member'))).toMatchObject({ t: 'redeemed' });
    expect((await say(t.alice, t.group, 'carol has no device')).answer).toMatchObject({
      t: 'ack',
    });
  });
});
