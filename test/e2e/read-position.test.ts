// The read position synced between two installs of one person (#17, design17.md "Read
// position"), in Chromium against a real host. Alice has two installs sharing one identity key:
// A, her page here, and B, a second desktop service in its own data folder (run headless in this
// process: it is the service that reads and syncs, not the page). Bob writes while alice is
// away; A counts and draws the "New messages" line; alice reads the room on B (shown in a focused
// window) and moves on there (the read goes then); B's `read` event reaches A, whose count,
// badge, title and line go — nobody touches A.
// In an end-to-end encrypted room (the read is an MLS event) and in a plaintext one.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAIN_KEY_FILE } from '../../src-main/service/identity-store.ts';
import type { DesktopService } from '../../src-main/service/desktop-service.ts';
import { type ServiceBackend, openServiceBackend } from '../../tools/web-bridge/service-backend.ts';
import { type Person, Rig, type TestHost, connectWithInvite, screenshot } from './harness.ts';
import { wireMember } from './wire-bob.ts';

const rig = new Rig();
let alice: Person;
const SETUP = { timeout: 30_000, interval: 100 };
const LIMITS = { messagesPerSecond: 1000, messageBurst: 1000 };
const QUICK = { reconnect: { initialDelayMs: 300, maxDelayMs: 1500 } };

beforeAll(async () => {
  alice = await rig.person('alice');
});

afterAll(async () => {
  expect(alice?.problems ?? []).toEqual([]);
  await rig.dispose();
});

/** A desktop service without a page: alice's second install (her key) or bob. */
async function headless(name: string, identityFrom?: string): Promise<DesktopService> {
  const dataDir = rig.tempDir(name);
  // The same person: her identity key (a 0600 file where there is no keychain) in a new folder.
  if (identityFrom) copyFileSync(join(identityFrom, PLAIN_KEY_FILE), join(dataDir, PLAIN_KEY_FILE));
  const backend: ServiceBackend = await openServiceBackend({
    dataDir,
    sessionOptions: QUICK,
    e2ee: 'memory',
  });
  rig.defer(() => backend.close());
  return backend.service;
}

const hostIdOf = (host: TestHost): string => `127.0.0.1:${host.port}`;

/** A room of `service` on `host`, as its snapshot says. */
function roomOf(service: DesktopService, host: TestHost, room: string) {
  return service
    .getSnapshot({})
    .hosts.find((h) => h.connection.hostId === hostIdOf(host))
    ?.rooms.find((r) => r.name === room);
}

async function joined(service: DesktopService, host: TestHost, e2ee: boolean): Promise<void> {
  await expect
    .poll(() => {
      const lobby = roomOf(service, host, 'lobby');
      return lobby?.joined === true && (!e2ee || lobby.e2ee === 'encrypted');
    }, SETUP)
    .toBe(true);
  // Until the join's replay is over, what arrives is history, not news: a page waits for it.
  await service.loadHistory({ hostId: hostIdOf(host), room: 'lobby', limit: 100 });
}

/** Sends `text` to #lobby as `service` and waits until the host has it. */
async function say(service: DesktopService, host: TestHost, text: string): Promise<void> {
  const { id } = service.send({ hostId: hostIdOf(host), room: 'lobby', text });
  await expect
    .poll(async () => {
      const page = await service.loadHistory({ hostId: hostIdOf(host), room: 'lobby', limit: 20 });
      return page.messages.find((m) => m.id === id)?.seq !== undefined;
    }, SETUP)
    .toBe(true);
}

/**
 * Alice's window A minimised (or back): the page sees `visibilityState` hidden, so it tells main
 * no room is looked at — as Electron's page does — and main sees the window lose focus.
 */
async function away(page: Page, service: DesktopService, hidden: boolean): Promise<void> {
  service.setWindowFocused(!hidden);
  await page.evaluate(`(() => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => '${hidden ? 'hidden' : 'visible'}',
    });
    document.dispatchEvent(new Event('visibilitychange'));
  })()`);
}

const rooms = () => alice.page.getByRole('navigation', { name: 'Rooms' });
const roomButton = (name: string) =>
  rooms().getByRole('button', { name: new RegExp(`^${name}(,|$)`) });
const divider = () => alice.page.getByRole('separator', { name: 'New messages' });

describe('the read position, synced between two installs of one person', () => {
  let second: DesktopService;

  it('end-to-end encrypted: reading on install B clears A’s count and "New messages" line', async () => {
    const host = await rig.host({ rooms: ['lobby'], openRooms: false, e2ee: true, limits: LIMITS });
    const owner = host.running.startInvites.find((i) => i.room === 'lobby' && i.role === 'owner');
    await connectWithInvite(alice, owner!.link, 'alice');
    await alice.page
      .getByTestId('e2ee-badge')
      .and(alice.page.locator('[data-state="encrypted"]'))
      .waitFor(SETUP);
    await joined(alice.backend.service, host, true);

    const bob = await headless('bob');
    await bob.connect({ invite: host.running.invite('lobby'), nick: 'bob' });
    await joined(bob, host, true);
    second = await headless('alice-b', alice.dataDir);
    expect(second.identity.key).toBe(alice.backend.service.identity.key);
    // B is open, on no room yet: it reads nothing.
    second.setActiveRoom({ hostId: null, room: null });
    await second.connect({ invite: host.running.invite('lobby'), nick: 'alice' });
    await joined(second, host, true);
    // Both of alice's devices are in the group before bob speaks.
    await expect
      .poll(
        () =>
          bob.getMembers({ hostId: hostIdOf(host), room: 'lobby' }).find((m) => m.nick === 'alice')
            ?.devices,
        SETUP,
      )
      .toBe(2);

    await away(alice.page, alice.backend.service, true);
    // The first one counted on A: main knows window A is away (the page tells it in a moment).
    await say(bob, host, 'Standup moved to 10:30');
    await rooms().getByRole('button', { name: 'lobby, 1 unread' }).waitFor(SETUP);
    for (const text of ['Room 4B', 'Bring the burndown chart']) await say(bob, host, text);
    await rooms().getByRole('button', { name: 'lobby, 3 unread' }).waitFor(SETUP);
    await divider().waitFor(SETUP);
    await expect.poll(() => alice.page.title(), SETUP).toBe('(3) Parley');
    // B got them too, unread there as well (it is on no room).
    await expect.poll(() => roomOf(second, host, 'lobby')?.unread, SETUP).toBe(3);
    await screenshot(alice.page, 'read-position-e2ee-before');

    // Alice reads #lobby on B (the room on screen in a focused window), then switches to
    // another window: B's read goes out as she moves on.
    second.setWindowFocused(true);
    second.setActiveRoom({ hostId: hostIdOf(host), room: 'lobby' });
    await expect.poll(() => roomOf(second, host, 'lobby')?.unread, SETUP).toBe(0);
    second.setWindowFocused(false);
    await rooms().getByRole('button', { name: 'lobby', exact: true }).waitFor(SETUP);
    await divider().waitFor({ state: 'detached', ...SETUP });
    expect(await alice.page.title()).toBe('Parley');
    expect(roomOf(alice.backend.service, host, 'lobby')).toMatchObject({ unread: 0 });
    expect(roomOf(alice.backend.service, host, 'lobby')?.firstUnreadSeq).toBeUndefined();
    // The messages are all there; a read is no row.
    await alice.page.locator('article.message', { hasText: 'Bring the burndown chart' }).waitFor();
    expect(await alice.page.locator('article.message').count()).toBe(3);
    await screenshot(alice.page, 'read-position-e2ee-after');

    // Back in window A: still read, no line comes back.
    await away(alice.page, alice.backend.service, false);
    await alice.page.waitForTimeout(300);
    expect(await divider().count()).toBe(0);
    expect(await roomButton('lobby').getAttribute('aria-label')).toBe('lobby');
    second.setActiveRoom({ hostId: null, room: null });
    second.setWindowFocused(true);
  }, 90_000);

  it('plaintext: alice in another room on A; reading #lobby on B clears its count there', async () => {
    const host = await rig.host({ rooms: ['lobby', 'random'], limits: LIMITS });
    const bob = await wireMember(rig, host, 'bob', ['lobby']);
    await alice.page
      .getByRole('navigation', { name: 'Hosts' })
      .getByRole('button', { name: 'Add a host' })
      .click();
    await connectWithInvite(alice, host.running.invite('lobby'), 'alice');
    await joined(alice.backend.service, host, false);
    await second.connect({ invite: host.running.invite('lobby'), nick: 'alice' });
    await joined(second, host, false);
    // Alice is elsewhere on A: #random.
    await rooms().getByRole('button', { name: 'Join random' }).click();
    await alice.page.getByRole('region', { name: 'Messages in #random' }).waitFor();

    // The first one counted on A: main knows alice looks at #random there, not at #lobby.
    bob.say('lobby', 'lunch?');
    await rooms().getByRole('button', { name: 'lobby, 1 unread' }).waitFor(SETUP);
    for (const text of ['the new place on Elm St', 'at 12:15']) bob.say('lobby', text);
    await rooms().getByRole('button', { name: 'lobby, 3 unread' }).waitFor(SETUP);
    await expect.poll(() => roomOf(second, host, 'lobby')?.unread, SETUP).toBe(3);
    await screenshot(alice.page, 'read-position-plaintext-before');

    // Alice reads #lobby on B, then goes to no room there (B's read goes as she moves on).
    second.setWindowFocused(true);
    second.setActiveRoom({ hostId: hostIdOf(host), room: 'lobby' });
    await expect.poll(() => roomOf(second, host, 'lobby')?.unread, SETUP).toBe(0);
    second.setActiveRoom({ hostId: null, room: null });
    await rooms().getByRole('button', { name: 'lobby', exact: true }).waitFor(SETUP);
    expect(await rooms().locator('[data-room="lobby"] .count').count()).toBe(0);
    await screenshot(alice.page, 'read-position-plaintext-after');
    // Opening #lobby on A now: no "New messages" line, the room was read.
    await roomButton('lobby').click();
    await alice.page.locator('article.message', { hasText: 'at 12:15' }).waitFor();
    await alice.page.waitForTimeout(300);
    expect(await divider().count()).toBe(0);
  }, 90_000);
});
