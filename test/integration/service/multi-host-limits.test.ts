// Several hosts at once, at the edges: how many the sidebar holds, what comes back after a
// restart, and what "Retry now" may and may not do — against real hosts on loopback.
import { writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatchRequest } from '../../../src-main/service/dispatch.ts';
import { RECENT_HOSTS_FILE } from '../../../src-main/service/recent-hosts.ts';
import { MAX_ROOMS_PER_HOST, ROOM_MUTES_FILE } from '../../../src-main/service/room-mutes.ts';
import { ChatSession } from '../../../src-main/client/chat-session.ts';
import { MAX_HOSTS } from '../../../src-main/service/desktop-service.ts';
import { ServiceError } from '../../../src-main/service/service-error.ts';
import { cleanupsAfterEach, sleep } from '../../support/lifecycle.ts';
import {
  type HostSpec,
  connectedTo,
  hostIdOf,
  joinLobby,
  openTestService,
  refusedUntrusted,
  startTestHost,
} from './harness.ts';

const cleanups = cleanupsAfterEach();
const host = (spec: HostSpec = {}) => startTestHost(cleanups, { openRooms: true, ...spec });

/** A loopback address where nothing listens: the host stays in the sidebar, reconnecting. */
const nowhere = (i: number) => ({ host: `127.0.0.${i + 2}`, port: 1, nick: 'alice' });

describe('the desktop service at its limits', () => {
  it(`holds at most ${MAX_HOSTS} hosts, saying so, even when they are added at once`, async () => {
    const app = await openTestService(cleanups);
    const results = await Promise.allSettled(
      Array.from({ length: MAX_HOSTS + 1 }, (_, i) => app.service.connect(nowhere(i))),
    );
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(ServiceError);
    expect((refused[0] as ServiceError).message).toMatch(
      new RegExp(`at most ${MAX_HOSTS} hosts at once; disconnect from one`),
    );
    expect(app.service.getSnapshot({}).hosts).toHaveLength(MAX_HOSTS);
    const inSidebar = app.service.getSnapshot({}).hosts.map((h) => h.connection.hostId);
    const first = inSidebar[0] ?? '';
    // Connecting again to one already there is not adding one.
    const [host0, port0] = [first.slice(0, first.lastIndexOf(':')), 1];
    await expect(
      app.service.connect({ host: host0, port: port0, nick: 'alice' }),
    ).resolves.toMatchObject({ hostId: first });
    // One leaves: another may come.
    await app.service.disconnect({ hostId: first });
    const missing = Array.from({ length: MAX_HOSTS + 1 }, (_, i) => nowhere(i)).find(
      (t) => !inSidebar.includes(`${t.host}:${t.port}`),
    );
    expect(missing).toBeDefined();
    if (missing) await expect(app.service.connect(missing)).resolves.toBeDefined();
    expect(app.service.getSnapshot({}).hosts).toHaveLength(MAX_HOSTS);
  });

  it('brings back every host that was in the sidebar, more than the start screen lists', async () => {
    const hosts = await Promise.all(Array.from({ length: 12 }, () => host()));
    const first = await openTestService(cleanups);
    const ids: string[] = [];
    for (const h of hosts) ids.push(await joinLobby(first, h, 'alice'));
    await first.service.close();

    const second = await openTestService(cleanups, first.dataDir);
    const restored = await second.service.restoreHosts();
    expect(restored.map((s) => s.hostId)).toEqual(ids);
    // The start screen still offers the ten used last.
    expect(second.service.getSnapshot({}).recentHosts).toHaveLength(10);
  });

  it('never turns Retry now on a host refused for not matching its invite into a trust question', async () => {
    const hA = await host();
    const hB = await host();
    // A link that names host A's address with host B's key: wrong, or forged.
    const forged = hB.invite('lobby').replace(`:${hB.address.port}/`, `:${hA.address.port}/`);
    expect(forged).toContain(`:${hA.address.port}/`);
    const app = await openTestService(cleanups);
    const id = hostIdOf(hA);
    await app.service.connect({ invite: forged, nick: 'alice' });
    expect(await app.events.waitFor('hostKeyChanged')).toMatchObject({
      hostId: id,
      expectedFrom: 'invite',
    });
    await app.events.waitFor('connectionState', (s) => s.hostId === id && s.status === 'offline');
    app.events.reset();
    await app.service.retryNow({ hostId: id }).catch(() => undefined);
    // Asked again, it is refused again against the invite's key: nobody is asked to trust it.
    expect(await app.events.waitFor('hostKeyChanged')).toMatchObject({
      hostId: id,
      expectedFrom: 'invite',
    });
    expect(app.events.of('trustRequired')).toEqual([]);
  });

  it('starts one new attempt however often Retry now is pressed on a stopped host', async () => {
    const h = await host();
    const app = await openTestService(cleanups);
    const id = await refusedUntrusted(app, h);
    await Promise.all(Array.from({ length: 5 }, () => app.service.retryNow({ hostId: id })));
    await app.events.waitFor('trustRequired');
    await sleep(300);
    // One attempt, one question: not five, each ending the one before.
    expect(app.events.of('trustRequired')).toHaveLength(1);
    await app.service.networkChanged({});
    await sleep(100);
    expect(app.events.of('trustRequired')).toHaveLength(1);
  });

  it('lets a host go that is disconnected while it is still being added', async () => {
    const h = await host();
    const app = await openTestService(cleanups);
    const id = hostIdOf(h);
    const connecting = app.service.connect({ invite: h.invite('lobby'), nick: 'alice' });
    const leaving = app.service.disconnect({ hostId: id });
    await connecting;
    await expect(leaving).resolves.toEqual({});
    expect(app.service.getSnapshot({}).hosts).toEqual([]);
    expect(
      app.events
        .of('connectionState')
        .filter((s) => s.hostId === id)
        .at(-1),
    ).toMatchObject({ status: 'idle' });
    await sleep(100);
    expect(h.clientCount).toBe(0);
  });

  it("leaves a host the user is connecting to at start to the user's Connect, not the restore", async () => {
    const h = await host();
    const first = await openTestService(cleanups);
    const id = await joinLobby(first, h, 'alice');
    await first.service.close();

    const second = await openTestService(cleanups, first.dataDir);
    // The window is up and the user connects again, as someone else, while the restore runs.
    const byHand = second.service.connect({ invite: h.invite('lobby'), nick: 'alice2' });
    const restored = await second.service.restoreHosts();
    await byHand;
    expect(restored).toEqual([]);
    await second.events.waitFor('connectionState', connectedTo(h));
    await sleep(100);
    const states = second.events.of('connectionState').filter((s) => s.hostId === id);
    expect(states.at(-1)).toMatchObject({ status: 'connected', nick: 'alice2' });
    expect(states.filter((s) => s.status === 'connected')).toHaveLength(1);
  });

  it('says so when the list of hosts to bring back is damaged, instead of starting empty silently', async () => {
    const first = await openTestService(cleanups);
    await first.service.close();
    writeFileSync(joinPath(first.dataDir, RECENT_HOSTS_FILE), '{"version":1,"hosts":[{"host":');
    const second = await openTestService(cleanups, first.dataDir);
    expect(await second.service.restoreHosts()).toEqual([]);
    expect(await second.events.waitFor('error')).toEqual({
      code: 'store-damaged',
      message:
        'recent-hosts.json could not be read, so the hosts open when Parley last quit are not ' +
        'back; the file was set aside as recent-hosts.json.damaged',
    });
  });

  it('keeps a host in the sidebar while Connect starts it again (another invite to it, say)', async () => {
    const h = await host();
    const app = await openTestService(cleanups);
    const id = await joinLobby(app, h, 'alice');
    app.events.reset();
    // 'idle' tells the UI the host left the sidebar: nothing says so on the way to connecting again.
    await app.service.connect({ invite: h.invite('dev'), nick: 'alice' });
    await app.events.waitFor('connectionState', connectedTo(h));
    const states = app.events.of('connectionState').filter((s) => s.hostId === id);
    expect(states.map((s) => s.status)).not.toContain('idle');
    expect(app.service.getSnapshot({}).hosts.map((x) => x.connection.hostId)).toEqual([id]);
    // Leaving it still says so, once.
    await app.service.disconnect({ hostId: id });
    const last = app.events.of('connectionState').filter((s) => s.hostId === id);
    expect(last.filter((s) => s.status === 'idle')).toHaveLength(1);
    expect(last.at(-1)?.status).toBe('idle');
  });

  it('refuses a notification level past the limit of rooms per host, saying so', async () => {
    const h = await host();
    const dataDir = cleanups.tempDir('parley-app-');
    const full = Object.fromEntries(
      Array.from({ length: MAX_ROOMS_PER_HOST }, (_, i) => [`room-${i}`, 'nothing']),
    );
    writeFileSync(
      joinPath(dataDir, ROOM_MUTES_FILE),
      JSON.stringify({ version: 1, hosts: { [hostIdOf(h)]: full } }),
    );
    const app = await openTestService(cleanups, dataDir);
    const id = await joinLobby(app, h, 'alice');
    const result = await dispatchRequest(app.service, 'setRoomMute', {
      hostId: id,
      room: 'lobby',
      mute: 'nothing',
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'refused',
        message: expect.stringMatching(
          new RegExp(`at most ${MAX_ROOMS_PER_HOST} rooms`),
        ) as unknown,
      },
    });
  });

  it('makes one attempt per waiting host however many network changes and Retry nows come at once', async () => {
    // Every TCP connection the sessions open, by port: what "one attempt" means.
    const dials = new Map<number, number>();
    const app = await openTestService(cleanups, undefined, {
      sessionOptions: { reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } },
      createSession: (options) =>
        new ChatSession({
          ...options,
          connect: (address) => {
            dials.set(address.port, (dials.get(address.port) ?? 0) + 1);
            return connectTcp({ host: address.host, port: address.port });
          },
        }),
    });
    const ids: string[] = [];
    for (const h of [await host(), await host()]) {
      ids.push(await joinLobby(app, h, 'alice'));
      await h.stop();
    }
    for (const id of ids) {
      await app.events.waitFor(
        'connectionState',
        (s) => s.hostId === id && s.status === 'reconnecting',
      );
    }
    app.events.reset();
    dials.clear();
    // The machine wakes, the browser says it is online, and the user presses Retry now: at once.
    await Promise.all([
      ...Array.from({ length: 5 }, () => app.service.networkChanged({})),
      ...ids.flatMap((hostId) => Array.from({ length: 5 }, () => app.service.retryNow({ hostId }))),
    ]);
    for (const id of ids) {
      await app.events.waitFor(
        'connectionState',
        (s) => s.hostId === id && s.status === 'reconnecting',
      );
    }
    await sleep(100);
    for (const id of ids) {
      const tries = app.events
        .of('connectionState')
        .filter((s) => s.hostId === id && s.status === 'connecting');
      expect(tries).toHaveLength(1);
    }
    expect([...dials.values()]).toEqual([1, 1]);
  });

  it('refuses an invite whose host is too long to be named, instead of adding a host nobody can remove', async () => {
    const h = await host();
    const key = h.invite('lobby').split('#')[1] ?? '';
    const app = await openTestService(cleanups);
    // An IPv6 literal padded out (and a zone no interface has): the link still fits in 2048.
    for (const address of [`[${':'.repeat(1200)}]`, `[fe80::1%${'a'.repeat(1200)}]`]) {
      const link = `parley://${address}:7878/lobby#${key}`;
      const result = await dispatchRequest(app.service, 'connect', { invite: link, nick: 'alice' });
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid-invite' } });
    }
    expect(app.service.getSnapshot({}).hosts).toEqual([]);
  });

  it('refuses an invite whose key is not the one a connected host presents, leaving its session be', async () => {
    const hA = await host();
    const hB = await host();
    const app = await openTestService(cleanups);
    const id = await joinLobby(app, hA, 'alice');
    app.events.reset();
    const forged = hB.invite('dev').replace(`:${hB.address.port}/`, `:${hA.address.port}/`);
    await expect(app.service.connect({ invite: forged, nick: 'alice' })).rejects.toThrow(
      `the invite link's host key (${hB.fingerprint}) is not the one ${id} presents (${hA.fingerprint})`,
    );
    await sleep(100);
    // The working connection was not touched: no state change, still one client at host A.
    expect(app.events.of('connectionState').filter((s) => s.hostId === id)).toEqual([]);
    expect(hA.clientCount).toBe(1);
  });
});
