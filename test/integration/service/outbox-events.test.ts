// Review of #17 (R1): an edit, deletion or reaction queued while the host is away, then the app
// restarted, is sent from the restored outbox — and must still be applied to this install's own
// copy once the host acknowledges it (the host does not echo our own messages back).
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { connected, hostIdOf, openTestService, startTestHost } from './harness.ts';

const cleanups = cleanupsAfterEach();
const WAIT = 10_000;

describe('events in the outbox across a restart of the app', () => {
  it('a deletion and an edit queued offline apply to our own copy once sent after a restart', async () => {
    const hostDir = cleanups.tempDir('parley-host-');
    const h = await startTestHost(cleanups, { dataDir: hostDir });
    const id = hostIdOf(h);
    const port = h.address.port;
    const appDir = cleanups.tempDir('parley-app-');

    const first = await openTestService(cleanups, appDir);
    await first.service.connect({ invite: h.invite('lobby'), nick: 'frank' });
    await first.events.waitFor('connectionState', connected);
    await first.events.waitFor('rooms', (r) => r.rooms.some((x) => x.name === 'lobby' && x.joined));
    const a = first.service.send({ hostId: id, room: 'lobby', text: 'delete me' });
    const b = first.service.send({ hostId: id, room: 'lobby', text: 'edit me' });
    const sentA = await first.events.waitFor('messageStatus', (s) => s.id === a.id, WAIT);
    const sentB = await first.events.waitFor('messageStatus', (s) => s.id === b.id, WAIT);
    await h.stop();
    await first.events.waitFor('connectionState', (s) => s.status === 'reconnecting');
    first.service.deleteMessage({ hostId: id, room: 'lobby', seq: sentA.seq! });
    first.service.editMessage({ hostId: id, room: 'lobby', seq: sentB.seq!, text: 'edited' });
    await first.service.close();

    const back = await startTestHost(cleanups, { dataDir: hostDir, port });
    expect(back.address.port).toBe(port);
    const second = await openTestService(cleanups, appDir);
    await second.service.restoreHosts();
    await second.events.waitFor('connectionState', connected, WAIT);
    // Our own copy follows: a tombstone, and the newest text.
    await second.events.waitFor('message', (m) => m.seq === sentA.seq && m.deleted === true, WAIT);
    await second.events.waitFor(
      'message',
      (m) => m.seq === sentB.seq && m.text === 'edited' && m.edited === true,
      WAIT,
    );
    const page = await second.service.loadHistory({ hostId: id, room: 'lobby', limit: 50 });
    const own = page.messages.filter((m) => m.own);
    expect(own.map((m) => [m.seq, m.text, m.deleted === true])).toEqual([
      [sentA.seq, '', true],
      [sentB.seq, 'edited', false],
    ]);
  }, 60_000);
});
