// Private rooms through the desktop service, against a real host: invites in and out, what the
// room list says about each room, removals, refused invites, direct messages, and the rule that
// an invite's token is kept nowhere. Each service's events are checked against the contract.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningHost } from '../../../src-main/server/host.ts';
import { dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { RECENT_HOSTS_FILE } from '../../../src-main/service/recent-hosts.ts';
import { parseInvite } from '../../../src-shared/invite.ts';
import type { RoomView } from '../../../src-shared/ipc/domain.ts';
import { cleanupsAfterEach, sleep, until } from '../../support/lifecycle.ts';
import {
  type TestService,
  connected,
  hostIdOf,
  openTestService,
  rows,
  startTestHost,
} from './harness.ts';

const cleanups = cleanupsAfterEach();

/** A service connected with `invite` as `nick`, once the host has listed its rooms. */
async function member(invite: string, nick: string): Promise<TestService> {
  const app = await openTestService(cleanups);
  await app.service.connect({ invite, nick });
  await app.events.waitFor('connectionState', connected);
  return app;
}

/** The rooms of the one host `app` is connected to in these tests. */
function roomsOf(app: TestService): RoomView[] {
  return app.service.getSnapshot({}).hosts[0]?.rooms ?? [];
}

function room(app: TestService, name: string): RoomView | undefined {
  return roomsOf(app).find((r) => r.name === name);
}

/** Waits until the service lists `name` as matching `expected` (or, with null, not at all). */
async function listed(
  app: TestService,
  name: string,
  expected: Partial<RoomView> | null,
): Promise<void> {
  await app.events.waitFor('rooms', ({ rooms }) => {
    const entry = rooms.find((r) => r.name === name);
    return expected === null
      ? entry === undefined
      : entry !== undefined &&
          Object.entries(expected).every(([k, v]) => entry[k as keyof RoomView] === v);
  });
}

/** Alice owns #dev, bob is a member; both are in it. */
async function ownerAndMember(h: RunningHost): Promise<{ alice: TestService; bob: TestService }> {
  const alice = await member(h.invite('dev', { role: 'owner' }), 'alice');
  await listed(alice, 'dev', { role: 'owner', joined: true });
  const bob = await member(h.invite('dev'), 'bob');
  await listed(bob, 'dev', { role: 'member', joined: true });
  await alice.events.waitFor('members', (m) => m.members.some((x) => x.nick === 'bob' && x.online));
  return { alice, bob };
}

const keyOf = (app: TestService): string => app.service.identity.key;

function tokenOf(link: string): string {
  const parsed = parseInvite(link);
  if (!parsed.ok || parsed.value.token === undefined) throw new Error('a link without a token');
  return parsed.value.token;
}

describe('private rooms in the desktop service', () => {
  it('connecting with an invite makes us a member: the room is listed with our role', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const alice = await member(h.invite('dev', { role: 'owner' }), 'alice');
    await listed(alice, 'dev', { role: 'owner', joined: true, kind: 'room', open: false });
    // Only the rooms this key may see: #lobby is private and not ours.
    expect(roomsOf(alice).map((r) => r.name)).toEqual(['dev']);
    expect(alice.events.of('inviteRefused')).toEqual([]);
    // Her own arrival is a row of the room's timeline, kept locally.
    await alice.events.waitFor('roomEvent', (e) => e.action === 'joined');
    const page = await alice.service.loadHistory({ hostId: id, room: 'dev', limit: 50 });
    expect(rows(page)).toEqual(['* host created', '* alice joined']);
    expect(page.events?.[1]?.actor).toEqual({
      nick: 'alice',
      key: keyOf(alice),
      fp: alice.service.identity.fingerprint,
    });
    // The members panel: her role and that she is online.
    await alice.events.waitFor('members', (m) =>
      m.members.some((x) => x.self && x.role === 'owner' && x.online),
    );
  });

  it('an invite made in the app admits another install, once', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const alice = await member(h.invite('dev', { role: 'owner' }), 'alice');
    await listed(alice, 'dev', { role: 'owner' });

    const before = Date.now();
    const made = await alice.service.createInvite({
      hostId: id,
      room: 'dev',
      role: 'member',
      uses: 1,
      expiresInMs: 3_600_000,
    });
    const link = parseInvite(made.link);
    expect(link.ok && link.value).toMatchObject({
      host: '127.0.0.1',
      port: h.address.port,
      room: 'dev',
    });
    expect(link.ok && link.value.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(made).toMatchObject({ role: 'member', usesLeft: 1 });
    expect(made.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    const invites = await alice.service.listInvites({ hostId: id, room: 'dev' });
    expect(invites).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: made.id,
          role: 'member',
          usesLeft: 1,
          createdBy: expect.objectContaining({ nick: 'alice', key: keyOf(alice) }),
        }),
      ]),
    );

    const bob = await member(made.link, 'bob');
    await listed(bob, 'dev', { role: 'member', joined: true });
    // Alice sees him come in, live, and in her member list with his role.
    const joined = await alice.events.waitFor(
      'roomEvent',
      (e) => e.action === 'joined' && e.actor?.nick === 'bob',
    );
    expect(joined.history).toBeUndefined();
    await alice.events.waitFor('members', (m) =>
      m.members.some((x) => x.key === keyOf(bob) && x.role === 'member'),
    );
    expect(
      (await alice.service.listInvites({ hostId: id, room: 'dev' })).map((i) => i.id),
    ).not.toContain(made.id);

    // Used up: the next one is told so, and stays connected without the room.
    const carol = await member(made.link, 'carol');
    expect(await carol.events.waitFor('inviteRefused')).toMatchObject({
      code: 'invite-used-up',
      room: 'dev',
    });
    await sleep(100);
    expect(carol.service.getSnapshot({}).hosts[0]?.connection.status).toBe('connected');
    expect(room(carol, 'dev')).toBeUndefined();
    expect(carol.events.of('error')).toEqual([]);
  });

  it('a member may not invite; the refusal comes back typed, in the host’s words', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { bob } = await ownerAndMember(h);
    const answer = await dispatchRequest(bob.service, 'createInvite', {
      hostId: id,
      room: 'dev',
      role: 'member',
      uses: null,
      expiresInMs: null,
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // And a room it cannot see is not there, whatever it is.
    expect(
      await dispatchRequest(bob.service, 'listInvites', { hostId: id, room: 'lobby' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    // Input outside the contract never reaches the host.
    expect(
      await dispatchRequest(bob.service, 'createInvite', {
        hostId: id,
        room: 'dev',
        role: 'member',
      }),
    ).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('removing a member drops the room from their list and disk, with a notice by whom', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);
    const said = bob.service.send({ hostId: id, room: 'dev', text: 'hello' });
    await bob.events.waitFor('messageStatus', (s) => s.id === said.id && s.status === 'sent');
    const { room: dm } = await alice.service.openDm({ hostId: id, key: keyOf(bob) });
    await listed(bob, dm, { joined: true });
    expect(bob.service.getSnapshot({}).recentHosts[0]?.room).toBe('dev');
    bob.service.setWindowFocused(false);

    await alice.service.removeMember({ hostId: id, room: 'dev', key: keyOf(bob), ban: false });
    expect(await bob.events.waitFor('roomRemoved')).toEqual({
      hostId: id,
      room: 'dev',
      reason: 'removed',
      by: { nick: 'alice', key: keyOf(alice), fp: alice.service.identity.fingerprint },
    });
    await listed(bob, 'dev', null);
    expect(room(bob, 'dev')).toBeUndefined();
    expect(await bob.events.waitFor('notify')).toMatchObject({
      title: 'Parley',
      body: 'You were removed from #dev by alice',
    });
    expect(await bob.service.loadHistory({ hostId: id, room: 'dev', limit: 50 })).toEqual({
      messages: [],
      events: [],
      more: false,
    });
    expect(
      await dispatchRequest(bob.service, 'send', { hostId: id, room: 'dev', text: 'x' }),
    ).toMatchObject({
      ok: false,
    });
    // The direct message stays, and is the room the next connect opens.
    expect(room(bob, dm)).toMatchObject({ joined: true });
    await until(() => bob.service.getSnapshot({}).recentHosts[0]?.room === dm, 'the recent room');

    // Alice sees it in the timeline, and bob gone from her member list.
    const removed = await alice.events.waitFor('roomEvent', (e) => e.action === 'removed');
    expect(removed).toMatchObject({ actor: { nick: 'alice' }, target: { nick: 'bob' } });
    await alice.events.waitFor('members', (m) => !m.members.some((x) => x.key === keyOf(bob)));
  });

  it('a room we were removed from while away is gone on the next connection, quietly', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);
    const said = bob.service.send({ hostId: id, room: 'dev', text: 'before' });
    await bob.events.waitFor('messageStatus', (s) => s.id === said.id && s.status === 'sent');
    await bob.service.disconnect({ hostId: id });
    await alice.service.removeMember({ hostId: id, room: 'dev', key: keyOf(bob), ban: false });
    bob.events.reset();
    // The link without a token: it only pins the host.
    await bob.service.connect({ invite: h.link('dev'), nick: 'bob' });
    // Until the host says otherwise, bob's app shows what it kept.
    expect(bob.events.of('rooms')[0]?.rooms.find((r) => r.name === 'dev')).toMatchObject({
      joined: true,
    });
    await bob.events.waitFor('connectionState', connected);
    await listed(bob, 'dev', null);
    expect(
      (await bob.service.loadHistory({ hostId: id, room: 'dev', limit: 50 })).messages,
    ).toEqual([]);
    await sleep(150);
    // No "there is no room" for the room it used to be in.
    expect(bob.events.of('error')).toEqual([]);
    expect(bob.events.of('inviteRefused')).toEqual([]);
  });

  it('a ban removes, and refuses the banned key’s next invite', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);
    await alice.service.removeMember({ hostId: id, room: 'dev', key: keyOf(bob), ban: true });
    expect(await bob.events.waitFor('roomRemoved')).toMatchObject({ reason: 'banned' });
    bob.events.reset();
    await bob.service.connect({ invite: h.invite('dev'), nick: 'bob' });
    expect(await bob.events.waitFor('inviteRefused')).toMatchObject({ code: 'banned' });
    expect(room(bob, 'dev')).toBeUndefined();

    // Lifted: the same key may be invited again.
    await alice.service.unban({ hostId: id, room: 'dev', key: keyOf(bob) });
    expect(await alice.events.waitFor('roomEvent', (e) => e.action === 'unbanned')).toMatchObject({
      target: { nick: 'bob' },
    });
    bob.events.reset();
    await bob.service.connect({ invite: h.invite('dev'), nick: 'bob' });
    await listed(bob, 'dev', { role: 'member', joined: true });
    expect(bob.events.of('inviteRefused')).toEqual([]);
  });

  it('an owner opens a room to everyone on the host, and closes it again', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);
    // Only owners: an admin's or member's attempt is refused in the host's words.
    expect(
      await dispatchRequest(bob.service, 'setOpen', { hostId: id, room: 'dev', open: true }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const carol = await member(h.link('lobby'), 'carol');
    expect(room(carol, 'dev')).toBeUndefined();

    await alice.service.setOpen({ hostId: id, room: 'dev', open: true });
    await listed(bob, 'dev', { open: true, role: 'member' });
    // Someone with no invite now sees it, and may join it.
    await listed(carol, 'dev', { open: true });
    expect(await bob.events.waitFor('roomEvent', (e) => e.action === 'opened')).toMatchObject({
      actor: { nick: 'alice' },
    });

    await alice.service.setOpen({ hostId: id, room: 'dev', open: false });
    await listed(bob, 'dev', { open: false });
    expect(await bob.events.waitFor('roomEvent', (e) => e.action === 'closed')).toBeDefined();
  });

  it('an expired or revoked invite is refused as such, and the connection stays', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const alice = await member(h.invite('dev', { role: 'owner' }), 'alice');
    await listed(alice, 'dev', { role: 'owner' });

    const expired = h.invite('dev', { expiresInMs: 1 });
    await sleep(20);
    const dave = await member(expired, 'dave');
    expect(await dave.events.waitFor('inviteRefused')).toMatchObject({ code: 'invite-expired' });

    const made = await alice.service.createInvite({
      hostId: id,
      room: 'dev',
      role: 'member',
      uses: null,
      expiresInMs: null,
    });
    await alice.service.revokeInvite({ hostId: id, room: 'dev', id: made.id });
    expect(
      (await alice.service.listInvites({ hostId: id, room: 'dev' })).map((i) => i.id),
    ).not.toContain(made.id);
    const erin = await member(made.link, 'erin');
    const refused = await erin.events.waitFor('inviteRefused');
    expect(refused).toMatchObject({ code: 'invite-revoked', room: 'dev' });
    expect(refused.message).not.toContain(tokenOf(made.link));
    await sleep(100);
    for (const app of [dave, erin]) {
      expect(app.service.getSnapshot({}).hosts[0]?.connection.status).toBe('connected');
      expect(roomsOf(app)).toEqual([]);
      // One notice, not also "there is no room" for the invite's room.
      expect(app.events.of('error')).toEqual([]);
    }
  });

  it('keeps the invite’s token nowhere on disk: recent hosts keep the room, not the link', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const link = h.invite('dev', { role: 'owner' });
    const token = tokenOf(link);
    expect(token).toHaveLength(24);
    const alice = await member(link, 'alice');
    await listed(alice, 'dev', { role: 'owner' });
    const made = await alice.service.createInvite({
      hostId: id,
      room: 'dev',
      role: 'member',
      uses: 5,
      expiresInMs: null,
    });
    const madeToken = tokenOf(made.link);
    await alice.events.waitFor('connectionState', connected);
    await sleep(100); // the recent-hosts write
    await alice.service.close();

    const recent = JSON.parse(readFileSync(join(alice.dataDir, RECENT_HOSTS_FILE), 'utf8'));
    expect(recent.hosts).toEqual([
      expect.objectContaining({ host: '127.0.0.1', port: h.address.port, room: 'dev' }),
    ]);
    for (const file of filesUnder(alice.dataDir)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(token), file).toBe(false);
      expect(bytes.includes(madeToken), file).toBe(false);
    }
  });

  it('a direct message opened by one shows for both, with the other as its peer', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);
    const { room: dm } = await alice.service.openDm({ hostId: id, key: keyOf(bob) });
    expect(dm).toMatch(/^dm\.[0-9a-f]{32}$/);
    await listed(alice, dm, { kind: 'dm', joined: true });
    expect(room(alice, dm)?.peer).toEqual({
      nick: 'bob',
      key: keyOf(bob),
      fp: bob.service.identity.fingerprint,
    });
    await listed(bob, dm, { kind: 'dm', joined: true });
    expect(room(bob, dm)?.peer).toMatchObject({ nick: 'alice', key: keyOf(alice) });

    // Opening it again finds the same room; a line in it reaches the other.
    expect(await bob.service.openDm({ hostId: id, key: keyOf(alice) })).toEqual({ room: dm });
    const said = alice.service.send({ hostId: id, room: dm, text: 'psst' });
    expect(await bob.events.waitFor('message', (m) => m.id === said.id)).toMatchObject({
      room: dm,
      from: 'alice',
      text: 'psst',
    });
    expect(
      await dispatchRequest(alice.service, 'openDm', { hostId: id, key: keyOf(alice) }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
  });

  it('owners run the room: a new room, the topic, roles, and leaving', async () => {
    const h = await startTestHost(cleanups);
    const id = hostIdOf(h);
    const { alice, bob } = await ownerAndMember(h);

    expect(await alice.service.createRoom({ hostId: id, room: 'ops' })).toEqual({ room: 'ops' });
    await listed(alice, 'ops', { role: 'owner', joined: true, open: false });
    expect(
      await dispatchRequest(alice.service, 'createRoom', { hostId: id, room: 'dev' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'room-exists' },
    });

    await alice.service.setTopic({ hostId: id, room: 'dev', topic: 'ship it' });
    await listed(bob, 'dev', { topic: 'ship it' });
    expect(await bob.events.waitFor('roomEvent', (e) => e.action === 'topic')).toMatchObject({
      topic: 'ship it',
      actor: { nick: 'alice' },
    });

    await alice.service.setRole({ hostId: id, room: 'dev', key: keyOf(bob), role: 'admin' });
    await listed(bob, 'dev', { role: 'admin' });
    await alice.events.waitFor('members', (m) =>
      m.members.some((x) => x.key === keyOf(bob) && x.role === 'admin'),
    );
    // An admin may invite now.
    expect(
      (
        await bob.service.createInvite({
          hostId: id,
          room: 'dev',
          role: 'member',
          uses: 1,
          expiresInMs: null,
        })
      ).link,
    ).toMatch(/^parley:\/\//);

    bob.service.setWindowFocused(false);
    await bob.service.partRoom({ hostId: id, room: 'dev' });
    expect(await bob.events.waitFor('roomRemoved')).toEqual({
      hostId: id,
      room: 'dev',
      reason: 'parted',
    });
    await listed(bob, 'dev', null);
    expect(await alice.events.waitFor('roomEvent', (e) => e.action === 'left')).toMatchObject({
      actor: { nick: 'bob' },
    });
    // Leaving is our own doing: no notification for it.
    await sleep(50);
    expect(bob.events.of('notify')).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
