import { describe, expect, it } from 'vitest';
import { RoomGroup } from '../../../src-main/e2ee/room-group.ts';
import { loadSuite } from '../../../src-main/e2ee/mls-suite.ts';
import { type TestDevice, openDevice } from '../../support/e2ee-device.ts';
import { startMember, untilAllShow, untilGroupComplete } from '../../support/e2ee-members.ts';
import { decodeGroupRecord } from '../../../src-main/client/e2ee/group-record.ts';
import { type SeenCommit, commitsSeen, mlsOf } from '../../support/e2ee-wire.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { cleanupsAfterEach, sleep, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// A member who leaves an end-to-end encrypted room — removed, banned, or parting — cannot read
// what is said after: the client shows nothing, and the group state it kept (an attacker's copy
// of its store) opens neither the new messages nor, after the commits that removed it, anything.
// The others go on at once: the first line after the removal reaches them.

const cleanups = cleanupsAfterEach();
const ROOM = 'lobby';

async function room() {
  const h = await spawnE2eeHost(cleanups);
  const join = async (nick: string, invite: string) => {
    const identity = newKeyPair();
    const device = await openDevice(cleanups, identity);
    const member = await startMember(cleanups, h, {
      nick,
      invite,
      identity,
      session: device.options,
    });
    return { member, device };
  };
  const alice = await join('alice', h.ownerInvite);
  const bob = await join('bob', h.memberInvite);
  const carol = await join('carol', h.memberInvite);
  const dave = await join('dave', h.memberInvite);
  const all = [alice.member, bob.member, carol.member, dave.member];
  await untilGroupComplete(all, ROOM);
  // Everyone in the group: each reads a line of each other.
  for (const m of all) {
    const text = `hello from ${m.nick}`;
    m.s.send(ROOM, text);
    await untilAllShow(all, m, ROOM, text, 30_000);
  }
  return { h, alice, bob, carol, dave };
}

/**
 * The room's group states in a device's store, by name (`group/<host>/<room>`: what the client
 * last saved, and what a thief of the device's files and at-rest key would have).
 */
async function savedGroups(device: TestDevice): Promise<Map<string, Uint8Array>> {
  const states = new Map<string, Uint8Array>();
  for (const name of await device.store.list('group/')) {
    if (!name.endsWith(`/${ROOM}`)) continue;
    const bytes = await device.store.get(name);
    const record = bytes && decodeGroupRecord(bytes);
    if (record) states.set(name, record.state);
  }
  return states;
}

/**
 * Runs the removed member's saved state against what followed: first the ciphertext alone,
 * then after each commit that followed (as far as the state can go). Returns what opened.
 */
async function whatOldStateOpens(
  device: TestDevice,
  saved: Map<string, Uint8Array>,
  commits: readonly SeenCommit[],
  ciphertext: string,
): Promise<string[]> {
  const suite = await loadSuite();
  const opened: string[] = [];
  const decoder = new TextDecoder();
  for (const bytes of saved.values()) {
    let group = RoomGroup.decode(suite, device.device, device.pins, bytes);
    const tryOpen = async (when: string) => {
      try {
        const result = await group.process(ciphertext);
        if (result.kind === 'application') {
          opened.push(`${when}: ${decoder.decode(result.payload)}`);
        }
      } catch {
        // what a removed member must get
      }
    };
    await tryOpen(`at epoch ${group.epoch}`);
    for (const commit of commits.filter((c) => c.epoch >= group.epoch)) {
      try {
        const result = await group.process(commit.data);
        group = result.next;
      } catch {
        break; // the commit that removed it: the state goes no further
      }
      await tryOpen(`after the commit ending epoch ${commit.epoch}`);
    }
  }
  return opened;
}

/** The epoch of a snapshot's group state. */
async function snapshotEpoch(device: TestDevice, saved: Map<string, Uint8Array>): Promise<number> {
  const suite = await loadSuite();
  const [bytes] = saved.values();
  return bytes ? RoomGroup.decode(suite, device.device, device.pins, bytes).epoch : Infinity;
}

type Install = Awaited<ReturnType<typeof room>>['alice'];

describe('a member who leaves an end-to-end encrypted room', () => {
  const cases = [
    { how: 'removed', speaker: 'actor' },
    { how: 'banned', speaker: 'actor' },
    { how: 'removed', speaker: 'bystander' },
    { how: 'banned', speaker: 'bystander' },
    { how: 'parted', speaker: 'bystander' },
  ] as const;
  for (const { how, speaker } of cases) {
    // A bystander may not have seen the `left`/`removed` event when it sends: the host refuses
    // MLS sends after a removal until the next commit (stale-epoch), so its line waits for it.
    it(`cannot read what ${speaker === 'actor' ? 'the remover' : 'a bystander'} says right after it was ${how}`, async () => {
      const { alice, bob, carol, dave } = await room();
      const saved = await savedGroups(bob.device);
      expect(saved.size).toBeGreaterThan(0);
      // The same snapshot of those who stay: the control that the replay below can open.
      const stayers: Install[] = [alice, carol, dave];
      const snapshots = new Map<Install, Map<string, Uint8Array>>();
      for (const stayer of stayers) snapshots.set(stayer, await savedGroups(stayer.device));

      if (how === 'parted') await bob.member.s.part(ROOM);
      else await alice.member.s.remove(ROOM, bob.member.key, { ban: how === 'banned' });
      await until(() => bob.member.of('removed').length > 0, 'bob told he is out');
      expect(bob.member.of('removed')[0]).toMatchObject({ room: ROOM, reason: how });

      // Right after: the one who removed bob, or one who only sees it happen, says a line.
      const sender = speaker === 'actor' ? alice : carol;
      const text = `${sender.member.nick} after bob ${how}: ${Math.random().toString(36).slice(2)}`;
      const id = sender.member.s.send(ROOM, text);
      const remaining = stayers.map((x) => x.member);
      await untilAllShow(remaining, sender.member, ROOM, text, 30_000);
      for (const reader of remaining.filter((m) => m !== sender.member)) {
        expect(reader.shown(ROOM, text)[0]?.e2ee).toMatchObject({ status: 'ok' });
      }
      await sleep(300);
      expect(bob.member.of('message').some((m) => m.text === text)).toBe(false);
      expect(bob.member.relay.fromHost.some((t) => t.includes(`"id":"${id}"`))).toBe(false);

      // bob's saved group state, run against the line (and the commits that followed), opens
      // nothing.
      const commits = commitsSeen(
        remaining.map((m) => m.relay),
        ROOM,
      );
      expect(commits.length).toBeGreaterThan(0);
      const ciphertext = mlsOf(
        remaining.map((m) => m.relay),
        id,
      );
      expect(ciphertext).toBeDefined();
      const opened = await whatOldStateOpens(bob.device, saved, commits, ciphertext ?? '');
      expect(
        opened.map((o) => o.split(':')[0]),
        "bob's old state opened the line",
      ).toEqual([]);
      // Control: a stayer's snapshot follows the same commits and opens it. (One's own line
      // and own commit never come back to oneself: the reader sent neither.)
      let controls = 0;
      for (const reader of stayers) {
        if (reader === sender) continue;
        const snapshot = snapshots.get(reader) ?? new Map<string, Uint8Array>();
        const from = await snapshotEpoch(reader.device, snapshot);
        if (commits.some((c) => c.epoch >= from && c.by === reader.member.key)) continue;
        const control = await whatOldStateOpens(reader.device, snapshot, commits, ciphertext ?? '');
        expect(control.join('\n')).toContain(text);
        controls++;
      }
      expect(controls).toBeGreaterThan(0);
    }, 60_000);
  }
});
