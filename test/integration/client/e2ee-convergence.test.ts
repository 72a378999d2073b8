import { describe, expect, it } from 'vitest';
import { type TestDevice, openDevice } from '../../support/e2ee-device.ts';
import {
  type Member,
  type MemberOptions,
  startMember,
  untilAllShow,
  untilGroupComplete,
} from '../../support/e2ee-members.ts';
import { type E2eeHost, spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// The host orders the commits of a room's group; members that commit at the same moment must
// still end in one group (the loser of the race gets stale-epoch and follows the winner), and a
// member that was away while the group moved on several epochs catches up from the host's
// history when it comes back — reading from the moment it was added, never before.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';

async function e2eeHost(): Promise<E2eeHost> {
  return spawnE2eeHost(cleanups);
}

interface Install {
  member: Member;
  device: TestDevice;
}

async function install(
  h: E2eeHost,
  nick: string,
  invite: string | undefined,
  more: Partial<MemberOptions> = {},
): Promise<Install> {
  const identity = more.identity ?? newKeyPair();
  const device = await openDevice(cleanups, identity);
  const member = await startMember(cleanups, h, {
    nick,
    identity,
    ...(invite ? { invite } : {}),
    ...more,
    session: { ...device.options, ...more.session },
  });
  return { member, device };
}

/** Once the group holds them all, each says a line; every other member reads each, decrypted. */
async function everyoneReadsEveryone(members: readonly Member[], tag: string): Promise<void> {
  await untilGroupComplete(members, ROOM);
  const lines = members.map((m) => `${tag}: ${m.nick} speaking`);
  members.forEach((m, i) => m.s.send(ROOM, lines[i] ?? ''));
  for (const [i, line] of lines.entries()) {
    await untilAllShow(members, members[i] as Member, ROOM, line, 30_000);
  }
  for (const reader of members) {
    for (const line of lines) {
      for (const m of reader.shown(ROOM, line)) expect(m.e2ee).toMatchObject({ status: 'ok' });
    }
  }
}

describe('one group for everyone, whatever the timing', () => {
  it('two members joining at once while two are reconciling end in one group', async () => {
    const h = await e2eeHost();
    const owner = h.ownerInvite;
    // alice and bob hear of others' commits 800 ms late: both commit before seeing the other's.
    const slowCommits = { delayMs: (m: { t: string }) => (m.t === 'commit' ? 800 : 0) };
    const alice = await install(h, 'alice', owner, slowCommits);
    const bob = await install(h, 'bob', h.memberInvite, slowCommits);
    await everyoneReadsEveryone([alice.member, bob.member], 'two');
    // carol and dave redeem at the same moment: alice's and bob's reconciles both want to
    // commit (each add, maybe both at once): the host takes one commit per epoch.
    const [carol, dave] = await Promise.all([
      install(h, 'carol', h.memberInvite),
      install(h, 'dave', h.memberInvite),
    ]);
    const four = [alice.member, bob.member, carol.member, dave.member];
    await everyoneReadsEveryone(four, 'four');
    // Every member's roster ends the same: four people, one device each.
    await until(
      () =>
        four.every(
          (m) => (m.devices.filter((d) => d.room === ROOM).at(-1)?.members.length ?? 0) === 4,
        ),
      'every roster at four members',
    );
    const rosters = four.map((m) =>
      (m.devices.filter((d) => d.room === ROOM).at(-1)?.members ?? [])
        .map((g) => `${g.key}:${[...g.devices].sort().join(',')}`)
        .sort(),
    );
    for (const roster of rosters) expect(roster).toEqual(rosters[0]);
    // The race did happen: a commit was refused as stale, and its maker followed the winner.
    const stale = [alice.member, bob.member].flatMap((m) =>
      m.relay.fromHostParsed.filter((i) => i.t === 'error' && i.code === 'stale-epoch'),
    );
    expect(stale.length).toBeGreaterThan(0);
    for (const m of four) expect(m.of('error').filter((e) => e.code === 'e2ee-failed')).toEqual([]);
    for (const m of four) expect(m.encryptionOf(ROOM)).toBe('encrypted');
  }, 60_000);

  it('two members creating the group at once: the loser follows the winner, nothing breaks', async () => {
    const h = await e2eeHost();
    // Both join a room with no group yet; each creates one and commits it at epoch 0. They hear
    // of the other's commit late, so both commits reach the host: one wins.
    const slowCommits = { delayMs: (m: { t: string }) => (m.t === 'commit' ? 800 : 0) };
    const [alice, bob] = await Promise.all([
      install(h, 'alice', h.ownerInvite, slowCommits),
      install(h, 'bob', h.memberInvite, slowCommits),
    ]);
    await everyoneReadsEveryone([alice.member, bob.member], 'created');
    for (const m of [alice.member, bob.member]) {
      expect(m.encryption.filter((e) => e.room === ROOM).map((e) => e.state)).not.toContain(
        'broken',
      );
      expect(m.relay.connections).toBe(1);
    }
  }, 60_000);

  it('a member away across several epochs catches up, reading from when it was added only', async () => {
    const h = await e2eeHost();
    const owner = h.ownerInvite;
    const alice = await install(h, 'alice', owner);
    const bob = await install(h, 'bob', h.memberInvite);
    await everyoneReadsEveryone([alice.member, bob.member], 'pair');
    const before = 'said before erin was added';
    alice.member.s.send(ROOM, before);
    await untilAllShow([alice.member, bob.member], alice.member, ROOM, before, 30_000);
    const erin = await install(h, 'erin', h.memberInvite);
    await everyoneReadsEveryone([alice.member, bob.member, erin.member], 'three');
    // erin was added after `before` was said: she gets it in the history replay, encrypted for
    // an epoch she was never in, and must not show its text.
    expect(erin.member.of('message').some((m) => m.text === before)).toBe(false);

    // erin goes away; the group moves on: frank added, bob removed, grace added.
    await erin.member.s.stop();
    const erinDevice = await erin.device.reopen();
    const frank = await install(h, 'frank', h.memberInvite);
    await everyoneReadsEveryone([alice.member, frank.member], 'frank in');
    await alice.member.s.remove(ROOM, bob.member.key);
    const grace = await install(h, 'grace', h.memberInvite);
    await untilGroupComplete([alice.member, frank.member, grace.member], ROOM);
    const whileAway = 'said while erin was away';
    alice.member.s.send(ROOM, whileAway);
    await untilAllShow(
      [alice.member, frank.member, grace.member],
      alice.member,
      ROOM,
      whileAway,
      30_000,
    );

    // erin comes back with the same identity and device store, through the same relay.
    const back = await startMember(cleanups, h, {
      nick: 'erin',
      identity: erin.member.identity,
      relay: erin.member.relay,
      session: erinDevice.options,
    });
    await until(
      () => back.shown(ROOM, whileAway).length > 0,
      'erin reads what was said while away',
      30_000,
    );
    expect(back.shown(ROOM, whileAway)[0]?.e2ee).toMatchObject({ status: 'ok' });
    await everyoneReadsEveryone([alice.member, frank.member, grace.member, back], 'back');
    expect(back.of('message').some((m) => m.text === before)).toBe(false);
    // Who joined later never read what was said before they were added.
    for (const m of [frank.member, grace.member]) {
      expect(
        m.of('message').some((x) => x.text === before || x.text === 'three: erin speaking'),
      ).toBe(false);
    }
    expect(grace.member.of('message').some((x) => x.text === 'frank in: alice speaking')).toBe(
      false,
    );
    // Nor are they shown a wall of "could not be decrypted" for it: lines never sealed for
    // them are not shown at all.
    for (const m of [frank.member, grace.member, back]) {
      expect(m.of('message').filter((x) => x.e2ee?.status === 'failed')).toEqual([]);
    }
  }, 60_000);
  // Senders may not have seen carol's `joined` event when they send: the host holds MLS sends
  // after a join until the add is committed (as after a removal), so the lines wait for her.
  it('a line said the moment a member joined reaches that member', async () => {
    const h = await e2eeHost();
    const alice = await install(h, 'alice', h.ownerInvite);
    const bob = await install(h, 'bob', h.memberInvite);
    await everyoneReadsEveryone([alice.member, bob.member], 'pair');
    const carol = await install(h, 'carol', h.memberInvite);
    // alice and bob speak as soon as carol's join is in: their clients hold the lines until
    // carol's device is in the group, so she reads them.
    const fromAlice = 'alice, the moment carol joined';
    const fromBob = 'bob, the moment carol joined';
    alice.member.s.send(ROOM, fromAlice);
    bob.member.s.send(ROOM, fromBob);
    const three = [alice.member, bob.member, carol.member];
    await untilAllShow(three, alice.member, ROOM, fromAlice, 30_000);
    await untilAllShow(three, bob.member, ROOM, fromBob, 30_000);
    // What carol cannot read is only what was said before she was added (the replayed history).
    const pairIds = new Set(
      [alice.member, bob.member].flatMap((m) =>
        m
          .of('message')
          .filter((x) => x.text.startsWith('pair: '))
          .map((x) => x.id),
      ),
    );
    const failed = carol.member.of('message').filter((m) => m.e2ee?.status === 'failed');
    expect(failed.filter((m) => !pairIds.has(m.id))).toEqual([]);
    for (const m of failed) expect(m.history).toBe(true);
  }, 60_000);
});
