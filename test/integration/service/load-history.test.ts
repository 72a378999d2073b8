// loadHistory must never say a room starts where it does not: the timeline shows "This is the
// start of #lobby" on `more: false` and stops paging. Two ways it did: a room opened while its
// join history was still arriving, and a full page kept here (a first join keeps exactly the
// timeline's page size). Driven against a scripted host (to hold `synced` back) and a real one.
import { describe, expect, it } from 'vitest';
import { type RunningHost, startHost } from '../../../src-main/server/host.ts';
import { DesktopService } from '../../../src-main/service/desktop-service.ts';
import { HOST_HISTORY_TIMEOUT_MS } from '../../../src-main/service/host-connection.ts';
import {
  type HostileConnection,
  fakeMessage,
  startHostileHost,
} from '../../support/hostile-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';
import { rows } from './harness.ts';

const cleanups = cleanupsAfterEach();

async function openService(): Promise<DesktopService> {
  const service = await DesktopService.open({
    dataDir: cleanups.tempDir('parley-app-'),
    platform: 'linux',
    sessionOptions: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
  });
  cleanups.push(() => service.close());
  return service;
}

/** Messages the service showed as they arrived, by text and seq. */
function watch(service: DesktopService): { texts: string[]; seqs: number[] } {
  const seen = { texts: [] as string[], seqs: [] as number[] };
  service.on('message', (message) => {
    seen.texts.push(message.text);
    seen.seqs.push(message.seq ?? -1);
  });
  return seen;
}

/** A scripted host whose join replays seqs 8–10 of #lobby and holds `synced` back. */
async function slowJoinHost(): Promise<{ joins: HostileConnection[]; invite: string }> {
  const joins: HostileConnection[] = [];
  const h = await startHostileHost({
    onJoin: (connection, room) => {
      connection.send({ t: 'joined', room });
      connection.send({ t: 'members', room, members: [], last: true });
      for (let seq = 8; seq <= 10; seq++) {
        connection.send(fakeMessage(room, seq, { history: true }));
      }
      joins.push(connection);
    },
    onHistory: (connection, request) => {
      // Older than the replay: 3–7, and the host has more still (seqs 1–2).
      for (let seq = 3; seq < Math.min(request.before, 8); seq++) {
        connection.send(fakeMessage(request.room, seq, { history: true }));
      }
      connection.send({ t: 'history-end', room: request.room, more: true });
    },
  });
  cleanups.push(() => h.close());
  return { joins, invite: h.invite('lobby') };
}

describe('loadHistory, where the room starts', () => {
  it('waits for a join still replaying history, then pages from the host', async () => {
    const { joins, invite } = await slowJoinHost();
    const service = await openService();
    const seen = watch(service);
    const { hostId } = await service.connect({ invite, nick: 'alice' });
    await until(() => seen.seqs.length === 3, 'the first messages of the join replay');

    // The timeline opens the room now, before the host said the replay is complete.
    const loading = service.loadHistory({ hostId, room: 'lobby', limit: 8 });
    await new Promise((r) => setTimeout(r, 200));
    joins[0]?.send({ t: 'synced', room: 'lobby' });
    const page = await loading;

    expect(page.messages.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page.more).toBe(true);
  });

  it('does not wait for ever on a join that never completes, nor claim the start', async () => {
    const { invite } = await slowJoinHost();
    const service = await openService();
    const seen = watch(service);
    const { hostId } = await service.connect({ invite, nick: 'alice' });
    await until(() => seen.seqs.length === 3, 'the first messages of the join replay');

    const started = Date.now();
    const page = await service.loadHistory({ hostId, room: 'lobby', limit: 8 });
    const waited = Date.now() - started;
    expect(page.messages.map((m) => m.seq)).toEqual([8, 9, 10]);
    expect(page.more).toBe(true); // the host may well hold older ones
    expect(waited).toBeGreaterThanOrEqual(HOST_HISTORY_TIMEOUT_MS - 100);
    expect(waited).toBeLessThan(HOST_HISTORY_TIMEOUT_MS + 5000);
    // The timeline's next page is empty and says so: paging stops, it does not spin.
    const older = await service.loadHistory({ hostId, room: 'lobby', limit: 8, beforeSeq: 8 });
    expect(older).toEqual({ messages: [], events: [], more: false });
  }, 30_000);

  it('says there is no more when a page brings nothing, whatever the host claims', async () => {
    const h = await startHostileHost({
      onJoin: (connection, room) => {
        connection.send({ t: 'joined', room });
        connection.send({ t: 'members', room, members: [], last: true });
        connection.send(fakeMessage(room, 10, { history: true }));
        connection.send({ t: 'synced', room });
      },
      // "More" and nothing: the timeline would ask for the same page again, without end.
      onHistory: (connection, request) =>
        connection.send({ t: 'history-end', room: request.room, more: true }),
    });
    cleanups.push(() => h.close());
    const service = await openService();
    const seen = watch(service);
    const { hostId } = await service.connect({ invite: h.invite('lobby'), nick: 'alice' });
    await until(() => seen.seqs.includes(10), 'the join replay');
    const older = await service.loadHistory({ hostId, room: 'lobby', limit: 8, beforeSeq: 10 });
    expect(older).toEqual({ messages: [], events: [], more: false });
  });

  it('a full page kept here is not the start of the room: the next one comes from the host', async () => {
    // The host replays only the last 5 messages on join; the rest must be asked for.
    const h: RunningHost = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      dataDir: cleanups.tempDir('parley-host-'),
      limits: { historyOnJoin: 5, messagesPerSecond: 100, messageBurst: 100 },
    });
    cleanups.push(() => h.stop());
    const writer = await openService();
    const { hostId } = await writer.connect({ invite: h.invite('lobby'), nick: 'hank' });
    await until(
      () => writer.getSnapshot({}).hosts[0]?.connection.status === 'connected',
      'the writer',
    );
    const acked = new Set<string>();
    writer.on('messageStatus', (status) => status.status === 'sent' && acked.add(status.id));
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(writer.send({ hostId, room: 'lobby', text: `m${i}` }).id);
    await until(() => ids.every((id) => acked.has(id)), 'every message acknowledged');

    const reader = await openService();
    const seen = watch(reader);
    await reader.connect({ invite: h.invite('lobby'), nick: 'ivy' });
    await until(() => seen.texts.includes('m29'), 'the join replay');
    // The first visit: the newest page (ivy joining is its newest row), half of it fetched
    // from the host, now kept here.
    const first = await reader.loadHistory({ hostId, room: 'lobby', limit: 10 });
    expect(rows(first)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `m${21 + i}`),
      '* ivy joined',
    ]);
    expect(first.more).toBe(true);

    // The window reloaded: exactly one page is kept here, and the host has 21 older.
    const again = await reader.loadHistory({ hostId, room: 'lobby', limit: 10 });
    expect(rows(again)).toEqual(rows(first));
    expect(again.more).toBe(true);
    const older = await reader.loadHistory({
      hostId,
      room: 'lobby',
      limit: 10,
      beforeSeq: again.messages[0]!.seq!,
    });
    expect(rows(older)).toEqual(Array.from({ length: 10 }, (_, i) => `m${11 + i}`));
    expect(older.more).toBe(true);
  });

  it('does not hold a room back while the host is unreachable: what is kept here shows at once', async () => {
    const h: RunningHost = await startHost({
      host: '127.0.0.1',
      port: 0,
      rooms: ['lobby'],
      dataDir: cleanups.tempDir('parley-host-'),
    });
    cleanups.push(() => h.stop());
    const service = await DesktopService.open({
      dataDir: cleanups.tempDir('parley-app-'),
      platform: 'linux',
      // Long waits between attempts, as after a few failures: the session is reconnecting.
      sessionOptions: { reconnect: { initialDelayMs: 20_000, maxDelayMs: 20_000 } },
    });
    cleanups.push(() => service.close());
    const { hostId } = await service.connect({ invite: h.invite('lobby'), nick: 'kim' });
    await until(
      () => service.getSnapshot({}).hosts[0]?.connection.status === 'connected',
      'connected',
    );
    const acked = new Set<string>();
    service.on('messageStatus', (status) => status.status === 'sent' && acked.add(status.id));
    const { id } = service.send({ hostId, room: 'lobby', text: 'kept here' });
    await until(() => acked.has(id), 'the message acknowledged');

    await h.stop();
    await until(
      () => service.getSnapshot({}).hosts[0]?.connection.status === 'reconnecting',
      'the connection lost',
    );
    // No join replay is under way, and none can be before the next attempt: there is nothing
    // to wait for. (Before the reshaping, the kept history came back at once.)
    const started = Date.now();
    const page = await service.loadHistory({ hostId, room: 'lobby', limit: 50 });
    const waited = Date.now() - started;
    expect(page.messages.map((m) => m.text)).toEqual(['kept here']);
    expect(waited).toBeLessThan(HOST_HISTORY_TIMEOUT_MS / 2);
  }, 30_000);
});
