import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { dmRoomName } from '../../../src-main/server/dm-room.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import type { ClientMessage, HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type WireClient, connectWireClient, tokenOf } from '../../support/wire-client.ts';
import { cleanupsAfterEach, sleep, until } from '../../support/lifecycle.ts';
import { runsWithin } from '../../fuzz/kit.ts';
import { clientMessageArb } from '../../fuzz/wire-arbitraries.ts';

// A stranger holds what anyone may hold — the host's address and key — and speaks the protocol
// itself (no client core to be polite for it). Whatever it asks about a private room must be
// answered byte for byte as about a room that does not exist, and nothing of the room may reach
// it while the members talk. The same holds for a member once it is removed or banned.

const cleanups = cleanupsAfterEach();

const SECRET = 'secret-den';
/** Same length as SECRET, never created: the answers must match once the names are swapped. */
const ABSENT = 'absent-den';
/** Nicknames that cannot turn up by chance in a key or a fingerprint. */
const BOB = 'bobwhite';
/** An open room a member shares with the stranger: its traffic may reach the stranger any time. */
const PLAZA = 'plaza';
const CAROL = 'carolina';

const decoder = new TextDecoder();

interface TestHost {
  readonly h: RunningHost;
  readonly dataDir: string;
  readonly clock: { t: number };
  stop(): Promise<void>;
}

async function host(
  options: Partial<HostOptions> & { clock?: { t: number } } = {},
): Promise<TestHost> {
  const dataDir = options.dataDir ?? cleanups.tempDir('parley-stranger-');
  const clock = options.clock ?? { t: Date.now() };
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: [SECRET],
    now: () => clock.t,
    ...options,
    dataDir,
  });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await h.stop();
  });
  return {
    h,
    dataDir,
    clock,
    stop: async () => {
      stopped = true;
      await h.stop();
    },
  };
}

/** A wire client and the exact bytes of every item it receives from now on, as text. */
interface Peer extends WireClient {
  readonly raw: string[];
}

async function peer(h: RunningHost, nick: string, keyPair?: KeyPair): Promise<Peer> {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, keyPair ? { keyPair } : {});
  cleanups.push(() => c.close());
  const raw: string[] = [];
  c.channel.on('message', (bytes) => void raw.push(decoder.decode(bytes)));
  await c.waitFor('welcome');
  await c.waitFor('rooms');
  return Object.assign(c, { raw });
}

function startInvite(h: RunningHost, role: 'owner' | 'member', room = SECRET): string {
  const found = h.startInvites.find((i) => i.role === role && i.room === room);
  if (!found) throw new Error(`no ${role} invite for ${room}`);
  return found.link;
}

let pings = 0;
let ids = 0;
const newId = () => `stranger-${String(++ids).padStart(8, '0')}`;
const randomToken = () => randomBytes(18).toString('base64url');
const randomKey = () => randomBytes(32).toString('base64url');

/**
 * Sends `message`, then a ping, and returns the exact text of every item the host sent in
 * between: the whole answer, including anything that should not be there.
 */
async function exchange(c: Peer, message: ClientMessage): Promise<string[]> {
  const from = c.raw.length;
  const n = ++pings;
  c.send(message);
  c.send({ t: 'ping', n });
  await c.waitFor('pong', (p) => p.n === n);
  const items = c.raw.slice(from);
  const end = items.findIndex((text) => text === JSON.stringify({ t: 'pong', n }));
  expect(end, 'the pong is among the raw items').toBeGreaterThanOrEqual(0);
  // What comes of the open room shared with a member (a rename, say) is no answer.
  const ofPlaza = (text: string) => (JSON.parse(text) as { room?: string }).room === PLAZA;
  return items.slice(0, end).filter((text) => !ofPlaza(text));
}

/** Every request a stranger can make about a room, with fixed rids and ids so bytes compare. */
function probes(
  room: string,
  keys: { member: string; self: string; inviteId: string; msgId: string },
) {
  const rid = 4242;
  return [
    { t: 'join', room },
    { t: 'history', room, before: 1_000_000, limit: 50 },
    { t: 'history', room, before: 1, limit: 1 },
    // The id of a message a member really sent there: dedupe must not answer first.
    { t: 'send', room, id: keys.msgId, text: 'knock knock' },
    { t: 'send', room, id: 'fresh-id-0001', text: 'knock knock' },
    { t: 'typing', room },
    { t: 'leave', room },
    { t: 'invite-create', rid, room, role: 'member', uses: null, expiresInMs: null },
    { t: 'invite-create', rid, room, role: 'owner', uses: 1, expiresInMs: 60_000 },
    { t: 'invite-list', rid, room },
    { t: 'invite-revoke', rid, room, id: keys.inviteId },
    { t: 'create', rid, room },
    { t: 'create', rid, room, open: true },
    { t: 'topic', rid, room, topic: 'mine now' },
    { t: 'set-open', rid, room, open: true },
    { t: 'set-open', rid, room, open: false },
    { t: 'part', rid, room },
    { t: 'remove', rid, room, key: keys.member, ban: false },
    { t: 'remove', rid, room, key: keys.member, ban: true },
    { t: 'remove', rid, room, key: keys.self, ban: true },
    { t: 'unban', rid, room, key: keys.member },
    { t: 'set-role', rid, room, key: keys.self, role: 'owner' },
    { t: 'set-role', rid, room, key: keys.member, role: 'member' },
    // Nothing above may have let it in.
    { t: 'join', room },
  ] satisfies ClientMessage[];
}

/**
 * Asks every probe about `room` and about `absentRoom` (by default ABSENT) in turn and expects
 * the same bytes back (the names swapped); returns the answers about the absent room, for the
 * caller to check what they say.
 */
async function expectNoDifference(
  c: Peer,
  room: string,
  keys: Parameters<typeof probes>[1],
  absentRoom = ABSENT,
): Promise<string[][]> {
  const absentAnswers: string[][] = [];
  const asked = probes(room, keys);
  const absent = probes(absentRoom, keys);
  for (const [i, probe] of asked.entries()) {
    const about = (await exchange(c, probe)).map((t) => t.replaceAll(room, 'ROOM'));
    const none = (await exchange(c, absent[i]!)).map((t) => t.replaceAll(absentRoom, 'ROOM'));
    expect(about, `${probe.t} about ${room} vs a room that does not exist`).toEqual(none);
    absentAnswers.push(none);
  }
  return absentAnswers;
}

function parsed(answers: string[][]): HostMessage[][] {
  return answers.map((items) => items.map((text) => JSON.parse(text) as HostMessage));
}

/** A host whose private room has alice (owner), bob and carol talking; alice also in an open room. */
async function privateRoom(options: Parameters<typeof host>[0] = {}) {
  const t = await host(options);
  const alice = await peer(t.h, 'alice');
  expect(await alice.redeem(startInvite(t.h, 'owner'))).toMatchObject({ t: 'redeemed' });
  const bob = await peer(t.h, BOB);
  const carol = await peer(t.h, CAROL);
  for (const c of [bob, carol]) {
    expect(await c.redeem(startInvite(t.h, 'member'))).toMatchObject({ t: 'redeemed' });
  }
  for (const c of [alice, bob, carol]) await c.join(SECRET);
  const msgId = newId();
  alice.send({ t: 'send', room: SECRET, id: msgId, text: 'the plan stays here' });
  await alice.waitFor('ack', (a) => a.id === msgId);
  const made = await alice.request({
    t: 'invite-create',
    room: SECRET,
    role: 'member',
    uses: 3,
    expiresInMs: null,
  });
  if (made.t !== 'invite') throw new Error(`no invite: ${JSON.stringify(made)}`);
  return { ...t, alice, bob, carol, msgId, invite: made };
}

/**
 * Members keep talking until `stop()`: messages, typing, a leave and a join (presence), a
 * topic (an event and `room` updates). Returns the texts they sent, which no stranger may see.
 */
function chatter(members: { alice: Peer; bob: Peer; carol: Peer }) {
  const texts: string[] = [];
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      i++;
      const text = `whisper ${i} ${randomBytes(4).toString('hex')}`;
      texts.push(text);
      const who = i % 2 ? members.bob : members.carol;
      who.send({ t: 'send', room: SECRET, id: newId(), text });
      members.bob.send({ t: 'typing', room: SECRET });
      if (i % 25 === 0) {
        members.carol.send({ t: 'leave', room: SECRET });
        members.carol.send({ t: 'join', room: SECRET });
      }
      // Renames go to every room the key is in: carol's to none the stranger is in.
      if (i === 30) members.carol.send({ t: 'nick', nick: `${CAROL}2` });
      if (i === 45) members.alice.send({ t: 'nick', nick: 'alicia' });
      if (i % 40 === 0) {
        const topic = `topic ${i} ${randomBytes(4).toString('hex')}`;
        texts.push(topic);
        void members.alice.request({ t: 'topic', room: SECRET, topic });
      }
      await sleep(3);
    }
  })();
  return {
    texts,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Fails naming the item if anything the stranger received names the room or its people. */
function expectNothingOfTheRoom(
  stranger: Peer,
  room: string,
  secrets: { nicks: string[]; keys: string[]; texts: string[] },
): void {
  for (const item of stranger.received) {
    const text = JSON.stringify(item);
    if (text.includes(room)) {
      // Only the answers to its own questions (forbidden: `create`, echoing the name asked).
      expect(item.t === 'error' && item.code, 'an item naming the room').toMatch(
        /^(unknown-room|forbidden)$/,
      );
    }
    for (const secret of [...secrets.nicks, ...secrets.keys, ...secrets.texts]) {
      expect(text.includes(secret), `${item.t} carries "${secret}"`).toBe(false);
    }
  }
  for (const t of ['msg', 'event', 'presence', 'typing', 'members'] as const) {
    expect(
      stranger.of(t).filter((m) => m.room === room),
      `${t} of the room`,
    ).toEqual([]);
  }
}

describe('a stranger with the host address and key', () => {
  it('gets the same bytes about a private room as about no room, and nothing of its talk', async () => {
    const { h, alice, bob, carol, msgId, invite } = await privateRoom({
      // Enough budget for every probe twice; budgets have tests of their own.
      limits: {
        manageBurst: 1000,
        membershipBurst: 1000,
        historyBurst: 1000,
        messagesPerSecond: 100_000,
        messageBurst: 100_000,
      },
    });
    // alice also sits in an open room, so the stranger shares a room with a member.
    expect(await alice.request({ t: 'create', room: PLAZA, open: true })).toMatchObject({
      t: 'room',
    });
    await alice.join(PLAZA);

    const talk = chatter({ alice, bob, carol });
    await until(() => talk.texts.length >= 10, 'the members talking');

    const eve = await peer(h, 'eve');
    expect(eve.hostInfo.rooms).toEqual([PLAZA]);
    expect(eve.of('rooms')).toEqual([
      { t: 'rooms', rooms: [{ room: PLAZA, kind: 'room', open: true }], last: true },
    ]);
    await eve.join(PLAZA);

    const keys = { member: bob.keyText, self: eve.keyText, inviteId: invite.invite.id, msgId };
    const answers = parsed(await expectNoDifference(eve, SECRET, keys));
    // What "no room" looks like, so the comparison above compares something.
    const flat = answers.flat();
    expect(answers[0]).toEqual([
      {
        t: 'error',
        code: 'unknown-room',
        message: 'there is no room "ROOM" here',
        ref: 'ROOM',
      },
    ]);
    expect(answers[5], 'typing about no room: no answer').toEqual([]);
    expect(flat.every((m) => m.t === 'error')).toBe(true);
    expect(new Set(flat.map((m) => (m.t === 'error' ? m.code : m.t)))).toEqual(
      new Set(['unknown-room', 'forbidden']), // forbidden: `create`, for a key that is no admin
    );

    // Two members' direct messages: its name follows from their public keys, so a stranger can
    // work it out — and gets the same answers as for the name of two keys that never talked.
    const dm = await alice.request({ t: 'dm', key: bob.keyText });
    if (dm.t !== 'room') throw new Error(`no direct message: ${JSON.stringify(dm)}`);
    expect(dm.info.room).toBe(dmRoomName(alice.keyPair.publicKey, bob.keyPair.publicKey));
    const dmText = newId();
    await bob.join(dm.info.room);
    bob.send({ t: 'send', room: dm.info.room, id: dmText, text: 'between us' });
    await bob.waitFor('ack', (a) => a.id === dmText);
    const neverTalked = dmRoomName(randomBytes(32), randomBytes(32));
    await expectNoDifference(eve, dm.info.room, keys, neverTalked);
    expect(JSON.stringify(eve.received)).not.toContain('between us');

    // A direct message to a member it shares no room with: as to a key nobody knows.
    const dmMember = await exchange(eve, { t: 'dm', rid: 7, key: bob.keyText });
    const dmNobody = await exchange(eve, { t: 'dm', rid: 7, key: randomKey() });
    expect(dmMember).toEqual(dmNobody);
    expect(JSON.parse(dmMember[0]!)).toMatchObject({ t: 'error', code: 'not-member', rid: 7 });
    // A guessed token is no way in, and says nothing of the room.
    const guess = await exchange(eve, { t: 'redeem', rid: 8, token: randomToken() });
    expect(guess.map((text) => JSON.parse(text) as unknown)).toEqual([
      { t: 'error', code: 'invite-unknown', message: expect.any(String), rid: 8 },
    ]);

    await sleep(200); // the members keep talking a while longer
    await talk.stop();
    // Let the last of it be delivered wherever it goes.
    const last = newId();
    bob.send({ t: 'send', room: SECRET, id: last, text: 'last word' });
    await alice.waitFor('msg', (m) => m.id === last);
    await exchange(eve, { t: 'ping', n: -1 });

    expect(alice.of('msg').filter((m) => m.room === SECRET).length).toBeGreaterThan(20);
    expectNothingOfTheRoom(eve, SECRET, {
      nicks: [BOB, CAROL],
      keys: [bob.keyText, carol.keyText],
      texts: [...talk.texts, 'the plan stays here', 'last word'],
    });
    expect(eve.of('redeemed')).toEqual([]);
    expect(eve.of('room').map((m) => m.info.room)).toEqual([PLAZA]);
    // And the members heard nothing of the stranger's knocking.
    for (const c of [alice, bob, carol]) {
      expect(JSON.stringify(c.received)).not.toContain('knock knock');
      expect(JSON.stringify(c.received)).not.toContain('mine now');
    }
    expect(
      alice.of('event').filter((e) => e.room === SECRET && e.actor?.key === eve.keyText),
    ).toEqual([]);
  });

  it('guessing tokens is refused after the budget, even the right one, and never admits', async () => {
    const clock = { t: Date.now() };
    const { h } = await host({ clock });
    const owner = await peer(h, 'alice');
    await owner.redeem(startInvite(h, 'owner'));
    const real = tokenOf(startInvite(h, 'member'));
    /** The real token with one character changed: a near miss. */
    const nearMiss = (at: number) =>
      real.slice(0, at) + (real[at] === 'A' ? 'B' : 'A') + real.slice(at + 1);

    const first = await peer(h, 'eve');
    const guesses = [randomToken(), nearMiss(0), nearMiss(11), nearMiss(23), randomToken()];
    for (const token of guesses) {
      const answer = await first.request({ t: 'redeem', token });
      expect(answer).toEqual({
        t: 'error',
        code: 'invite-unknown',
        message: expect.any(String),
        rid: expect.any(Number),
      });
      if (answer.t === 'error') expect(answer.message).not.toContain(token);
    }
    // The key's budget is spent: even the right token is not looked at.
    const refused = await first.request({ t: 'redeem', token: real });
    expect(refused).toMatchObject({ t: 'error', code: 'rate-limited' });
    expect(refused.t === 'error' && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.t === 'error' && refused.ref).toBeUndefined();
    // Another connection of the same key shares the budget.
    const again = await peer(h, 'eve', first.keyPair);
    expect(await again.request({ t: 'redeem', token: real })).toMatchObject({
      code: 'rate-limited',
    });

    // New keys from the same address: the address's budget (10) runs out too.
    const second = await peer(h, 'mallory');
    for (let i = 0; i < 5; i++) {
      expect(await second.request({ t: 'redeem', token: randomToken() })).toMatchObject({
        code: 'invite-unknown',
      });
    }
    const third = await peer(h, 'trudy');
    expect(await third.request({ t: 'redeem', token: real })).toMatchObject({
      code: 'rate-limited',
    });

    // None of it let anyone in.
    for (const c of [first, again, second, third]) {
      expect(c.of('redeemed')).toEqual([]);
      expect(c.of('room')).toEqual([]);
      await expect(c.join(SECRET)).rejects.toThrow(/unknown-room/);
    }
    expect(owner.of('event').filter((e) => e.action === 'joined')).toEqual([]);

    // Time passes: the right token works, so it was the budget that refused it.
    clock.t += 60_000;
    expect(await third.request({ t: 'redeem', token: real })).toMatchObject({
      t: 'redeemed',
      room: SECRET,
    });
  });
});

describe('a stranger sending anything at all about the room (fuzz)', () => {
  it('every valid request about the private room is answered as about no room', async () => {
    const { alice, bob, h } = await privateRoom({
      limits: {
        manageBurst: 1_000_000,
        membershipBurst: 1_000_000,
        historyBurst: 1_000_000,
        requestBurst: 1_000_000,
        messageBurst: 1_000_000,
      },
    });
    const eve = await peer(h, 'eve');
    const keys = fc.constantFrom(alice.keyText, bob.keyText, eve.keyText, randomKey());
    // Any request that names a room, with the keys that matter, asked about both rooms.
    const requests = fc
      .tuple(clientMessageArb, keys)
      .filter(([m]) => 'room' in m)
      .map(([m, key]) => ({ ...m, ...('key' in m ? { key } : {}) }) as ClientMessage);
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const asked = (room: string) =>
          exchange(eve, {
            ...request,
            room,
            ...('rid' in request ? { rid: 1 } : {}),
          } as ClientMessage);
        const about = (await asked(SECRET)).map((t) => t.replaceAll(SECRET, 'ROOM'));
        const none = (await asked(ABSENT)).map((t) => t.replaceAll(ABSENT, 'ROOM'));
        expect(about).toEqual(none);
        for (const text of none) expect(JSON.parse(text)).toMatchObject({ t: 'error' });
      }),
      runsWithin(100, 3000, 0.05),
    );
    expect(eve.of('redeemed')).toEqual([]);
    expectNothingOfTheRoom(eve, SECRET, {
      nicks: [BOB, CAROL],
      keys: [bob.keyText],
      texts: ['the plan stays here'],
    });
  });
});

describe('a member who is no longer one', () => {
  it('removed mid-stream, on every connection: nothing of the room after `removed`', async () => {
    const { h, alice, bob, carol } = await privateRoom({
      limits: { messagesPerSecond: 100_000, messageBurst: 100_000, manageBurst: 1000 },
    });
    // carol's second connection is not in the room, but is the same key.
    const carol2 = await peer(h, CAROL, carol.keyPair);
    let sending = true;
    const sender = async (c: Peer) => {
      while (sending) {
        c.send({
          t: 'send',
          room: SECRET,
          id: newId(),
          text: `tick ${randomBytes(3).toString('hex')}`,
        });
        c.send({ t: 'typing', room: SECRET });
        await sleep(1);
      }
    };
    const senders = [sender(bob), sender(carol)];
    await until(() => carol.of('msg').length >= 20, 'carol reading');

    expect(
      await alice.request({ t: 'remove', room: SECRET, key: carol.keyText, ban: false }),
    ).toMatchObject({ t: 'done' });
    const removedAt = await Promise.all([carol.waitFor('removed'), carol2.waitFor('removed')]);
    const event = await alice.waitFor('event', (e) => e.action === 'removed');
    // After the removal: more talk, a topic, a newcomer (an event and presence).
    const dave = await peer(h, 'dave');
    await dave.redeem(startInvite(h, 'member'));
    await dave.join(SECRET);
    expect(await alice.request({ t: 'topic', room: SECRET, topic: 'after carol' })).toMatchObject({
      t: 'done',
    });
    const bobAcks = bob.of('ack').length;
    await until(() => bob.of('ack').length >= bobAcks + 50, 'bob sending on');
    sending = false;
    await Promise.all(senders);
    const last = newId();
    bob.send({ t: 'send', room: SECRET, id: last, text: 'last word' });
    await alice.waitFor('msg', (m) => m.id === last);
    for (const c of [carol, carol2]) await exchange(c, { t: 'ping', n: -2 });

    for (const [i, c] of [carol, carol2].entries()) {
      const removed = removedAt[i]!;
      expect(removed).toEqual({
        t: 'removed',
        room: SECRET,
        reason: 'removed',
        by: { nick: 'alice', key: alice.keyText },
      });
      const after = c.received.slice(c.received.indexOf(removed) + 1);
      // Only refusals of carol's own sends still in flight, as for a room that does not exist.
      expect(after.filter((m) => 'room' in m && m.room === SECRET)).toEqual([]);
      for (const item of after.filter((m) => m.t === 'error')) {
        expect(item).toMatchObject({
          code: 'unknown-room',
          message: `there is no room "${SECRET}" here`,
        });
      }
      expect(JSON.stringify(after)).not.toContain('after carol');
      expect(JSON.stringify(after)).not.toContain('last word');
    }
    // Nothing of carol's was accepted into the room after her removal.
    expect(carol.of('ack').every((a) => a.seq < event.seq)).toBe(true);
    for (const c of [alice, bob, dave]) {
      expect(c.of('msg').filter((m) => m.key === carol.keyText && m.seq > event.seq)).toEqual([]);
    }
    // From now on carol is a stranger to the room.
    await expectNoDifference(carol, SECRET, {
      member: bob.keyText,
      self: carol.keyText,
      inviteId: 'AAAAAAAAAAAA',
      msgId: newId(),
    });
  });

  it('removed with its own messages in flight: none of them is stored after the removal', async () => {
    const { h, alice, bob, carol } = await privateRoom({
      limits: { messagesPerSecond: 100_000, messageBurst: 100_000, manageBurst: 1000 },
    });
    // Rounds of: carol writes a batch and, in the same tick, alice removes her; then carol is
    // let in again. Whatever of hers is stored after the removal's event got in a removed key.
    for (let round = 0; round < 6; round++) {
      const from = carol.received.length;
      const bobFrom = bob.received.length;
      const batch = Array.from({ length: 15 }, () => newId());
      for (const id of batch) carol.send({ t: 'send', room: SECRET, id, text: `late ${id}` });
      const removal = alice.request({ t: 'remove', room: SECRET, key: carol.keyText, ban: false });
      expect(await removal).toMatchObject({ t: 'done' });
      const event = await bob.waitFor(
        'event',
        (e) => e.action === 'removed' && bob.received.indexOf(e) >= bobFrom,
      );
      await exchange(carol, { t: 'ping', n: -10 - round });
      const answers = carol.received.slice(from);
      for (const id of batch) {
        const answer = answers.find(
          (m) => (m.t === 'ack' && m.id === id) || (m.t === 'error' && m.ref === id),
        );
        if (answer?.t === 'ack') expect(answer.seq).toBeLessThan(event.seq);
        else expect(answer).toMatchObject({ t: 'error', code: 'unknown-room' });
      }
      await exchange(bob, { t: 'ping', n: -20 - round });
      expect(
        bob.of('msg').filter((m) => m.key === carol.keyText && m.seq > event.seq),
        "carol's messages after her removal",
      ).toEqual([]);
      // Back in for the next round (a member invite from the operator).
      expect(await carol.redeem(h.invite(SECRET))).toMatchObject({ t: 'redeemed' });
      await carol.join(SECRET);
    }
  });

  it('banned: stays out after a restart, even with a fresh invite or the room opened', async () => {
    const first = await privateRoom({ limits: { manageBurst: 1000, membershipBurst: 1000 } });
    const memberLink = startInvite(first.h, 'member');
    expect(
      await first.alice.request({ t: 'remove', room: SECRET, key: first.bob.keyText, ban: true }),
    ).toMatchObject({ t: 'done' });
    await first.bob.waitFor('removed', (m) => m.reason === 'banned');
    const keys = { alice: first.alice.keyPair, bob: first.bob.keyPair, carol: first.carol.keyPair };
    await first.stop();

    const second = await host({ dataDir: first.dataDir, limits: { manageBurst: 1000 } });
    const alice = await peer(second.h, 'alice', keys.alice);
    const carol = await peer(second.h, CAROL, keys.carol);
    for (const c of [alice, carol]) await c.join(SECRET);
    const bob = await peer(second.h, BOB, keys.bob);
    expect(bob.of('rooms')).toEqual([{ t: 'rooms', rooms: [], last: true }]);

    const fresh = await alice.request({
      t: 'invite-create',
      room: SECRET,
      role: 'member',
      uses: 1,
      expiresInMs: null,
    });
    if (fresh.t !== 'invite') throw new Error('no invite');
    for (const token of [fresh.token, tokenOf(memberLink), tokenOf(second.h.invite(SECRET))]) {
      expect(await bob.request({ t: 'redeem', token })).toMatchObject({
        t: 'error',
        code: 'banned',
      });
    }
    // The one-use invite was not spent by the refusal.
    const listed = await alice.request({ t: 'invite-list', room: SECRET });
    expect(
      listed.t === 'invites' && listed.invites.find((i) => i.id === fresh.invite.id),
    ).toMatchObject({ usesLeft: 1 });

    await expectNoDifference(bob, SECRET, {
      member: carol.keyText,
      self: bob.keyText,
      inviteId: fresh.invite.id,
      msgId: newId(),
    });

    // Opened to anyone who connects, it is still closed to bob.
    expect(await alice.request({ t: 'set-open', room: SECRET, open: true })).toMatchObject({
      t: 'done',
    });
    await expectNoDifference(bob, SECRET, {
      member: carol.keyText,
      self: bob.keyText,
      inviteId: fresh.invite.id,
      msgId: newId(),
    });
    const later = await peer(second.h, BOB, keys.bob);
    await expect(later.join(SECRET)).rejects.toThrow(/unknown-room/);
    const word = newId();
    carol.send({ t: 'send', room: SECRET, id: word, text: 'bob is gone' });
    await alice.waitFor('msg', (m) => m.id === word);
    // It is not even offered to bob: not in its list, not announced when opened.
    expect(later.of('rooms')).toEqual([{ t: 'rooms', rooms: [], last: true }]);
    for (const c of [bob, later]) {
      await exchange(c, { t: 'ping', n: -3 });
      expect(c.of('room')).toEqual([]);
      expect(c.of('msg')).toEqual([]);
      expect(c.of('event')).toEqual([]);
      expect(c.of('presence')).toEqual([]);
      expect(c.of('members')).toEqual([]);
      expect(c.of('redeemed')).toEqual([]);
    }
  });
});
