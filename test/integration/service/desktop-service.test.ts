// The desktop service layer under plain Node against a real host: real TCP on loopback, real
// Noise handshakes, real node:sqlite files. Every event the service emits is checked against
// the IPC contract's schema (harness.ts), since the renderer only ever sees it through that
// contract. Private rooms themselves are membership.test.ts's.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_HOSTS_FILE } from '../../../src-main/store/known-hosts.ts';
import type { DesktopServiceOptions } from '../../../src-main/service/desktop-service.ts';
import { dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import {
  type HostSpec,
  connected,
  hostIdOf,
  openTestService,
  rows,
  startTestHost,
} from './harness.ts';

const cleanups = cleanupsAfterEach();
const host = (spec: HostSpec = {}) => startTestHost(cleanups, spec);
const service = (dataDir?: string, options: Partial<DesktopServiceOptions> = {}) =>
  openTestService(cleanups, dataDir, options);

describe('the desktop service against a real host', () => {
  it('connects with an invite, sends (queued, then sent) and delivers to another install', async () => {
    // Open rooms: bob joins #dev without an invite of its own (invites: membership.test.ts).
    const h = await host({ openRooms: true });
    const id = hostIdOf(h);
    const alice = await service();
    const bob = await service();

    const state = await alice.service.connect({ invite: h.invite('lobby'), nick: 'alice' });
    expect(state).toMatchObject({ status: 'connecting', host: '127.0.0.1', port: h.address.port });
    expect(await alice.events.waitFor('connectionState', connected)).toMatchObject({
      status: 'connected',
      hostFingerprint: h.fingerprint,
      trust: 'invite',
      nick: 'alice',
    });

    await bob.service.connect({ invite: h.invite('lobby'), nick: 'bob' });
    await bob.events.waitFor('connectionState', connected);
    bob.service.joinRoom({ hostId: id, room: 'dev' });
    bob.service.setActiveRoom({ hostId: id, room: 'dev' });
    // Bob is present in lobby (alice sees him as a member, online, not verified yet).
    await alice.events.waitFor('members', (m) =>
      m.members.some((x) => x.nick === 'bob' && x.online && !x.verified && !x.self),
    );

    const { id: sentId } = alice.service.send({ hostId: id, room: 'lobby', text: 'hello bob' });
    const queued = await alice.events.waitFor('message', (m) => m.id === sentId);
    expect(queued).toMatchObject({ own: true, status: 'queued', text: 'hello bob', from: 'alice' });
    expect(queued.seq).toBeUndefined();
    const status = await alice.events.waitFor('messageStatus', (s) => s.id === sentId);
    expect(status).toMatchObject({ hostId: id, room: 'lobby', status: 'sent' });
    expect(status.seq).toBeTypeOf('number');

    const received = await bob.events.waitFor('message', (m) => m.id === sentId);
    expect(received).toMatchObject({
      room: 'lobby',
      from: 'alice',
      text: 'hello bob',
      own: false,
      status: 'sent',
      seq: status.seq,
      fp: alice.service.identity.fingerprint,
    });
    // Bob looks at #dev, so #lobby counts the message as unread and a notification is due.
    expect(await bob.events.waitFor('unread', (u) => u.total === 1)).toEqual({
      hostId: id,
      counts: { lobby: 1 },
      total: 1,
      allHosts: 1,
      mentions: {},
      allHostsMentions: 0,
    });
    expect(await bob.events.waitFor('notify')).toMatchObject({
      title: 'alice in #lobby',
      body: 'New message',
      room: 'lobby',
    });
    expect(bob.service.getSnapshot({}).hosts[0]?.rooms).toEqual(
      expect.arrayContaining([
        {
          name: 'lobby',
          joined: true,
          unread: 1,
          kind: 'room',
          role: 'member',
          open: true,
          mute: 'all',
          e2ee: 'not-encrypted',
          firstUnreadSeq: status.seq,
        },
        {
          name: 'dev',
          joined: true,
          unread: 0,
          kind: 'room',
          role: 'member',
          open: true,
          mute: 'all',
          e2ee: 'not-encrypted',
        },
      ]),
    );
    // Alice never counts or notifies her own message.
    expect(alice.events.of('unread').every((u) => u.total === 0)).toBe(true);
    expect(alice.events.of('notify')).toEqual([]);

    bob.service.setActiveRoom({ hostId: id, room: 'lobby' });
    expect(bob.events.of('unread').at(-1)).toEqual({
      hostId: id,
      counts: {},
      total: 0,
      allHosts: 0,
      mentions: {},
      allHostsMentions: 0,
    });

    // A message in the visible room of a focused window is neither unread nor notified…
    bob.events.reset();
    const second = alice.service.send({ hostId: id, room: 'lobby', text: 'you there?' });
    await bob.events.waitFor('message', (m) => m.id === second.id);
    expect(bob.events.of('unread')).toEqual([]);
    expect(bob.events.of('notify')).toEqual([]);
    // …but it is once the window loses focus.
    bob.service.setWindowFocused(false);
    const third = alice.service.send({ hostId: id, room: 'lobby', text: 'hello?' });
    await bob.events.waitFor('message', (m) => m.id === third.id);
    expect(await bob.events.waitFor('unread')).toEqual({
      hostId: id,
      counts: { lobby: 1 },
      total: 1,
      allHosts: 1,
      mentions: {},
      allHostsMentions: 0,
    });
    bob.service.setWindowFocused(true);
    expect(bob.events.of('unread').at(-1)).toEqual({
      hostId: id,
      counts: {},
      total: 0,
      allHosts: 0,
      mentions: {},
      allHostsMentions: 0,
    });

    // Verifying bob's key shows in alice's member list.
    const bobKey = bob.service.identity.key;
    await alice.service.markVerified({ key: bobKey, verified: true });
    await alice.events.waitFor('members', (m) =>
      m.members.some((x) => x.key === bobKey && x.verified),
    );
    expect(alice.service.getMembers({ hostId: id, room: 'lobby' })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ nick: 'alice', self: true, online: true }),
        expect.objectContaining({ nick: 'bob', verified: true, online: true }),
      ]),
    );
  });

  it('asks before trusting a host reached without an invite, and pins what was accepted', async () => {
    const h = await host();
    const id = hostIdOf(h);
    const app = await service();

    await app.service.connect({ host: '127.0.0.1', port: h.address.port, nick: 'carol' });
    const question = await app.events.waitFor('trustRequired');
    expect(question).toMatchObject({
      host: '127.0.0.1',
      port: h.address.port,
      fingerprint: h.fingerprint,
    });
    expect(app.events.of('connectionState').some(connected)).toBe(false);
    app.service.answerTrust({ requestId: question.requestId, trust: true });
    expect(await app.events.waitFor('connectionState', connected)).toMatchObject({
      trust: 'first-use',
      hostFingerprint: h.fingerprint,
    });
    // The question is closed: answering it again is an error, not a second pin.
    expect(() => app.service.answerTrust({ requestId: question.requestId, trust: true })).toThrow(
      /no longer open/,
    );

    // Next time the host is known: no question.
    await app.service.disconnect({ hostId: id });
    app.events.reset();
    await app.service.connect({ host: '127.0.0.1', port: h.address.port, nick: 'carol' });
    expect(await app.events.waitFor('connectionState', connected)).toMatchObject({
      trust: 'known',
    });
    expect(app.events.of('trustRequired')).toEqual([]);
  });

  it('does not connect when the user declines the unknown host', async () => {
    const h = await host();
    const app = await service();
    await app.service.connect({ host: '127.0.0.1', port: h.address.port, nick: 'dave' });
    const question = await app.events.waitFor('trustRequired');
    const answer = await dispatchRequest(app.service, 'answerTrust', {
      requestId: question.requestId,
      trust: false,
    });
    expect(answer).toEqual({ ok: true, value: {} });
    const state = await app.events.waitFor('connectionState', (s) => s.status === 'offline');
    expect(state.reason).toMatch(/not trusted/);
    expect(h.clientCount).toBe(0);
    // Nothing was pinned: the next attempt asks again.
    app.events.reset();
    await app.service.connect({ host: '127.0.0.1', port: h.address.port, nick: 'dave' });
    await app.events.waitFor('trustRequired');
  });

  it('refuses a host whose key changed, says so, and does not reconnect', async () => {
    const first = await host();
    const port = first.address.port;
    const id = hostIdOf(first);
    const app = await service();
    await app.service.connect({ invite: first.invite('lobby'), nick: 'erin' });
    await app.events.waitFor('connectionState', connected);
    await app.service.disconnect({ hostId: id });
    await first.stop();

    // Someone else answers on the same address, with another key.
    const impostor = await host({ port });
    expect(impostor.fingerprint).not.toBe(first.fingerprint);
    app.events.reset();
    await app.service.connect({ host: '127.0.0.1', port, nick: 'erin' });
    expect(await app.events.waitFor('hostKeyChanged')).toEqual({
      hostId: id,
      expectedFrom: 'pinned',
      host: '127.0.0.1',
      port,
      expectedFingerprint: first.fingerprint,
      actualFingerprint: impostor.fingerprint,
    });
    const state = await app.events.waitFor('connectionState', (s) => s.status === 'offline');
    expect(state.reason).toMatch(/changed/);
    await new Promise((r) => setTimeout(r, 300));
    const statuses = app.events.of('connectionState').map((s) => s.status);
    expect(statuses.at(-1)).toBe('offline');
    expect(statuses).not.toContain('connected');
    expect(statuses).not.toContain('reconnecting');
    expect(app.events.of('trustRequired')).toEqual([]);
    // And sending now is refused as not connected, not queued for the impostor.
    expect(
      await dispatchRequest(app.service, 'send', { hostId: id, room: 'lobby', text: 'x' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not-connected' },
    });
  });

  it('keeps history and unsent messages across a restart of the app', async () => {
    const hostDir = cleanups.tempDir('parley-host-');
    const h = await host({ dataDir: hostDir });
    const id = hostIdOf(h);
    const port = h.address.port;
    const invite = h.invite('lobby');
    const appDir = cleanups.tempDir('parley-app-');

    // First run: two messages acknowledged, then the host goes away and a third waits.
    const first = await service(appDir);
    await first.service.connect({ invite, nick: 'frank' });
    await first.events.waitFor('connectionState', connected);
    const a = first.service.send({ hostId: id, room: 'lobby', text: 'one' });
    const b = first.service.send({ hostId: id, room: 'lobby', text: 'two' });
    await first.events.waitFor('messageStatus', (s) => s.id === b.id);
    await first.events.waitFor('messageStatus', (s) => s.id === a.id);
    await h.stop();
    await first.events.waitFor('connectionState', (s) => s.status === 'reconnecting');
    const c = first.service.send({ hostId: id, room: 'lobby', text: 'three' });
    expect(await first.events.waitFor('message', (m) => m.id === c.id)).toMatchObject({
      status: 'queued',
    });
    await first.service.close();

    // Second run, the host still down: everything is there, the unsent message still queued.
    const second = await service(appDir);
    expect(second.service.getSnapshot({}).hosts).toEqual([]);
    await second.service.restoreHosts();
    await second.events.waitFor('connectionState', (s) => s.status === 'reconnecting');
    const snapshot = second.service.getSnapshot({});
    expect(snapshot.hosts.map((x) => x.connection)).toEqual([
      expect.objectContaining({ hostId: id, status: 'reconnecting', host: '127.0.0.1', port }),
    ]);
    expect(snapshot.recentHosts).toEqual([
      expect.objectContaining({ host: '127.0.0.1', port, nick: 'frank', room: 'lobby' }),
    ]);
    // Offline, a room is what the host said of it last time.
    expect(snapshot.hosts[0]?.rooms).toEqual([
      {
        name: 'lobby',
        joined: true,
        unread: 0,
        kind: 'room',
        role: 'member',
        open: false,
        mute: 'all',
        e2ee: 'not-encrypted',
      },
    ]);
    expect(snapshot.keyStorageWarning).toMatch(/unencrypted/);
    const offline = await second.service.loadHistory({ hostId: id, room: 'lobby', limit: 50 });
    expect(offline.messages.map((m) => [m.text, m.status, m.own])).toEqual([
      ['one', 'sent', true],
      ['two', 'sent', true],
      ['three', 'queued', true],
    ]);
    // The room's events are kept with its messages: the host made it, frank came in.
    expect(rows(offline)).toEqual(['* host created', '* frank joined', 'one', 'two', 'three']);
    // While the host is away it may still hold older ones: the timeline may ask again later.
    expect(offline.more).toBe(true);
    const paged = await second.service.loadHistory({ hostId: id, room: 'lobby', limit: 1 });
    expect(paged.messages.map((m) => m.text)).toEqual(['three']);
    expect(paged.more).toBe(true);
    const older = await second.service.loadHistory({
      hostId: id,
      room: 'lobby',
      limit: 3,
      beforeSeq: offline.messages[1]!.seq!,
    });
    expect(rows(older)).toEqual(['* host created', '* frank joined', 'one']);
    expect(older.more).toBe(true);

    // The host is back: the queued message goes out by itself, once.
    const back = await host({ dataDir: hostDir, port });
    const watcher = await service();
    await watcher.service.connect({ invite: back.invite('lobby'), nick: 'gina' });
    await watcher.events.waitFor('connectionState', connected);
    await second.service.connect({ invite: back.invite('lobby'), nick: 'frank' });
    const sent = await second.events.waitFor('messageStatus', (s) => s.id === c.id);
    expect(sent.status).toBe('sent');
    await watcher.events.waitFor('message', (m) => m.id === c.id && m.text === 'three');
    const after = await second.service.loadHistory({ hostId: id, room: 'lobby', limit: 50 });
    expect(after.messages.map((m) => [m.text, m.status])).toEqual([
      ['one', 'sent'],
      ['two', 'sent'],
      ['three', 'sent'],
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(watcher.events.of('message').filter((m) => m.id === c.id)).toHaveLength(1);
  });

  it('pages history from the host when the local copy runs out', async () => {
    // The host replays only the last 5 messages on join; the rest must be asked for.
    const h = await host({
      limits: { historyOnJoin: 5, messagesPerSecond: 100, messageBurst: 100 },
    });
    const id = hostIdOf(h);
    const writer = await service();
    await writer.service.connect({ invite: h.invite('lobby'), nick: 'hank' });
    await writer.events.waitFor('connectionState', connected);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++)
      ids.push(writer.service.send({ hostId: id, room: 'lobby', text: `m${i}` }).id);
    await writer.events.waitFor('messageStatus', (s) => s.id === ids.at(-1));

    const reader = await service();
    await reader.service.connect({ invite: h.invite('lobby'), nick: 'ivy' });
    await reader.events.waitFor('connectionState', connected);
    await reader.events.waitFor('message', (m) => m.id === ids.at(-1));
    // A page counts rows: ivy coming in is the newest.
    const page = await reader.service.loadHistory({ hostId: id, room: 'lobby', limit: 10 });
    expect(rows(page)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `m${21 + i}`),
      '* ivy joined',
    ]);
    expect(page.more).toBe(true);
    const older = await reader.service.loadHistory({
      hostId: id,
      room: 'lobby',
      limit: 100,
      beforeSeq: page.messages[0]!.seq!,
    });
    expect(rows(older)).toEqual([
      '* host created',
      '* hank joined',
      ...Array.from({ length: 21 }, (_, i) => `m${i}`),
    ]);
    expect(older.more).toBe(false);
    // What loadHistory fetched came back through it, not as live message events; the join
    // replay of a first visit (5 rows: 4 messages and ivy coming in) is neither unread nor
    // notified.
    expect(reader.events.of('message').map((m) => m.text)).toEqual(
      Array.from({ length: 4 }, (_, i) => `m${26 + i}`),
    );
    expect(reader.events.of('roomEvent').map((e) => [e.action, e.actor?.nick])).toEqual([
      ['joined', 'ivy'],
    ]);
    expect(reader.events.of('unread').every((u) => u.total === 0)).toBe(true);
    expect(reader.events.of('notify')).toEqual([]);
    // Offline, the whole room is still there.
    await h.stop();
    await reader.events.waitFor('connectionState', (s) => s.status === 'reconnecting');
    const offline = await reader.service.loadHistory({ hostId: id, room: 'lobby', limit: 100 });
    expect(offline.messages).toHaveLength(30);
  });

  it('counts messages missed while offline as unread when they arrive with the rejoin', async () => {
    const h = await host();
    const id = hostIdOf(h);
    const alice = await service();
    const bob = await service();
    await alice.service.connect({ invite: h.invite('lobby'), nick: 'alice' });
    await bob.service.connect({ invite: h.invite('lobby'), nick: 'bob' });
    await bob.events.waitFor('connectionState', connected);
    await alice.events.waitFor('connectionState', connected);
    const first = alice.service.send({ hostId: id, room: 'lobby', text: 'before' });
    await bob.events.waitFor('message', (m) => m.id === first.id);
    bob.service.setActiveRoom({ hostId: id, room: 'lobby' });
    await bob.service.disconnect({ hostId: id });

    const missed = alice.service.send({ hostId: id, room: 'lobby', text: 'while you were away' });
    await alice.events.waitFor('messageStatus', (s) => s.id === missed.id);
    bob.events.reset();
    bob.service.setWindowFocused(false);
    await bob.service.connect({ invite: h.invite('lobby'), nick: 'bob' });
    const got = await bob.events.waitFor('message', (m) => m.id === missed.id);
    expect(got.history).toBe(true);
    expect(await bob.events.waitFor('unread', (u) => u.total > 0)).toEqual({
      hostId: id,
      counts: { lobby: 1 },
      total: 1,
      allHosts: 1,
      mentions: {},
      allHostsMentions: 0,
    });
    // The message seen before is not repeated, and history is never notified.
    expect(bob.events.of('message').map((m) => m.id)).toEqual([missed.id]);
    expect(bob.events.of('notify')).toEqual([]);
  });

  it('a connect that cannot start (a damaged known-hosts file) leaves the app as it was', async () => {
    const a = await host();
    const b = await host();
    const app = await service();
    await app.service.connect({ invite: a.invite('lobby'), nick: 'kim' });
    await app.events.waitFor('connectionState', connected);
    writeFileSync(join(app.dataDir, KNOWN_HOSTS_FILE), '{ not json');
    await expect(app.service.connect({ invite: b.invite('lobby'), nick: 'kim' })).rejects.toThrow();
    // Still connected to A, and B never joined the sidebar.
    expect(app.service.getSnapshot({}).hosts.map((x) => x.connection)).toEqual([
      expect.objectContaining({ status: 'connected', hostId: hostIdOf(a) }),
    ]);
    expect(a.clientCount).toBe(1);
    expect(b.clientCount).toBe(0);
  });

  it('runs one session per host at a time, even when connects overlap', async () => {
    const h = await host();
    const app = await service();
    const [a, b] = await Promise.all([
      app.service.connect({ invite: h.invite('lobby'), nick: 'kim' }),
      app.service.connect({ invite: h.invite('dev'), nick: 'kim' }),
    ]);
    expect([a.status, b.status]).toEqual(['connecting', 'connecting']);
    await app.events.waitFor('connectionState', connected);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.clientCount).toBe(1);
  });

  it('reports host errors and bad input as typed results through dispatch', async () => {
    const h = await host();
    const id = hostIdOf(h);
    const app = await service();
    expect(
      await dispatchRequest(app.service, 'connect', { invite: 'parley://nope', nick: 'j' }),
    ).toMatchObject({ ok: false, error: { code: 'invalid-invite' } });
    expect(
      await dispatchRequest(app.service, 'send', { hostId: id, room: 'lobby', text: 'hi' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not-connected' },
    });
    await app.service.connect({ invite: h.invite('lobby'), nick: 'jo' });
    await app.events.waitFor('connectionState', connected);
    expect(
      await dispatchRequest(app.service, 'send', { hostId: id, room: 'dev', text: 'hi' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    // A room the host does not have: an error event, and the room is not kept as joined.
    app.service.joinRoom({ hostId: id, room: 'nowhere' });
    expect(await app.events.waitFor('error', (e) => e.code === 'unknown-room')).toBeTruthy();
    expect(
      app.service.getSnapshot({}).hosts[0]?.rooms.find((r) => r.name === 'nowhere')?.joined,
    ).toBe(false);
  });
});
