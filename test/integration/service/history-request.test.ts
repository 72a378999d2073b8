import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesktopService } from '../../../src-main/service/desktop-service.ts';
import { fakeMessage, startHostileHost } from '../../support/hostile-host.ts';
import { cleanupsAfterEach, until } from '../../support/lifecycle.ts';

// loadHistory waits for the host's answer to its request for older messages. An error about
// something else in the same room (here: a live message the client cannot show) is not that
// answer: the page must still hold what the host sends.

const cleanups = cleanupsAfterEach();

describe('the desktop core asking the host for older messages', () => {
  it('an unrelated error in the room does not end loadHistory before the page arrives', async () => {
    const h = await startHostileHost({
      onJoin: (connection, room) => {
        connection.send({ t: 'joined', room });
        connection.send({ t: 'members', room, members: [], last: true });
        connection.send({ t: 'synced', room });
        // Once this is shown, the room is synced: older messages may be asked for.
        connection.send(fakeMessage(room, 50));
      },
      onHistory: (connection, request) => {
        // Something else goes wrong in the room first: a live message with a time no date
        // can show (the session skips it and reports `invalid-message` for the room).
        connection.send(fakeMessage(request.room, 100, { ts: 9e15 }));
        // The page itself comes a moment later.
        setTimeout(() => {
          for (let seq = 1; seq <= 5; seq++) {
            connection.send(fakeMessage(request.room, seq, { history: true }));
          }
          connection.send({ t: 'history-end', room: request.room, more: false });
        }, 300);
      },
    });
    cleanups.push(() => h.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-app-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const service = await DesktopService.open({
      dataDir,
      platform: 'linux',
      sessionOptions: { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
    });
    cleanups.push(() => service.close());
    const errors: string[] = [];
    const live: number[] = [];
    service.on('error', (error) => errors.push(error.code));
    service.on('message', (message) => live.push(message.seq ?? -1));
    const { hostId } = await service.connect({ invite: h.invite('lobby'), nick: 'alice' });
    await until(() => live.includes(50), 'the join of lobby and its first message');

    const page = await service.loadHistory({ hostId, room: 'lobby', limit: 10 });

    expect(errors).toContain('invalid-message');
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 50]);
    expect(live).toEqual([50]); // the page came back through loadHistory, not as live messages
  });
});
