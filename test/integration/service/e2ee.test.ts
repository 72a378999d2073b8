// End-to-end encrypted rooms through the desktop service, against a real host run with E2EE:
// two installs (each with its own device, MLS store and at-rest key in its data folder) set up
// the room's group, their messages arrive decrypted, both see the same safety number, and
// neither the host's database nor the local history holds a message's text.
import { describe, expect, it } from 'vitest';
import type { RunningHost } from '../../../src-main/server/host.ts';
import { cleanupsAfterEach } from '../../support/lifecycle.ts';
import { type TestService, bytesUnder, hostIdOf, lobbyMember, startTestHost } from './harness.ts';

const cleanups = cleanupsAfterEach();
const SECRET = 'meet at the old mill at nine';
const REPLY = 'bring the lantern please';

const member = (h: RunningHost, role: 'owner' | 'member', nick: string) =>
  lobbyMember(cleanups, h, { role, nick });

const encrypted = (app: TestService) =>
  app.events.waitFor(
    'rooms',
    (r) => r.rooms.some((x) => x.name === 'lobby' && x.e2ee === 'encrypted'),
    20_000,
  );

describe('end-to-end encrypted rooms in the desktop service', () => {
  it('delivers decrypted messages, and keeps no text in the host database or the history', async () => {
    const hostDir = cleanups.tempDir('parley-e2ee-host-');
    const h = await startTestHost(cleanups, { e2ee: true, rooms: ['lobby'], dataDir: hostDir });
    const hostId = hostIdOf(h);
    const alice = await member(h, 'owner', 'alice');
    const bob = await member(h, 'member', 'bob');
    await Promise.all([encrypted(alice), encrypted(bob)]);

    // Both devices are in the group: the members list says so.
    await alice.events.waitFor(
      'members',
      (m) => m.room === 'lobby' && m.members.some((x) => x.nick === 'bob' && x.devices === 1),
      20_000,
    );

    alice.service.send({ hostId, room: 'lobby', text: SECRET });
    const got = await bob.events.waitFor('message', (m) => m.text === SECRET, 20_000);
    expect(got).toMatchObject({ from: 'alice', room: 'lobby', own: false });
    expect(got.e2ee).toBeUndefined();
    bob.service.send({ hostId, room: 'lobby', text: REPLY });
    await alice.events.waitFor('message', (m) => m.text === REPLY, 20_000);
    await alice.events.waitFor('messageStatus', (s) => s.status === 'sent');

    // The same safety number on both sides, 12 groups of 5 digits.
    const a = alice.service.safetyNumber({ hostId, key: bob.service.identity.key });
    const b = bob.service.safetyNumber({ hostId, key: alice.service.identity.key });
    expect(a).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(a).toBe(b);

    // The local history reads them back…
    const page = await alice.service.loadHistory({ hostId, room: 'lobby', limit: 50 });
    expect(page.messages.map((m) => m.text)).toEqual(expect.arrayContaining([SECRET, REPLY]));
    await alice.service.close();
    await bob.service.close();
    await h.stop();
    // …but no file of either install, nor the host's, has the words.
    for (const dir of [alice.dataDir, bob.dataDir, hostDir]) {
      const bytes = bytesUnder(dir);
      expect(bytes.includes(Buffer.from('old mill')), dir).toBe(false);
      expect(bytes.includes(Buffer.from('lantern')), dir).toBe(false);
    }
  }, 60_000);
});
