// Several hosts at once in one desktop service, against real hosts on loopback: each host's
// rooms, unread counts, members and history stay its own (two hosts can each have a #lobby),
// the badge counts across hosts with muted rooms left out, and the sidebar comes back on start.
import { describe, expect, it } from 'vitest';
import { dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';
import {
  type HostSpec,
  connectedTo,
  joinLobby,
  openTestService,
  refusedUntrusted,
  rows,
  startTestHost,
} from './harness.ts';

const cleanups = cleanupsAfterEach();
const host = (spec: HostSpec = {}) => startTestHost(cleanups, { openRooms: true, ...spec });

/**
 * Alice and bob in #lobby of a new host; alice looks at #dev, so what bob says in #lobby is
 * unread for her. Returns once she knows bob is in #lobby.
 */
async function awayFromLobby() {
  const h = await host();
  const alice = await openTestService(cleanups);
  const bob = await openTestService(cleanups);
  const id = await joinLobby(alice, h, 'alice');
  await joinLobby(bob, h, 'bob');
  alice.service.joinRoom({ hostId: id, room: 'dev' });
  alice.service.setActiveRoom({ hostId: id, room: 'dev' });
  await alice.events.waitFor(
    'members',
    (m) => m.room === 'lobby' && m.members.some((x) => x.nick === 'bob'),
  );
  return { alice, bob, id };
}

describe('the desktop service with several hosts at once', () => {
  it('renames us in our own member lists on the host whose nickname changed, and only there', async () => {
    const hA = await host();
    const hB = await host();
    const alice = await openTestService(cleanups);
    const a = await joinLobby(alice, hA, 'alice');
    const b = await joinLobby(alice, hB, 'alice');
    const self =
      (hostId: string) => (m: { hostId: string; members: { self: boolean; nick: string }[] }) =>
        m.hostId === hostId && m.members.some((x) => x.self);
    await alice.events.waitFor('members', self(a));
    await alice.events.waitFor('members', self(b));

    alice.service.setNick({ hostId: a, nick: 'alicia' });
    const renamed = await alice.events.waitFor(
      'members',
      (m) => m.hostId === a && m.members.some((x) => x.self && x.nick === 'alicia'),
    );
    expect(renamed.room).toBe('lobby');
    expect(alice.service.getMembers({ hostId: a, room: 'lobby' }).find((x) => x.self)?.nick).toBe(
      'alicia',
    );
    // Each host has its own nickname: host B still knows us as alice.
    expect(alice.service.getMembers({ hostId: b, room: 'lobby' }).find((x) => x.self)?.nick).toBe(
      'alice',
    );
  });

  it('keeps two hosts apart: unread, history and members of each #lobby, and disconnects one alone', async () => {
    const hA = await host();
    const hB = await host();
    const alice = await openTestService(cleanups);
    const bob = await openTestService(cleanups);
    const carol = await openTestService(cleanups);
    const a = await joinLobby(alice, hA, 'alice');
    const b = await joinLobby(alice, hB, 'alice');
    await joinLobby(bob, hB, 'bob');
    await joinLobby(carol, hA, 'carol');

    // Alice looks at host A's #lobby; a message in host B's #lobby is unread there.
    alice.service.setActiveRoom({ hostId: a, room: 'lobby' });
    await alice.events.waitFor(
      'members',
      (m) => m.hostId === b && m.members.some((x) => x.nick === 'bob'),
    );
    const { id } = bob.service.send({ hostId: b, room: 'lobby', text: 'hello from B' });
    const received = await alice.events.waitFor('message', (m) => m.id === id);
    expect(received).toMatchObject({ hostId: b, room: 'lobby', text: 'hello from B' });
    expect(await alice.events.waitFor('unread', (u) => u.hostId === b && u.total === 1)).toEqual({
      hostId: b,
      counts: { lobby: 1 },
      total: 1,
      allHosts: 1,
      mentions: {},
      allHostsMentions: 0,
    });
    expect(await alice.events.waitFor('notify', (n) => n.hostId === b)).toMatchObject({
      room: 'lobby',
      title: 'bob in #lobby',
    });
    expect(alice.service.unreadTotal).toBe(1);

    // The snapshot lists both hosts in the order they were added; only B's lobby is unread.
    const snapshot = alice.service.getSnapshot({});
    expect(snapshot.hosts.map((h) => h.connection.hostId)).toEqual([a, b]);
    expect(snapshot.hosts.map((h) => h.connection.status)).toEqual(['connected', 'connected']);
    const lobbyOf = (i: number) => snapshot.hosts[i]?.rooms.find((r) => r.name === 'lobby');
    expect(lobbyOf(0)).toMatchObject({ unread: 0, mute: 'all' });
    expect(lobbyOf(1)).toMatchObject({ unread: 1, mute: 'all' });

    // A message on host A's #lobby (the one on screen) is not unread.
    const fromCarol = carol.service.send({ hostId: a, room: 'lobby', text: 'hello from A' });
    await alice.events.waitFor('message', (m) => m.id === fromCarol.id);
    expect(alice.events.of('unread').filter((u) => u.hostId === a && u.total > 0)).toEqual([]);

    // Same room name, two rooms: history and members are each host's own.
    const historyA = await alice.service.loadHistory({ hostId: a, room: 'lobby', limit: 50 });
    const historyB = await alice.service.loadHistory({ hostId: b, room: 'lobby', limit: 50 });
    expect(rows(historyA).filter((r) => !r.startsWith('*'))).toEqual(['hello from A']);
    expect(rows(historyB).filter((r) => !r.startsWith('*'))).toEqual(['hello from B']);
    const nicks = (hostId: string) =>
      alice.service
        .getMembers({ hostId, room: 'lobby' })
        .map((m) => m.nick)
        .sort();
    expect(nicks(a)).toEqual(['alice', 'carol']);
    expect(nicks(b)).toEqual(['alice', 'bob']);

    // Disconnecting from B leaves A connected; B leaves the snapshot with a last idle state.
    await alice.service.disconnect({ hostId: b });
    expect(
      alice.events
        .of('connectionState')
        .filter((s) => s.hostId === b)
        .at(-1),
    ).toMatchObject({
      status: 'idle',
    });
    expect(alice.events.of('unread').at(-1)).toEqual({
      hostId: b,
      counts: {},
      total: 0,
      allHosts: 0,
      mentions: {},
      allHostsMentions: 0,
    });
    const after = alice.service.getSnapshot({});
    expect(after.hosts.map((h) => [h.connection.hostId, h.connection.status])).toEqual([
      [a, 'connected'],
    ]);
    const again = carol.service.send({ hostId: a, room: 'lobby', text: 'still here?' });
    await alice.events.waitFor('message', (m) => m.id === again.id && m.hostId === a);
    // B is gone: its requests are refused, naming it.
    expect(() => alice.service.send({ hostId: b, room: 'lobby', text: 'x' })).toThrow(b);
  });

  it('refuses a request for a host that is not in the sidebar, saying so', async () => {
    const app = await openTestService(cleanups);
    const call = () => app.service.send({ hostId: 'example.org:7878', room: 'lobby', text: 'hi' });
    expect(call).toThrow(ServiceError);
    expect(call).toThrow(/example\.org:7878 is not one of your hosts/);
    const result = await dispatchRequest(app.service, 'getMembers', {
      hostId: 'example.org:7878',
      room: 'lobby',
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'not-connected',
        message: 'example.org:7878 is not one of your hosts now; connect to it first',
      },
    });
    await expect(app.service.disconnect({ hostId: 'example.org:7878' })).rejects.toThrow(
      /not one of your hosts/,
    );
    expect(() => app.service.setActiveRoom({ hostId: 'example.org:7878', room: 'lobby' })).toThrow(
      /not one of your hosts/,
    );
  });

  it("mutes a room: 'nothing' never notifies nor counts on the badge, 'mentions' only for @nick", async () => {
    const { alice, bob, id } = await awayFromLobby();

    await alice.service.setRoomMute({ hostId: id, room: 'lobby', mute: 'nothing' });
    expect(
      alice.events
        .of('rooms')
        .at(-1)
        ?.rooms.find((r) => r.name === 'lobby')?.mute,
    ).toBe('nothing');
    const quiet = bob.service.send({ hostId: id, room: 'lobby', text: 'nobody hears this @alice' });
    await alice.events.waitFor('message', (m) => m.id === quiet.id);
    // The room still counts it (the list shows it, dimmed); the badge does not.
    expect(await alice.events.waitFor('unread', (u) => u.counts['lobby'] === 1)).toEqual({
      hostId: id,
      counts: { lobby: 1 },
      total: 0,
      allHosts: 0,
      // The room names its unread mention; the tray does not count it ('nothing').
      mentions: { lobby: 1 },
      allHostsMentions: 0,
    });
    expect(alice.service.unreadTotal).toBe(0);
    expect(alice.events.of('notify')).toEqual([]);

    await alice.service.setRoomMute({ hostId: id, room: 'lobby', mute: 'mentions' });
    const plain = bob.service.send({ hostId: id, room: 'lobby', text: 'just chatting, alice' });
    await alice.events.waitFor('message', (m) => m.id === plain.id);
    const named = bob.service.send({ hostId: id, room: 'lobby', text: 'hey @Alice, look' });
    await alice.events.waitFor('message', (m) => m.id === named.id);
    // The badge counts the unread messages that name her: this one and the muted one before.
    expect(await alice.events.waitFor('unread', (u) => u.counts['lobby'] === 3)).toEqual({
      hostId: id,
      counts: { lobby: 3 },
      total: 2,
      allHosts: 2,
      mentions: { lobby: 2 },
      allHostsMentions: 2,
    });
    // Only the message that names her was notified, in all three.
    const notified = alice.events.of('notify');
    expect(notified).toHaveLength(1);
    expect(notified[0]).toMatchObject({ hostId: id, room: 'lobby', coalesced: 1 });

    // Kept on this machine: another start of the app still has it (after this one quit: one
    // process at a time holds an install's E2EE store).
    await alice.service.close();
    const reopened = await openTestService(cleanups, alice.dataDir);
    await reopened.service.restoreHosts();
    const lobby = reopened.service.getSnapshot({}).hosts[0]?.rooms.find((r) => r.name === 'lobby');
    expect(lobby?.mute).toBe('mentions');
  });

  it('marks where the unread messages start, and clears it once the room was read and left', async () => {
    const { alice, bob, id } = await awayFromLobby();

    const first = bob.service.send({ hostId: id, room: 'lobby', text: 'one' });
    const firstSeen = await alice.events.waitFor('message', (m) => m.id === first.id);
    const second = bob.service.send({ hostId: id, room: 'lobby', text: 'two' });
    await alice.events.waitFor('message', (m) => m.id === second.id);
    const lobby = () =>
      alice.service.getSnapshot({}).hosts[0]?.rooms.find((r) => r.name === 'lobby');
    expect(lobby()).toMatchObject({ unread: 2, firstUnreadSeq: firstSeen.seq });

    // Reading it: the count goes, the line stays while the room is on screen…
    alice.service.setActiveRoom({ hostId: id, room: 'lobby' });
    expect(lobby()).toMatchObject({ unread: 0, firstUnreadSeq: firstSeen.seq });
    // …and goes when she moves away from it.
    alice.service.setActiveRoom({ hostId: id, room: 'dev' });
    expect(lobby()?.firstUnreadSeq).toBeUndefined();
    expect(
      alice.events
        .of('rooms')
        .at(-1)
        ?.rooms.find((r) => r.name === 'lobby')?.firstUnreadSeq,
    ).toBeUndefined();
  });

  it('brings back the hosts that were in the sidebar, in the order they were added', async () => {
    const hA = await host();
    const hB = await host();
    const first = await openTestService(cleanups);
    // Both met for the first time at once: neither's pinned key may be lost to the other's.
    const [a, b] = await Promise.all([
      joinLobby(first, hA, 'alice'),
      joinLobby(first, hB, 'alice'),
    ]);
    expect(first.service.getSnapshot({}).hosts.map((h) => h.connection.hostId)).toEqual([a, b]);
    await first.service.close();

    const second = await openTestService(cleanups, first.dataDir);
    // Nothing connects by itself: the shell asks for it.
    expect(second.service.getSnapshot({}).hosts).toEqual([]);
    const restored = await second.service.restoreHosts();
    expect(restored.map((s) => s.hostId)).toEqual([a, b]);
    await second.events.waitFor('connectionState', connectedTo(hA));
    await second.events.waitFor('connectionState', connectedTo(hB));
    expect(second.service.getSnapshot({}).hosts.map((h) => h.connection.hostId)).toEqual([a, b]);
    expect(second.events.of('trustRequired')).toEqual([]);
    // A host the user disconnected from stays away.
    await second.service.disconnect({ hostId: a });
    await second.service.close();

    const third = await openTestService(cleanups, first.dataDir);
    expect((await third.service.restoreHosts()).map((s) => s.hostId)).toEqual([b]);
    await third.events.waitFor('connectionState', connectedTo(hB));
    // No trust question: the key was pinned on the first connection.
    expect(third.events.of('trustRequired')).toEqual([]);
  });

  it('tries a host waiting to reconnect at once when the network changes', async () => {
    const hostDir = cleanups.tempDir('parley-host-');
    const h = await host({ dataDir: hostDir });
    const port = h.address.port;
    const app = await openTestService(cleanups, undefined, {
      // Without a nudge, the next attempt would be a minute away.
      sessionOptions: { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } },
    });
    const id = await joinLobby(app, h, 'alice');
    // Another host, connected all along: the network change leaves it alone.
    const steady = await host();
    const other = await joinLobby(app, steady, 'alice');
    await h.stop();
    await app.events.waitFor(
      'connectionState',
      (s) => s.hostId === id && s.status === 'reconnecting',
    );
    await host({ dataDir: hostDir, port });
    app.events.reset();
    await sleep(50);
    expect(app.events.of('connectionState').some((s) => s.status === 'connected')).toBe(false);
    await app.service.networkChanged({});
    expect(
      await app.events.waitFor(
        'connectionState',
        (s) => s.hostId === id && s.status === 'connected',
        5000,
      ),
    ).toMatchObject({ hostId: id, status: 'connected' });
    expect(app.events.of('connectionState').filter((s) => s.hostId === other)).toEqual([]);
    expect(steady.clientCount).toBe(1);
  });

  it('starts a host that gave up again on Retry now, and refuses one not in the sidebar', async () => {
    const h = await host();
    const app = await openTestService(cleanups);
    const id = await refusedUntrusted(app, h);
    await app.service.retryNow({ hostId: id });
    // A new attempt, which asks again (nothing was pinned); accepted, it connects.
    const again = await app.events.waitFor('trustRequired');
    expect(again).toMatchObject({ hostId: id, fingerprint: h.fingerprint });
    app.service.answerTrust({ requestId: again.requestId, trust: true });
    await app.events.waitFor('connectionState', connectedTo(h));
    await expect(app.service.retryNow({ hostId: '127.0.0.1:1' })).rejects.toThrow(
      /127\.0\.0\.1:1 is not one of your hosts/,
    );
  });
});
