import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { type HostOptions, type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { encodeMessage } from '../../../src-main/protocol/wire/codec.ts';
import type { HostMessage } from '../../../src-main/protocol/wire/messages.ts';
import { type WireClient, connectWireClient } from '../../support/wire-client.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import type { KeyPair } from '../../../src-main/protocol/crypto/crypto-backend.ts';
import { HostDatabase } from '../../../src-main/server/host-database.ts';
import { dmRoomName } from '../../../src-main/server/dm-room.ts';
import { MAX_ROOMS_PER_KEY } from '../../../src-main/server/room-rules.ts';

// Private rooms on a real host (real TCP on 127.0.0.1, real SQLite): who sees what, every
// membership request and its one answer, the guessing budgets, removal while messages flow.

const cleanups = cleanupsAfterEach();

interface TestHost {
  readonly h: RunningHost;
  readonly dataDir: string;
  /** The host's clock: tests move it to expire invites and refill budgets. */
  readonly clock: { t: number };
}

async function host(options: Partial<HostOptions> & { clock?: { t: number } } = {}) {
  const dataDir = options.dataDir ?? cleanups.tempDir('parley-membership-');
  const clock = options.clock ?? { t: Date.now() };
  const h = await startHost({
    host: '127.0.0.1',
    port: 0,
    rooms: ['lobby'],
    now: () => clock.t,
    ...options,
    dataDir,
  });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await h.stop();
  });
  const stop = async () => {
    stopped = true;
    await h.stop();
  };
  return { h, dataDir, clock, stop } satisfies TestHost & { stop: () => Promise<void> };
}

async function client(h: RunningHost, nick: string, keyPair?: KeyPair): Promise<WireClient> {
  const c = await connectWireClient(h.address.port, h.publicKey, nick, keyPair ? { keyPair } : {});
  cleanups.push(() => c.close());
  await c.waitFor('welcome');
  await c.waitFor('rooms');
  return c;
}

function invite(h: RunningHost, role: 'owner' | 'member', room = 'lobby'): string {
  const found = h.startInvites.find((i) => i.role === role && i.room === room);
  if (!found) throw new Error(`no ${role} invite for ${room}`);
  return found.link;
}

/** A host with `lobby` owned by alice, and bob a member. */
async function ownedLobby(options: Parameters<typeof host>[0] = {}) {
  const t = await host(options);
  const alice = await client(t.h, 'alice');
  expect(await alice.redeem(invite(t.h, 'owner'))).toMatchObject({
    t: 'redeemed',
    room: 'lobby',
    role: 'owner',
  });
  const bob = await client(t.h, 'bob');
  expect(await bob.redeem(invite(t.h, 'member'))).toMatchObject({ role: 'member' });
  return { ...t, alice, bob };
}

let ids = 0;
const newId = () => `member-msg-${String(++ids).padStart(6, '0')}`;
const randomToken = () => randomBytes(18).toString('base64url');

function errorOf(answer: HostMessage) {
  if (answer.t !== 'error') throw new Error(`expected an error, got ${answer.t}`);
  return answer;
}

describe('private rooms', () => {
  it('a stranger learns nothing of a private room: every request is answered as for no room', async () => {
    const { h, alice } = await ownedLobby({ rooms: ['lobby', 'secret-den'] });
    await alice.redeem(invite(h, 'owner', 'secret-den'));
    await alice.join('secret-den');
    alice.send({ t: 'send', room: 'secret-den', id: newId(), text: 'hush' });
    await alice.waitFor('ack');

    const eve = await client(h, 'eve');
    expect(eve.hostInfo.rooms).toEqual([]);
    expect(eve.of('rooms')[0]?.rooms).toEqual([]);

    // Each request once about the private room and once about a room that does not exist.
    const asked = async (room: string) => {
      const answers: unknown[] = [];
      const strip = (m: HostMessage) => JSON.parse(JSON.stringify(m).replaceAll(room, 'ROOM'));
      for (const t of ['join', 'leave'] as const) {
        const before = eve.received.length;
        eve.send({ t, room });
        await eve.waitFor('error', (m) => eve.received.indexOf(m) >= before && m.ref === room);
        answers.push(strip(eve.received.at(-1)!));
      }
      const before = eve.received.length;
      eve.send({ t: 'history', room, before: 1_000_000, limit: 10 });
      await eve.waitFor('error', (m) => eve.received.indexOf(m) >= before);
      answers.push(strip(eve.received.at(-1)!));
      const id = newId();
      eve.send({ t: 'send', room, id, text: 'hello?' });
      const sent = await eve.waitFor('error', (m) => m.ref === id);
      answers.push(strip({ ...sent, ref: 'ID' }));
      eve.send({ t: 'typing', room });
      for (const body of [
        { t: 'invite-create', room, role: 'member', uses: null, expiresInMs: null },
        { t: 'invite-list', room },
        { t: 'invite-revoke', room, id: 'AAAAAAAAAAAA' },
        { t: 'topic', room, topic: 'mine now' },
        { t: 'set-open', room, open: true },
        { t: 'part', room },
        { t: 'remove', room, key: alice.keyText, ban: false },
        { t: 'unban', room, key: alice.keyText },
        { t: 'set-role', room, key: eve.keyText, role: 'owner' },
      ] as const) {
        const answer = await eve.request(body);
        answers.push(strip({ ...answer, rid: 0 }));
      }
      return answers;
    };
    const secret = await asked('secret-den');
    const nowhere = await asked('nowhere-at-all');
    expect(secret).toEqual(nowhere);
    expect(secret[0]).toEqual({
      t: 'error',
      code: 'unknown-room',
      message: 'there is no room "ROOM" here',
      ref: 'ROOM',
    });
    expect(secret.every((a) => (a as { code: string }).code === 'unknown-room')).toBe(true);
    // Nothing but the answers to eve's own questions names the room; alice heard nothing of eve.
    expect(JSON.stringify(eve.received.filter((m) => m.t !== 'error'))).not.toMatch(/secret-den/);
    expect(eve.of('msg')).toEqual([]);
    expect(eve.of('typing')).toEqual([]);
    expect(alice.of('typing')).toEqual([]);
  });

  it('a client of another wire version is told to update', async () => {
    const { h } = await host();
    const old = await connectWireClient(h.address.port, h.publicKey, 'old', {
      hello: encodeMessage({ v: 1, nick: 'old', software: 'parley/0.0.1' }),
    });
    expect(await old.closed).toMatchObject({
      by: 'peer',
      code: 'version',
      reason: 'this host speaks Parley wire version 5; update Parley',
    });
  });

  it('after the welcome a member gets its rooms with role, and open rooms without', async () => {
    const { h, alice, bob } = await ownedLobby({ rooms: ['lobby'] });
    const created = await alice.request({ t: 'create', room: 'plaza', open: true });
    expect(created).toMatchObject({
      t: 'room',
      info: { room: 'plaza', role: 'owner', open: true },
    });
    await bob.waitFor('room', (m) => m.info.room === 'plaza');
    const again = await client(h, 'bob', bob.keyPair);
    expect(again.of('rooms')[0]?.rooms).toEqual([
      { room: 'lobby', kind: 'room', role: 'member', open: false },
      { room: 'plaza', kind: 'room', open: true },
    ]);
    expect(again.hostInfo.rooms).toEqual(['plaza']);
  });
});

describe('invites', () => {
  it('every redeem outcome has its own code; the room is named only to who holds the token', async () => {
    const { h, alice, clock } = await ownedLobby();
    const make = async (uses: number | null, expiresInMs: number | null) => {
      const answer = await alice.request({
        t: 'invite-create',
        room: 'lobby',
        role: 'member',
        uses,
        expiresInMs,
      });
      if (answer.t !== 'invite') throw new Error(`no invite: ${JSON.stringify(answer)}`);
      return answer;
    };
    const carol = await client(h, 'carol');

    expect(errorOf(await carol.redeem(randomToken()))).toMatchObject({
      code: 'invite-unknown',
    });
    expect(errorOf(await carol.redeem(randomToken())).ref).toBeUndefined();

    const revoked = await make(null, null);
    expect(
      await alice.request({ t: 'invite-revoke', room: 'lobby', id: revoked.invite.id }),
    ).toMatchObject({ t: 'done' });
    expect(errorOf(await carol.redeem(revoked.token))).toMatchObject({
      code: 'invite-revoked',
      ref: 'lobby',
    });

    const expiring = await make(null, 60_000);
    clock.t += 60_001;
    expect(errorOf(await carol.redeem(expiring.token))).toMatchObject({
      code: 'invite-expired',
      ref: 'lobby',
    });

    const once = await make(1, null);
    const dave = await client(h, 'dave');
    expect(await dave.redeem(once.token)).toMatchObject({ t: 'redeemed', room: 'lobby' });
    expect(errorOf(await carol.redeem(once.token))).toMatchObject({
      code: 'invite-used-up',
      ref: 'lobby',
    });

    clock.t += 10 * 60_000; // carol's guessing budget refills
    await alice.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: true });
    const fresh = await make(null, null);
    expect(errorOf(await carol.redeem(fresh.token))).toMatchObject({
      code: 'banned',
      ref: 'lobby',
    });
    const frank = await client(h, 'frank');
    expect(await frank.redeem(fresh.token)).toMatchObject({
      t: 'redeemed',
      room: 'lobby',
      role: 'member',
    });
    // The new member's list has the room; the room heard of it.
    await frank.waitFor('room', (m) => m.info.room === 'lobby' && m.info.role === 'member');
    await alice.join('lobby');
    const listed = await alice.request({ t: 'invite-list', room: 'lobby' });
    expect(listed.t === 'invites' && listed.invites.map((i) => i.id)).toContain(fresh.invite.id);
    expect(listed.t === 'invites' && listed.invites.map((i) => i.id)).not.toContain(
      revoked.invite.id,
    );
  });

  it('an admin cannot make more live invites than the room can list (no unlisted link)', async () => {
    const { alice } = await ownedLobby({
      limits: { manageBurst: 2000, requestBurst: 4000 },
    });
    const make = () =>
      alice.request({
        t: 'invite-create',
        room: 'lobby',
        role: 'member',
        uses: 1,
        expiresInMs: null,
      });
    // The start's reusable member invite is live, and one-use owner invite was spent by alice.
    const before = await alice.request({ t: 'invite-list', room: 'lobby' });
    const live = before.t === 'invites' ? before.invites.length : 0;
    for (let i = live; i < 100; i++) expect((await make()).t).toBe('invite');
    const refused = await make();
    expect(refused).toMatchObject({ t: 'error', code: 'forbidden', ref: 'lobby' });
    const listed = await alice.request({ t: 'invite-list', room: 'lobby' });
    expect(listed.t === 'invites' && listed.invites.length).toBe(100);
  });

  it('a member redeeming again spends no use', async () => {
    const { alice, bob } = await ownedLobby();
    const made = await alice.request({
      t: 'invite-create',
      room: 'lobby',
      role: 'member',
      uses: 2,
      expiresInMs: null,
    });
    if (made.t !== 'invite') throw new Error('no invite');
    expect(made.invite).toMatchObject({ usesLeft: 2, role: 'member', room: 'lobby' });
    expect(made.invite.createdBy).toEqual({ nick: 'alice', key: alice.keyText });
    expect(await bob.redeem(made.token)).toMatchObject({ t: 'redeemed', role: 'member' });
    expect(await bob.redeem(made.token)).toMatchObject({ t: 'redeemed', role: 'member' });
    const listed = await alice.request({ t: 'invite-list', room: 'lobby' });
    expect(
      listed.t === 'invites' && listed.invites.find((i) => i.id === made.invite.id),
    ).toMatchObject({ usesLeft: 2 });
  });

  it('guessing is refused per key after 5 failures, without looking at the token', async () => {
    const { h, alice, clock } = await ownedLobby();
    const made = await alice.request({
      t: 'invite-create',
      room: 'lobby',
      role: 'member',
      uses: null,
      expiresInMs: null,
    });
    if (made.t !== 'invite') throw new Error('no invite');
    const mallory = await client(h, 'mallory');
    for (let i = 0; i < 5; i++) {
      expect(errorOf(await mallory.redeem(randomToken())).code).toBe('invite-unknown');
    }
    const refused = errorOf(await mallory.redeem(made.token)); // a good token, not even tried
    expect(refused).toMatchObject({ code: 'rate-limited' });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.ref).toBeUndefined();
    // The budget is the key's: a second connection of it is refused too.
    const again = await client(h, 'mallory', mallory.keyPair);
    expect(errorOf(await again.redeem(made.token)).code).toBe('rate-limited');
    clock.t += refused.retryAfterMs ?? 0;
    expect(await again.redeem(made.token)).toMatchObject({ t: 'redeemed', room: 'lobby' });
  });

  it('guessing is refused per address after 10 failures, whatever the keys', async () => {
    const { h, alice } = await ownedLobby();
    const made = await alice.request({
      t: 'invite-create',
      room: 'lobby',
      role: 'member',
      uses: null,
      expiresInMs: null,
    });
    if (made.t !== 'invite') throw new Error('no invite');
    for (const nick of ['g1', 'g2']) {
      const guesser = await client(h, nick);
      for (let i = 0; i < 5; i++) {
        expect(errorOf(await guesser.redeem(randomToken())).code).toBe('invite-unknown');
      }
    }
    const fresh = await client(h, 'g3'); // a new key, the same address
    expect(errorOf(await fresh.redeem(made.token)).code).toBe('rate-limited');
  });
});

describe('removal', () => {
  it('a removed reader gets `removed`, then nothing more of the room, while a sender keeps sending', async () => {
    const { h, alice, bob } = await ownedLobby({
      limits: { messagesPerSecond: 100_000, messageBurst: 100_000 },
    });
    const carol = await client(h, 'carol');
    await carol.redeem(invite(h, 'member'));
    for (const c of [alice, bob, carol]) await c.join('lobby');
    let sending = true;
    let sent = 0;
    const sender = (async () => {
      while (sending) {
        bob.send({ t: 'send', room: 'lobby', id: newId(), text: `tick ${sent++}` });
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await until(() => carol.of('msg').length >= 20, 'carol reading');
    expect(
      await alice.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: false }),
    ).toMatchObject({ t: 'done' });
    const removed = await carol.waitFor('removed');
    expect(removed).toEqual({
      t: 'removed',
      room: 'lobby',
      reason: 'removed',
      by: { nick: 'alice', key: alice.keyText },
    });
    const at = sent;
    await until(() => sent >= at + 50, 'more sends');
    sending = false;
    await sender;
    await until(() => bob.of('ack').length >= sent, 'every send acknowledged');
    const after = carol.received.slice(carol.received.indexOf(removed) + 1);
    expect(after.filter((m) => 'room' in m && m.room === 'lobby')).toEqual([]);
    // The others saw the event, and keep getting messages.
    const event = await alice.waitFor('event', (e) => e.action === 'removed');
    expect(event).toMatchObject({
      room: 'lobby',
      actor: { nick: 'alice', key: alice.keyText },
      target: { nick: 'carol', key: carol.keyText },
    });
    expect(event.history).toBeUndefined();
    expect(alice.of('msg').length).toBeGreaterThan(carol.of('msg').length);
    // No presence for carol's going: the event says it.
    expect(alice.of('presence').filter((p) => p.nick === 'carol' && p.event !== 'joined')).toEqual(
      [],
    );
    // Carol may no longer see the room at all.
    await expect(carol.join('lobby')).rejects.toThrow(/unknown-room/);
  });

  it('a ban outlives a restart and refuses a fresh invite', async () => {
    const first = await ownedLobby();
    expect(
      await first.alice.request({ t: 'remove', room: 'lobby', key: first.bob.keyText, ban: true }),
    ).toMatchObject({ t: 'done' });
    await first.bob.waitFor('removed', (m) => m.reason === 'banned');
    const aliceKey = first.alice.keyPair;
    const bobKey = first.bob.keyPair;
    await first.stop();

    const second = await host({ dataDir: first.dataDir });
    expect(second.h.startInvites).toEqual([]); // lobby has an owner: nothing new to print
    const alice = await client(second.h, 'alice', aliceKey);
    const made = await alice.request({
      t: 'invite-create',
      room: 'lobby',
      role: 'member',
      uses: null,
      expiresInMs: null,
    });
    if (made.t !== 'invite') throw new Error('no invite');
    const bob = await client(second.h, 'bob', bobKey);
    expect(bob.of('rooms')[0]?.rooms).toEqual([]);
    expect(errorOf(await bob.redeem(made.token)).code).toBe('banned');
    await expect(bob.join('lobby')).rejects.toThrow(/unknown-room/);
    // Unbanned, the same invite works.
    expect(await alice.request({ t: 'unban', room: 'lobby', key: bob.keyText })).toMatchObject({
      t: 'done',
    });
    expect(await bob.redeem(made.token)).toMatchObject({ t: 'redeemed' });
  });

  it('a ban of a key that is no member is kept for its first invite; an unknown key is not-member', async () => {
    const { h, alice } = await ownedLobby();
    const carol = await client(h, 'carol');
    expect(
      await alice.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: true }),
    ).toMatchObject({ t: 'done' });
    expect(errorOf(await carol.redeem(invite(h, 'member'))).code).toBe('banned');
    const stranger = randomBytes(32).toString('base64url');
    expect(
      errorOf(await alice.request({ t: 'remove', room: 'lobby', key: stranger, ban: true })).code,
    ).toBe('not-member');
    expect(
      errorOf(await alice.request({ t: 'remove', room: 'lobby', key: stranger, ban: false })).code,
    ).toBe('not-member');
  });

  it('a banned key does not see an open room: not listed, not joinable', async () => {
    const { h, alice, bob } = await ownedLobby();
    await alice.request({ t: 'set-open', room: 'lobby', open: true });
    await alice.request({ t: 'remove', room: 'lobby', key: bob.keyText, ban: true });
    const back = await client(h, 'bob', bob.keyPair);
    expect(back.of('rooms')[0]?.rooms).toEqual([]);
    await expect(back.join('lobby')).rejects.toThrow(/unknown-room/);
    const walker = await client(h, 'walker');
    expect(walker.of('rooms')[0]?.rooms.map((r) => r.room)).toEqual(['lobby']);
  });

  it('roles bound who may remove whom', async () => {
    const { h, alice, bob } = await ownedLobby();
    const carol = await client(h, 'carol');
    await carol.redeem(invite(h, 'member'));
    // A member removes nobody; nobody removes themselves (that is part).
    expect(
      errorOf(await bob.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: false }))
        .code,
    ).toBe('forbidden');
    expect(
      errorOf(await alice.request({ t: 'remove', room: 'lobby', key: alice.keyText, ban: false }))
        .code,
    ).toBe('forbidden');
    // An admin removes members, not other admins or owners.
    await alice.request({ t: 'set-role', room: 'lobby', key: bob.keyText, role: 'admin' });
    expect(
      errorOf(await bob.request({ t: 'remove', room: 'lobby', key: alice.keyText, ban: false }))
        .code,
    ).toBe('forbidden');
    expect(
      await bob.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: false }),
    ).toMatchObject({ t: 'done' });
    expect(
      errorOf(await bob.request({ t: 'remove', room: 'lobby', key: carol.keyText, ban: false }))
        .code,
    ).toBe('not-member');
  });
});

describe('roles, topic, open, part', () => {
  it('promote and demote: below you, up to your role; the last owner stays', async () => {
    const { h, alice, bob } = await ownedLobby();
    const carol = await client(h, 'carol');
    await carol.redeem(invite(h, 'member'));
    await alice.join('lobby');
    expect(
      await alice.request({ t: 'set-role', room: 'lobby', key: bob.keyText, role: 'admin' }),
    ).toMatchObject({ t: 'done' });
    await bob.waitFor('room', (m) => m.info.room === 'lobby' && m.info.role === 'admin');
    expect(await alice.waitFor('event', (e) => e.action === 'role')).toMatchObject({
      target: { nick: 'bob' },
      role: 'admin',
      actor: { nick: 'alice' },
    });
    // An admin cannot make owners, nor touch an owner.
    expect(
      errorOf(
        await bob.request({ t: 'set-role', room: 'lobby', key: carol.keyText, role: 'owner' }),
      ).code,
    ).toBe('forbidden');
    expect(
      errorOf(
        await bob.request({ t: 'set-role', room: 'lobby', key: alice.keyText, role: 'member' }),
      ).code,
    ).toBe('forbidden');
    expect(
      await bob.request({ t: 'set-role', room: 'lobby', key: carol.keyText, role: 'admin' }),
    ).toMatchObject({ t: 'done' });
    // The only owner may not step down; with a second owner she may.
    expect(
      errorOf(
        await alice.request({ t: 'set-role', room: 'lobby', key: alice.keyText, role: 'admin' }),
      ).code,
    ).toBe('forbidden');
    await alice.request({ t: 'set-role', room: 'lobby', key: bob.keyText, role: 'owner' });
    expect(
      errorOf(
        await alice.request({ t: 'set-role', room: 'lobby', key: bob.keyText, role: 'member' }),
      ).code,
    ).toBe('forbidden'); // owners cannot demote owners
    expect(
      await alice.request({ t: 'set-role', room: 'lobby', key: alice.keyText, role: 'member' }),
    ).toMatchObject({ t: 'done' });
    await alice.waitFor('room', (m) => m.info.role === 'member');
    // Members in the listing carry their roles.
    const dave = await client(h, 'dave');
    await dave.redeem(invite(h, 'member'));
    await dave.join('lobby');
    const listed = dave.of('members').flatMap((m) => m.members);
    // Online: in the room now (bob and carol are connected, but have not joined it).
    expect(Object.fromEntries(listed.map((m) => [m.nick, [m.role, m.online]]))).toEqual({
      alice: ['member', true],
      bob: ['owner', false],
      carol: ['admin', false],
      dave: ['member', true],
    });
  });

  it('topic by admins, open by owners; an open room takes anyone who connects', async () => {
    const { h, alice, bob } = await ownedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    expect(errorOf(await bob.request({ t: 'topic', room: 'lobby', topic: 'mine' })).code).toBe(
      'forbidden',
    );
    expect(await alice.request({ t: 'topic', room: 'lobby', topic: 'Plans' })).toMatchObject({
      t: 'done',
    });
    await bob.waitFor('room', (m) => m.info.topic === 'Plans' && m.info.role === 'member');
    expect(await bob.waitFor('event', (e) => e.action === 'topic')).toMatchObject({
      topic: 'Plans',
      actor: { nick: 'alice' },
    });
    expect(errorOf(await bob.request({ t: 'set-open', room: 'lobby', open: true })).code).toBe(
      'forbidden',
    );
    expect(await alice.request({ t: 'set-open', room: 'lobby', open: true })).toMatchObject({
      t: 'done',
    });
    await bob.waitFor('event', (e) => e.action === 'opened');
    const walker = await client(h, 'walker');
    expect(walker.hostInfo.rooms).toEqual(['lobby']);
    expect(walker.of('rooms')[0]?.rooms).toEqual([
      { room: 'lobby', kind: 'room', topic: 'Plans', open: true },
    ]);
    await walker.join('lobby');
    await walker.waitFor('room', (m) => m.info.room === 'lobby' && m.info.role === 'member');
    expect(await bob.waitFor('event', (e) => e.action === 'joined' && !e.history)).toMatchObject({
      actor: { nick: 'walker', key: walker.keyText },
    });
    // Closed again: a newcomer sees nothing; walker stays a member.
    await alice.request({ t: 'set-open', room: 'lobby', open: false });
    const late = await client(h, 'late');
    expect(late.hostInfo.rooms).toEqual([]);
    await expect(late.join('lobby')).rejects.toThrow(/unknown-room/);
    const back = await client(h, 'walker', walker.keyPair);
    await back.join('lobby');
  });

  it('part: any member; the last owner only when alone', async () => {
    const { h, alice, bob } = await ownedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    expect(errorOf(await alice.request({ t: 'part', room: 'lobby' })).code).toBe('forbidden');
    const answer = await bob.request({ t: 'part', room: 'lobby' });
    expect(answer).toMatchObject({ t: 'done' });
    const removed = await bob.waitFor('removed');
    expect(removed).toEqual({ t: 'removed', room: 'lobby', reason: 'parted' });
    expect(bob.received.indexOf(answer)).toBeLessThan(bob.received.indexOf(removed));
    expect(await alice.waitFor('event', (e) => e.action === 'left')).toMatchObject({
      actor: { nick: 'bob', key: bob.keyText },
    });
    const again = await client(h, 'bob', bob.keyPair);
    expect(again.of('rooms')[0]?.rooms).toEqual([]);
    expect(await alice.request({ t: 'part', room: 'lobby' })).toMatchObject({ t: 'done' });
  });

  it('a room list too long for one item reaches a new connection in pages', async () => {
    const { h, alice } = await ownedLobby({
      limits: { manageBurst: 2000, requestBurst: 4000 },
    });
    // Control characters are sent escaped, six bytes each: 40 such topics pass 64 KiB.
    const topic = '\u0001'.repeat(300);
    const open = Array.from({ length: 40 }, (_, i) => `square-${String(i).padStart(2, '0')}`);
    for (const room of open) {
      expect((await alice.request({ t: 'create', room, open: true })).t).toBe('room');
      expect((await alice.request({ t: 'topic', room, topic })).t).toBe('done');
    }
    const carol = await client(h, 'carol');
    await carol.waitFor('rooms', (m) => m.last !== false);
    const pages = carol.received.flatMap((m) => (m.t === 'rooms' ? [m] : []));
    // Every page but the last says more follow; together they are the whole list, once.
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.map((p) => p.last)).toEqual([...pages.slice(1).map(() => false), true]);
    expect(pages.flatMap((p) => p.rooms.map((r) => r.room)).sort()).toEqual(open);
  });

  it('direct messages others open do not use up the rooms a key may join', async () => {
    const { h, dataDir } = await host();
    const vic = await client(h, 'vic');
    // As many DMs as keys may have, opened by others (written as a second process would).
    const db = HostDatabase.open(`${dataDir}/history.sqlite`, { busyTimeoutMs: 5000 });
    try {
      const key = vic.keyPair.publicKey;
      for (let i = 0; i < MAX_ROOMS_PER_KEY; i++) {
        const other = new Uint8Array(randomBytes(32));
        db.rooms.createRoom(
          { name: dmRoomName(key, other), kind: 'dm', open: false, dmKeys: [other, key] },
          [
            { key: other, nick: `spam${i}`, role: 'member' },
            { key, nick: 'vic', role: 'member' },
          ],
          { key: other, nick: `spam${i}` },
          Date.now(),
        );
      }
    } finally {
      db.close();
    }
    expect(await vic.redeem(invite(h, 'member'))).toMatchObject({ t: 'redeemed', role: 'member' });
  });

  it('an open room takes members by joining only up to its limit', async () => {
    const { h } = await host({ openRooms: true, limits: { openRoomMembers: 2 } });
    for (const nick of ['ann', 'ben']) {
      const c = await client(h, nick);
      await c.join('lobby');
    }
    const cid = await client(h, 'cid');
    cid.send({ t: 'join', room: 'lobby' });
    const refused = await cid.waitFor('error', (m) => m.ref === 'lobby');
    expect(refused).toMatchObject({ code: 'forbidden' });
    expect(refused.t === 'error' && refused.message).toMatch(/full/);
  });

  it('create: admins and owners make rooms; names taken or dm. are refused', async () => {
    const { alice, bob } = await ownedLobby();
    expect(errorOf(await bob.request({ t: 'create', room: 'mine' })).code).toBe('forbidden');
    const made = await alice.request({ t: 'create', room: 'garden' });
    expect(made).toMatchObject({
      t: 'room',
      info: { room: 'garden', kind: 'room', role: 'owner', open: false },
    });
    expect(errorOf(await alice.request({ t: 'create', room: 'garden' })).code).toBe('room-exists');
    expect(errorOf(await alice.request({ t: 'create', room: 'lobby' })).code).toBe('room-exists');
    expect(errorOf(await alice.request({ t: 'create', room: 'dm.abc' })).code).toBe('room-exists');
    await alice.join('garden');
    expect(alice.of('event').find((e) => e.room === 'garden')).toMatchObject({
      action: 'created',
      actor: { nick: 'alice' },
      history: true,
    });
    await expect(bob.join('garden')).rejects.toThrow(/unknown-room/);
  });
});

describe('direct messages', () => {
  it('only the two see it; it is in both lists; a key sharing no room is refused', async () => {
    const { h, alice, bob } = await ownedLobby({ rooms: ['lobby', 'other'] });
    const outsider = await client(h, 'outsider');
    await outsider.redeem(invite(h, 'member', 'other'));

    const opened = await alice.request({ t: 'dm', key: bob.keyText });
    if (opened.t !== 'room') throw new Error(`no room: ${JSON.stringify(opened)}`);
    expect(opened.info).toMatchObject({
      kind: 'dm',
      role: 'member',
      open: false,
      peer: { nick: 'bob', key: bob.keyText },
    });
    const room = opened.info.room;
    expect(room).toMatch(/^dm\.[0-9a-f]{32}$/);
    const told = await bob.waitFor('room', (m) => m.info.room === room);
    expect(told.info.peer).toEqual({ nick: 'alice', key: alice.keyText });
    expect(told.rid).toBeUndefined();
    // The same DM whoever opens it.
    const again = await bob.request({ t: 'dm', key: alice.keyText });
    expect(again).toMatchObject({ t: 'room', info: { room } });

    await alice.join(room);
    await bob.join(room);
    const id = newId();
    alice.send({ t: 'send', room, id, text: 'just us' });
    expect(await bob.waitFor('msg', (m) => m.id === id)).toMatchObject({ text: 'just us' });
    await expect(outsider.join(room)).rejects.toThrow(/unknown-room/);
    expect(errorOf(await outsider.request({ t: 'dm', key: alice.keyText })).code).toBe(
      'not-member',
    );
    expect(errorOf(await alice.request({ t: 'dm', key: alice.keyText })).code).toBe('not-member');
    // Both lists, after a reconnect.
    for (const [c, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const later = await client(h, c === alice ? 'alice' : 'bob', c.keyPair);
      expect(later.of('rooms')[0]?.rooms).toContainEqual({
        room,
        kind: 'dm',
        role: 'member',
        open: false,
        peer: { nick: peer === alice ? 'alice' : 'bob', key: peer.keyText },
      });
    }
    // Roles, invites and bans have no place in a DM.
    expect(
      errorOf(
        await alice.request({
          t: 'invite-create',
          room,
          role: 'member',
          uses: 1,
          expiresInMs: null,
        }),
      ).code,
    ).toBe('forbidden');
    expect(
      errorOf(await alice.request({ t: 'remove', room, key: bob.keyText, ban: true })).code,
    ).toBe('forbidden');
  });
});

describe('room events', () => {
  it('reach everyone in the room live and are replayed in history in seq order with messages', async () => {
    const { h, alice, bob } = await ownedLobby();
    await alice.join('lobby');
    await bob.join('lobby');
    const id = newId();
    bob.send({ t: 'send', room: 'lobby', id, text: 'hi' });
    await bob.waitFor('ack');
    await alice.request({ t: 'topic', room: 'lobby', topic: 'Welcome' });
    const live = await bob.waitFor('event', (e) => e.action === 'topic');
    expect(live.history).toBeUndefined();
    await alice.waitFor('event', (e) => e.action === 'topic'); // the actor gets it too

    const carol = await client(h, 'carol');
    await carol.redeem(invite(h, 'member'));
    await carol.join('lobby');
    const replay = carol.received.filter(
      (m): m is Extract<HostMessage, { t: 'msg' | 'event' }> =>
        (m.t === 'msg' || m.t === 'event') && m.room === 'lobby',
    );
    expect(replay.map((m) => (m.t === 'msg' ? m.text : m.action))).toEqual([
      'created',
      'joined', // alice, by the owner invite
      'joined', // bob
      'hi',
      'topic',
      'joined', // carol
    ]);
    expect(replay.every((m) => m.history === true)).toBe(true);
    const seqs = replay.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(replay[0]).not.toHaveProperty('actor'); // the operator created it, at first start
    // History pages hold events too.
    const before = carol.received.length;
    carol.send({ t: 'history', room: 'lobby', before: replay[3]!.seq, limit: 10 });
    await carol.waitFor('history-end', (m) => carol.received.indexOf(m) >= before);
    const page = carol.received.slice(before).filter((m) => m.t === 'event');
    expect(page.map((m) => (m as { action: string }).action)).toEqual([
      'created',
      'joined',
      'joined',
    ]);
  });
});
