// Several hosts at once, in a real browser against real hosts: Alice adds a second host beside
// the first, both stay in the host rail, a message on the host she is not looking at shows as
// that host's unread badge, she switches between them, and disconnecting one leaves the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  messageRow,
  screenshot,
  send,
  shoot,
} from './harness.ts';
import { expectAccessible } from './axe.ts';
import { lowHueContrasts } from './hue-contrast.ts';

const rig = new Rig();
let hostA: TestHost;
let hostB: TestHost;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  [hostA, hostB] = await Promise.all([
    rig.host({ rooms: ['lobby'] }),
    rig.host({ rooms: ['lobby'] }),
  ]);
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
});

afterAll(() => rig.dispose());

const poll = { timeout: 10_000, interval: 50 };
const idOf = (host: TestHost): string => `127.0.0.1:${host.port}`;
const rail = () => alice.page.getByRole('navigation', { name: 'Hosts' });
/** A host's button in the rail; its name is "Parley (127.0.0.1:port), status[, N unread]". */
const hostButton = (host: TestHost) =>
  rail().getByRole('button', { name: new RegExp(`\\(${idOf(host).replaceAll('.', '\\.')}\\)`) });
const heading = () => alice.page.getByRole('heading', { level: 1 });
const focusedId = () => alice.page.evaluate(() => document.activeElement?.id ?? '');

describe('several hosts at once', () => {
  it('connects to a first host, with the cursor in the message box', async () => {
    await connectWithInvite(alice, hostA.running.invite('lobby'), 'alice');
    await hostButton(hostA).waitFor();
    await expect.poll(focusedId, poll).toBe('composer-input');
    expect(await hostButton(hostA).getAttribute('aria-current')).toBe('page');
  });

  it('opens "Add a host" from the rail, and Cancel goes back to the chat', async () => {
    const { page } = alice;
    await rail().getByRole('button', { name: 'Add a host' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add a host' }).waitFor();
    expect(await rail().count()).toBe(0);
    await shoot(page, 'hosts-add');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await hostButton(hostA).waitFor();
    await rail().getByRole('button', { name: 'Add a host' }).click();
    await page.keyboard.press('Escape');
    await hostButton(hostA).waitFor();
  });

  it('adds a second host beside the first; both stay connected', async () => {
    const { page } = alice;
    await connectWithInvite(bob, hostB.running.invite('lobby'), 'bob');
    await rail().getByRole('button', { name: 'Add a host' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add a host' }).waitFor();
    await page
      .getByRole('textbox', { name: 'Invite link' })
      .fill(`Join us: ${hostB.running.invite('lobby')} see you there`);
    await page.getByLabel('Your nickname').fill('alice');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await hostButton(hostB).waitFor();
    await expect.poll(() => hostButton(hostB).getAttribute('aria-current'), poll).toBe('page');
    await expect.poll(focusedId, poll).toBe('composer-input');
    await expect
      .poll(() => hostButton(hostA).getAttribute('aria-label'), poll)
      .toMatch(/connected/);
    expect(await hostButton(hostA).getAttribute('aria-current')).toBeNull();
    // Both hosts are live in main: two sessions, not one replacing the other.
    const snapshot = await alice.backend.service.getSnapshot({});
    expect(snapshot.hosts.map((h) => [h.connection.hostId, h.connection.status])).toEqual([
      [idOf(hostA), 'connected'],
      [idOf(hostB), 'connected'],
    ]);
  });

  it('shows a message on the host not on screen as that host’s badge, and in the title', async () => {
    await hostButton(hostA).click();
    await expect.poll(() => hostButton(hostA).getAttribute('aria-current'), poll).toBe('page');
    await expect.poll(() => heading().textContent(), poll).toContain('lobby');
    // Main knows host A's #lobby is on screen before bob writes on host B (both rooms are
    // "lobby": the heading alone does not say the switch reached main).
    await expect
      .poll(() => alice.backend.service.activeRoom, poll)
      .toEqual({ hostId: idOf(hostA), room: 'lobby' });
    await send(bob, 'Hello from host B');
    await expect
      .poll(() => hostButton(hostB).getAttribute('aria-label'), poll)
      .toMatch(/connected, 1 unread$/);
    await expect.poll(() => hostButton(hostB).textContent(), poll).toContain('1');
    await expect.poll(() => alice.page.title(), poll).toBe('(1) Parley');
    expect(await messageRow(alice, 'Hello from host B').count()).toBe(0);
    await expectAccessible(alice.page, 'two hosts, an unread badge on the other');
    await screenshot(alice.page, 'hosts-rail-unread');
    await shoot(alice.page, 'hosts-rail');
  });

  it('draws every host colour with readable initials, in both themes', async () => {
    // A host's colour comes from its address (random ports here): measure all eight.
    const { page } = alice;
    const button = page.locator('nav[aria-label="Hosts"] .host').first();
    expect(await lowHueContrasts(page, button)).toEqual([]);
  });

  it('switches to the other host and reads the message there; the badge goes', async () => {
    await hostButton(hostB).click();
    await messageRow(alice, 'Hello from host B').waitFor();
    await expect
      .poll(() => hostButton(hostB).getAttribute('aria-label'), poll)
      .toMatch(/connected$/);
    await expect.poll(() => alice.page.title(), poll).toBe('Parley');
    // What Alice sends here goes to host B only.
    await send(alice, 'Alice on B');
    await messageRow(bob, 'Alice on B').waitFor();
  });

  it('reaches the hosts with the keyboard', async () => {
    await hostButton(hostB).focus();
    await alice.page.keyboard.press('ArrowUp');
    expect(
      await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
    ).toMatch(new RegExp(idOf(hostA).replaceAll('.', '\\.')));
    await alice.page.keyboard.press('Enter');
    await expect.poll(() => hostButton(hostA).getAttribute('aria-current'), poll).toBe('page');
  });

  it('disconnects one host; the other stays, on screen', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: /^Disconnect/ }).click();
    await expect.poll(() => hostButton(hostA).count(), poll).toBe(0);
    await expect.poll(() => hostButton(hostB).getAttribute('aria-current'), poll).toBe('page');
    await messageRow(alice, 'Hello from host B').waitFor();
    const snapshot = await alice.backend.service.getSnapshot({});
    expect(snapshot.hosts.map((h) => h.connection.hostId)).toEqual([idOf(hostB)]);
  });

  it('says a host that was never reached cannot be reached, and retries it now on request', async () => {
    const { page } = alice;
    // Nothing listens on port 1: the host is refused, not "lost".
    const wrongPort = hostA.running.invite('lobby').replace(`:${hostA.port}/`, ':1/');
    await rail().getByRole('button', { name: 'Add a host' }).click();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(wrongPort);
    await page.getByLabel('Your nickname').fill('alice');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const banner = page.getByTestId('connection-banner');
    await expect
      .poll(() => banner.textContent(), poll)
      .toMatch(/Can’t reach 127\.0\.0\.1:1 — connection refused\.\s*Trying again/);
    expect(await banner.textContent()).not.toContain('Connection lost');
    await expect
      .poll(
        () =>
          rail()
            .getByRole('button', { name: /^127\.0\.0\.1:1,/ })
            .getAttribute('aria-label'),
        poll,
      )
      .toMatch(/reconnecting$/);
    await expectAccessible(page, 'a host that cannot be reached');
    await screenshot(page, 'hosts-unreachable');
    // What reaches main from the page: Retry now, and the network coming back.
    const asked: [string, unknown][] = [];
    const service = alice.backend.service as unknown as Record<string, (input: unknown) => unknown>;
    for (const name of ['retryNow', 'networkChanged']) {
      const original = service[name]!;
      service[name] = function (this: unknown, input: unknown) {
        asked.push([name, input]);
        return original.call(this, input);
      };
    }
    await banner.getByRole('button', { name: 'Retry now' }).click();
    await expect.poll(() => asked, poll).toContainEqual(['retryNow', { hostId: '127.0.0.1:1' }]);
    // Refused again: the banner says the retry did not get through, not just a new countdown.
    await expect
      .poll(() => banner.textContent(), poll)
      .toMatch(/Still can’t reach 127\.0\.0\.1:1 — connection refused\.\s*Trying again/);
    expect(await banner.textContent()).not.toContain('attempt');
    await screenshot(page, 'hosts-unreachable-retry-failed');
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await expect.poll(() => asked, poll).toContainEqual(['networkChanged', {}]);
    await page.getByRole('button', { name: /^Disconnect/ }).click();
    await expect
      .poll(
        () =>
          rail()
            .getByRole('button', { name: /^127\.0\.0\.1:1,/ })
            .count(),
        poll,
      )
      .toBe(0);
  });

  it('says an invite whose key is not the host’s does not match — not that the key changed', async () => {
    const { page } = alice;
    // Host A's address with host B's key: a wrong (or forged) link.
    const linkA = hostA.running.invite('lobby');
    const forged =
      linkA.slice(0, linkA.indexOf('#')) +
      hostB.running.invite('lobby').slice(hostB.running.invite('lobby').indexOf('#'));
    await rail().getByRole('button', { name: 'Add a host' }).click();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(forged);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const dialog = page.getByRole('alertdialog', {
      name: 'The invite link does not match the host',
    });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Ask the person who sent you the link');
    await dialog.getByRole('heading', { name: 'Key in the invite' }).waitFor();
    await dialog.getByRole('heading', { name: 'Key the host presented' }).waitFor();
    await expectAccessible(page, 'an invite that does not match its host');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'hosts-invite-mismatch-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await dialog.getByRole('button', { name: 'Don’t connect' }).click();
    await page.getByRole('alert').filter({ hasText: 'the invite link does not match' }).waitFor();
    // Nothing of the wrong host stays in the sidebar.
    const snapshot = await alice.backend.service.getSnapshot({});
    expect(snapshot.hosts.map((h) => h.connection.hostId)).toEqual([idOf(hostB)]);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await hostButton(hostB).waitFor();
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'hosts-rail-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('ran without console errors or CSP violations', () => {
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});
