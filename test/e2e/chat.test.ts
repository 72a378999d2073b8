// Alice and Bob, each with their own install and browser page, chat through a real host:
// invite links, both directions, presence, typing, escaping, links, unread counts while in
// another room, history after a reload, verifying a member, settings and the dark theme.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  messageRow,
  screenshot,
  send,
} from './harness.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;
const dialogs: string[] = [];

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random'] });
  [alice, bob] = await Promise.all([rig.person('alice'), rig.person('bob')]);
  for (const person of [alice, bob]) {
    person.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }
});

afterAll(() => rig.dispose());

const timeline = (person: Person) => person.page.getByRole('region', { name: /^Messages in #/ });
const poll = { timeout: 10_000, interval: 50 };

describe('two people chatting through a real host', () => {
  it('connects Alice and Bob through the invite link', async () => {
    const invite = host.running.invite('lobby');
    const { page } = alice;
    await page.getByRole('heading', { name: 'Join a conversation' }).waitFor();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(invite);
    await page.getByLabel('Your nickname').fill('alice');
    await screenshot(page, 'connect');

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await timeline(alice).waitFor();
    await page.getByText('Verified by invite').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('lobby');

    await connectWithInvite(bob, invite, 'bob');
    // Alice sees Bob arrive: a presence line and a member who is online.
    await timeline(alice).getByText('bob joined').waitFor();
    await alice.page
      .getByRole('list', { name: 'Members of #lobby' })
      .getByRole('button', { name: /bob.*Online/ })
      .waitFor();
  });

  it('shows Bob typing, then his messages, grouped and escaped', async () => {
    const typing = alice.page.getByTestId('typing');
    await bob.page.getByRole('textbox', { name: 'Message #lobby' }).fill('Hi Alice');
    await expect.poll(() => typing.textContent(), poll).toContain('bob is typing…');

    await bob.page.getByRole('textbox', { name: 'Message #lobby' }).press('Enter');
    const hostile = '<img src=x onerror=alert(1)> & <script>alert(2)</script>';
    await send(bob, hostile);

    await messageRow(alice, 'Hi Alice').waitFor();
    await messageRow(alice, hostile).waitFor();
    // Text, not markup: no element was made from it, and nothing ran.
    expect(await timeline(alice).locator('img, script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // Two messages in a row from Bob: one group, one header.
    expect(await messageRow(alice, 'Hi Alice').getAttribute('class')).toContain('head');
    expect(await messageRow(alice, hostile).getAttribute('class')).not.toContain('head');
    // The message arrived, so the typing notice is gone.
    await expect.poll(() => typing.textContent(), poll).not.toContain('typing');
  });

  it('sends from Alice to Bob; own messages are marked; links open through main', async () => {
    await send(alice, 'Hello Bob! The notes are at https://example.com/parley/notes.');
    const own = messageRow(alice, 'Hello Bob!');
    await expect.poll(() => own.getAttribute('data-status'), poll).toBe('sent');
    expect(await own.getAttribute('class')).toContain('own');
    expect(await messageRow(bob, 'Hello Bob!').getAttribute('class')).not.toContain('own');

    await send(bob, 'Thanks, reading them now');
    await messageRow(alice, 'Thanks, reading them').waitFor();

    await bob.page.getByRole('link', { name: 'https://example.com/parley/notes' }).click();
    await expect
      .poll(() => bob.backend.openedLinks, poll)
      .toEqual(['https://example.com/parley/notes']);
    expect(bob.context.pages()).toHaveLength(1); // no window was opened by the page itself
    await screenshot(alice.page, 'chat-light');
  });

  it('counts unread messages for a room Alice is not looking at', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Join random' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent(), poll)
      .toContain('random');

    await send(bob, 'Anyone in the lobby?');
    await send(bob, 'Still here?');
    const lobby = page.getByRole('button', { name: 'lobby, 2 unread' });
    await lobby.waitFor();
    await expect.poll(() => page.title(), poll).toBe('(2) Parley');
    await screenshot(page, 'unread');

    await lobby.click();
    await page.getByRole('button', { name: 'lobby', exact: true }).waitFor();
    await messageRow(alice, 'Still here?').waitFor();
    await expect.poll(() => page.title(), poll).toBe('Parley');
  });

  it('shows the history again after a reload', async () => {
    await alice.page.reload();
    await timeline(alice).waitFor();
    for (const text of ['Hi Alice', 'Hello Bob!', 'Still here?']) {
      await messageRow(alice, text).waitFor();
    }
    expect(await alice.page.getByRole('heading', { level: 1 }).textContent()).toContain('lobby');
  });

  it('lets Alice compare and mark Bob as verified', async () => {
    const { page } = alice;
    const members = page.getByRole('list', { name: 'Members of #lobby' });
    const bobEntry = members.getByRole('button', { name: /^bob/ });
    await bobEntry.click();
    expect(await bobEntry.getAttribute('aria-expanded')).toBe('true');
    const print = members.getByRole('group', { name: /bob’s fingerprint/ });
    const expected = bob.backend.service.identity.fingerprint;
    expect(await print.getAttribute('aria-label')).toContain(expected);

    await members.getByRole('button', { name: 'Mark as verified' }).click();
    await members.getByText('Online · verified').waitFor();
    await screenshot(page, 'members');
  });

  it('changes settings, including the dark theme, from a dialog that keeps focus', async () => {
    const { page } = alice;
    const opener = page.getByRole('button', { name: 'Settings' });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.waitFor();
    await screenshot(page, 'settings');

    await dialog.getByLabel('Sender and text').check();
    await dialog.getByRole('switch', { name: /Mute notifications/ }).check();
    await dialog.getByLabel('Dark').check();
    await expect.poll(() => page.locator('html').getAttribute('data-theme'), poll).toBe('dark');
    const saved = await alice.backend.service.getSettings({});
    expect(saved).toMatchObject({
      notificationPrivacy: 'sender-and-text',
      muted: true,
      theme: 'dark',
    });

    // Tab stays inside the dialog.
    for (let i = 0; i < 12; i++) await page.keyboard.press('Tab');
    expect(await dialog.locator(':focus').count()).toBe(1);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // After any dialog over the chat, typing goes on in the message box (#15).
    expect(await page.locator(':focus').getAttribute('id')).toBe('composer-input');
    await page.mouse.move(0, 0);
    await screenshot(page, 'chat-dark');
  });

  it('ran without console errors or CSP violations', () => {
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});
