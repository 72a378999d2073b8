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
  const all = [alice.member, bob.member, carol.member];
  await untilGroupComplete(all, ROOM);
  // Everyone in the group: each reads a line of each other.
  for (const m of all) {
    const text = `hello from ${m.nick}`;
    m.s.send(ROOM, text);
    await untilAllShow(all, m, ROOM, text, 30_000);
  }
  return { h, alice, bob, carol };
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

describe('a member who leaves an end-to-end encrypted room', () => {
  for (const how of ['removed', 'banned', 'parted'] as const) {
    // DEFECT (findings.md, C2 11:00, for H): after `part`, the host still accepts MLS sends at
    // the epoch whose group holds the leaver (members who have not yet seen the `left` event
    // send at seq > the event's); bob's old state reads them. Skipped until the host refuses
    // sends after a member left until the next commit.
    const test = how === 'parted' ? it.skip : it;
    test(`cannot read what is said after it was ${how}, and the others read it at once`, async () => {
      const { alice, bob, carol } = await room();
      const saved = await savedGroups(bob.device);
      expect(saved.size).toBeGreaterThan(0);
      // The same snapshot of a member who stays: the control that the replay below can open.
      const stayers = {
        alice: await savedGroups(alice.device),
        carol: await savedGroups(carol.device),
      };
      const bobKey = bob.member.key;
      if (how === 'parted') await bob.member.s.part(ROOM);
      else await alice.member.s.remove(ROOM, bobKey, { ban: how === 'banned' });
      await until(() => bob.member.of('removed').length > 0, 'bob told he is out');
      expect(bob.member.of('removed')[0]).toMatchObject({ room: ROOM, reason: how });

      // Right after: the one who removed bob (none when he parted) and a bystander each say a line.
      const lines = [alice.member, carol.member].map((sender) => {
        const text = `${sender.nick} after bob ${how}: ${Math.random().toString(36).slice(2)}`;
        return { sender, text, id: sender.s.send(ROOM, text) };
      });
      for (const { sender, text } of lines) {
        await untilAllShow([alice.member, carol.member], sender, ROOM, text, 30_000);
      }
      for (const { sender, text } of lines) {
        const reader = sender === alice.member ? carol.member : alice.member;
        expect(reader.shown(ROOM, text)[0]?.e2ee).toMatchObject({ status: 'ok' });
      }
      await sleep(300);
      for (const { text, id } of lines) {
        expect(bob.member.of('message').some((m) => m.text === text)).toBe(false);
        expect(bob.member.relay.fromHost.some((t) => t.includes(`"id":"${id}"`))).toBe(false);
      }

      // bob's saved group state, run against each line (and the commits that followed),
      // opens neither. Control: the same replay from a stayer's snapshot opens the line.
      const commits = commitsSeen([alice.member.relay, carol.member.relay], ROOM);
      expect(commits.length).toBeGreaterThan(0);
      let controls = 0;
      const leaks: string[] = [];
      for (const { sender, text, id } of lines) {
        const ciphertext = mlsOf([carol.member.relay, alice.member.relay], id);
        expect(ciphertext).toBeDefined();
        const opened = await whatOldStateOpens(bob.device, saved, commits, ciphertext ?? '');
        leaks.push(...opened.map((o) => `${sender.nick}'s line ${o.split(':')[0] ?? ''}`));
        // One's own commit or line never comes back to oneself: the control reader is the
        // other stayer, when it made none of the commits.
        const stayer = sender === alice.member ? 'carol' : 'alice';
        const reader = stayer === 'alice' ? alice : carol;
        const from = await snapshotEpoch(reader.device, stayers[stayer]);
        if (commits.some((c) => c.epoch >= from && c.by === reader.member.key)) continue;
        if (opened.length > 0) continue;
        const control = await whatOldStateOpens(
          reader.device,
          stayers[stayer],
          commits,
          ciphertext ?? '',
        );
        expect(control.join('\n')).toContain(text);
        controls++;
      }
      expect(leaks, "bob's old group state opened lines said after he left").toEqual([]);
      expect(controls).toBeGreaterThan(0);
    }, 60_000);
  }
});
