import { describe, expect, it } from 'vitest';
import { spawnHost } from '../../support/host-process.ts';
import { spawnE2eeHost } from '../../support/e2ee-host.ts';
import { canary, captureOutput, findInFiles, findInTexts } from '../../support/e2ee-canary.ts';
import {
  type HostTarget,
  type Member,
  type MemberOptions,
  startMember,
  untilAllShow,
  untilGroupComplete,
} from '../../support/e2ee-members.ts';
import { openDevice } from '../../support/e2ee-device.ts';
import { cleanupsAfterEach, sleep, until } from '../../support/lifecycle.ts';
import { newKeyPair } from '../../support/loopback.ts';

// The canary test of issue #16: what members say in an end-to-end encrypted room never reaches
// the host in a form it can read — not its database (nor -wal/-shm), not its output, not one
// application item it sends to anyone — while every member reads it. The same scan run on a
// room that is NOT end-to-end encrypted finds the canaries everywhere: the scan can fail.

const cleanups = cleanupsAfterEach();

/** A host as the scan sees it: where to reach it, its invites, its folder, what it wrote. */
interface ScannedHost extends HostTarget {
  readonly ownerInvite: string;
  readonly memberInvite: string;
  readonly dataDir: string;
  readonly output: Readonly<Record<string, readonly string[]>>;
}

/** The plaintext control: the harness's host (rooms not end-to-end encrypted). */
async function plaintextHost(): Promise<ScannedHost> {
  const h = await spawnHost({ limits: { messagesPerSecond: 1000, messageBurst: 1000 } });
  cleanups.push(() => h.stop());
  const output = captureOutput(h.child);
  const ownerInvite = h.startInvites.find((i) => i.role === 'owner')?.link;
  if (!ownerInvite || !h.memberInvite) throw new Error('the host made no start invites');
  return {
    port: h.port,
    publicKey: h.publicKey,
    ownerInvite,
    memberInvite: h.memberInvite,
    dataDir: h.dataDir,
    output: { 'host stdout': output.stdout, 'host stderr': output.stderr, 'host log': h.log },
  };
}

/** The host under test: E2EE rooms, logging at every level (debug too). */
async function e2eeHost(): Promise<ScannedHost> {
  const h = await spawnE2eeHost(cleanups);
  return { ...h, output: { 'host stdout': h.stdout, 'host stderr': h.stderr } };
}

/** alice (the room's owner), bob and carol in #lobby, each behind a recording relay. */
type Setup = (nick: string) => Promise<Pick<MemberOptions, 'identity' | 'session'>>;

async function threeMembers(h: ScannedHost, setup: Setup) {
  const alice = await startMember(cleanups, h, {
    nick: 'alice',
    invite: h.ownerInvite,
    ...(await setup('alice')),
  });
  const bob = await startMember(cleanups, h, {
    nick: 'bob',
    invite: h.memberInvite,
    ...(await setup('bob')),
  });
  const carol = await startMember(cleanups, h, {
    nick: 'carol',
    invite: h.memberInvite,
    ...(await setup('carol')),
  });
  return [alice, bob, carol] as const;
}

/** dave joins after the conversation: the host replays the room's history to him. */
async function latecomer(h: ScannedHost, setup: Setup): Promise<Member> {
  const dave = await startMember(cleanups, h, {
    nick: 'dave',
    invite: h.memberInvite,
    ...(await setup('dave')),
  });
  await until(
    () => dave.relay.fromHostParsed.filter((m) => m.t === 'msg' && m.history === true).length >= 6,
    "dave's replayed history",
  );
  return dave;
}

/** Each says a canary, bob renames himself, alice sets a topic, each says one more. */
async function converse(members: readonly Member[], topic: string): Promise<string[]> {
  const [alice, bob] = members;
  if (!alice || !bob) throw new Error('needs alice and bob');
  const said: string[] = [];
  for (const member of members) {
    const text = `${member.nick} says ${canary(member.nick)}`;
    said.push(text);
    member.s.send('lobby', text);
  }
  for (const [i, text] of said.entries()) {
    await untilAllShow(members, members[i] as Member, 'lobby', text, 30_000);
  }
  bob.s.setNick('robert');
  await alice.s.setTopic('lobby', topic);
  const more = members.map((member) => `${member.nick} again ${canary(`${member.nick}-2`)}`);
  members.forEach((member, i) => member.s.send('lobby', more[i] ?? ''));
  for (const [i, text] of more.entries()) {
    await untilAllShow(members, members[i] as Member, 'lobby', text, 30_000);
  }
  said.push(...more);
  // Let the host's commit queue write everything out before its files are read.
  await sleep(300);
  return said.map((text) => /canary-\S+/.exec(text)?.[0] ?? text);
}

/** Everywhere the host put what it was given or sent on: its files, its output, its items. */
function hostSide(h: ScannedHost, members: readonly Member[]) {
  const texts: Record<string, readonly string[]> = { ...h.output };
  for (const m of members) texts[`host → ${m.nick}`] = m.relay.fromHost;
  return (needles: readonly string[]) => ({
    files: findInFiles(h.dataDir, needles),
    texts: findInTexts(texts, needles),
  });
}

describe('a host that serves an end-to-end encrypted room', () => {
  it('never has the canaries in its files, its output or anything it sends, while members read them', async () => {
    const h = await e2eeHost();
    const setup: Setup = async () => {
      const identity = newKeyPair();
      return { identity, session: (await openDevice(cleanups, identity)).options };
    };
    const members = await threeMembers(h, setup);
    for (const m of members) expect(m.s.roomInfo('lobby')?.e2ee).toBe(true);
    await untilGroupComplete(members, 'lobby');
    const topic = `topic ${canary('topic')}`;
    const canaries = await converse(members, topic);
    // Every member read the other two members' four lines, decrypted and authenticated.
    for (const reader of members) {
      const read = reader.of('message').filter((m) => canaries.some((c) => m.text.includes(c)));
      expect(read.length).toBeGreaterThanOrEqual(4);
      for (const m of read) expect(m.e2ee).toMatchObject({ status: 'ok' });
    }
    // The ciphertext did go through the host: every member was sent msg items with mls only.
    for (const m of members) {
      const msgs = m.relay.fromHostParsed.filter((i) => i.t === 'msg' && i.room === 'lobby');
      expect(msgs.length).toBeGreaterThanOrEqual(4);
      for (const msg of msgs) {
        expect(msg).toMatchObject({ mls: expect.any(String) });
        expect(msg).not.toHaveProperty('text');
      }
    }
    const dave = await latecomer(h, setup);
    // dave was not in the group when they spoke: the replay is ciphertext he cannot read.
    expect(dave.of('message').filter((m) => canaries.some((c) => m.text.includes(c)))).toEqual([]);
    const seen = hostSide(h, [...members, dave]);
    const found = seen([...canaries, topic]);
    expect(found.files.filter((s) => s.needle !== topic)).toEqual([]);
    expect(found.texts.filter((s) => s.needle !== topic)).toEqual([]);
    // Nor did any client send the host a readable line.
    expect(
      findInTexts(Object.fromEntries(members.map((m) => [m.nick, m.relay.fromClient])), canaries),
    ).toEqual([]);
    // The topic is not secret: the same scan finds it in the host's database.
    expect(found.files.some((s) => s.needle === topic)).toBe(true);
  }, 60_000);

  it('control: in a room that is not end-to-end encrypted the same scan finds every canary', async () => {
    const h = await plaintextHost();
    const members = await threeMembers(h, () => Promise.resolve({}));
    for (const m of members) expect(m.s.roomInfo('lobby')?.e2ee).not.toBe(true);
    const topic = `topic ${canary('topic')}`;
    const canaries = await converse(members, topic);
    const dave = await latecomer(h, () => Promise.resolve({}));
    const seen = hostSide(h, [...members, dave]);
    const found = seen([...canaries, topic]);
    // The host stores (database) and relays (to every other member, and in the replay to a
    // latecomer) each line it could read.
    for (const needle of canaries) {
      expect(found.files.filter((s) => s.needle === needle)).not.toEqual([]);
      expect(found.texts.some((s) => s.needle === needle && s.where === 'host → dave')).toBe(true);
      expect(
        found.texts.filter((s) => s.needle === needle && s.where.startsWith('host →')).length,
      ).toBeGreaterThanOrEqual(2);
    }
    expect(found.files.some((s) => s.needle === topic)).toBe(true);
  });
});
