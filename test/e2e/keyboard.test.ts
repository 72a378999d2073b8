// The keyboard: Ctrl+K room switcher, Alt+arrows between rooms, Alt+Shift+arrows to unread
// rooms, Ctrl+/ shortcuts sheet, Escape, and focus back in the message box after every dialog
// and room switch, in real Chromium against a real host.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import {
  type Person,
  Rig,
  type TestHost,
  connectWithInvite,
  screenshot,
  send,
  shoot,
} from './harness.ts';

const rig = new Rig();
let host: TestHost;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', 'random', 'dev'] });
  alice = await rig.person('alice');
  bob = await rig.person('bob');
  await connectWithInvite(alice, host.running.invite('lobby', { role: 'owner' }), 'alice');
  for (const room of ['random', 'dev']) {
    await alice.page.getByRole('button', { name: `Join ${room}` }).click();
    await alice.page.getByRole('region', { name: `Messages in #${room}` }).waitFor();
  }
  await connectWithInvite(bob, host.running.invite('lobby'), 'bob');
  await bob.page.getByRole('button', { name: 'Join dev' }).click();
  await bob.page.getByRole('region', { name: 'Messages in #dev' }).waitFor();
  await alice.page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await alice.page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  // The members panel would lie over the room in the narrow screenshots.
  await alice.page.getByRole('button', { name: 'Close members' }).click();
});

afterAll(() => rig.dispose());

/** The message box of `room` has the keyboard. */
async function composerFocused(page: Page, room: string): Promise<void> {
  const box = page.getByRole('textbox', { name: `Message #${room}` });
  await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
}

it('Ctrl+K finds a room by typing, Enter opens it, and typing goes on in its message box', async () => {
  const { page } = alice;
  await page.getByRole('textbox', { name: 'Message #lobby' }).focus();
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog', { name: 'Go to a room' });
  await dialog.waitFor();
  const input = dialog.getByRole('combobox', { name: 'Room name' });
  expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await dialog.getByRole('option').count()).toBe(3);
  await page.keyboard.type('ra');
  const options = dialog.getByRole('option');
  await expect.poll(() => options.allTextContents()).toEqual([expect.stringContaining('#random')]);
  expect(await input.getAttribute('aria-activedescendant')).toBe(
    await options.first().getAttribute('id'),
  );
  await shoot(page, 'keyboard-switcher');
  await expectAccessible(page, 'the room switcher');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
  await composerFocused(page, 'random');

  // Arrow keys choose among the matches; Escape closes without moving.
  await page.keyboard.press('Control+k');
  await dialog.waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  expect(await input.getAttribute('aria-activedescendant')).toBe(
    await options.nth(2).getAttribute('id'),
  );
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await composerFocused(page, 'random');
  expect(alice.problems).toEqual([]);
});

it('Alt+↑/↓ step through this host’s rooms without taking the caret keys', async () => {
  const { page } = alice;
  await page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await composerFocused(page, 'lobby');
  await page.keyboard.press('Alt+ArrowDown');
  await page.getByRole('region', { name: 'Messages in #random' }).waitFor();
  await composerFocused(page, 'random');
  await page.keyboard.press('Alt+ArrowDown');
  await page.getByRole('region', { name: 'Messages in #dev' }).waitFor();
  await page.keyboard.press('Alt+ArrowDown'); // wraps
  await page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  await page.keyboard.press('Alt+ArrowUp');
  await page.getByRole('region', { name: 'Messages in #dev' }).waitFor();
  await composerFocused(page, 'dev');

  // Plain and Shift arrows still move the caret in a two-line draft; the room stays.
  const box = page.getByRole('textbox', { name: 'Message #dev' });
  await box.fill('first line\nsecond');
  await box.press('ArrowUp');
  expect(await box.evaluate((el: HTMLTextAreaElement) => el.selectionStart)).toBeLessThan(10);
  await box.press('Shift+ArrowDown');
  expect(
    await box.evaluate((el: HTMLTextAreaElement) => el.selectionEnd - el.selectionStart),
  ).toBeGreaterThan(0);
  expect(await page.getByRole('region', { name: 'Messages in #dev' }).count()).toBe(1);
  await box.fill('');
  expect(alice.problems).toEqual([]);
});

it('Alt+Shift+↓ goes to the next room with unread messages', async () => {
  const { page } = alice;
  await page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await composerFocused(page, 'lobby');
  await send(bob, 'anyone around in dev?');
  const dev = page.locator('nav[aria-label="Rooms"] button[data-room="dev"]');
  await expect.poll(() => dev.getAttribute('aria-label')).toBe('dev, 1 unread');
  await page.keyboard.press('Alt+Shift+ArrowDown');
  await page.getByRole('region', { name: 'Messages in #dev' }).waitFor();
  await composerFocused(page, 'dev');
  // Nothing else is unread: staying put is the answer.
  await page.keyboard.press('Alt+Shift+ArrowUp');
  await page.waitForTimeout(200);
  expect(await page.getByRole('region', { name: 'Messages in #dev' }).count()).toBe(1);
  expect(alice.problems).toEqual([]);
});

it('Ctrl+/ shows the shortcuts and commands; Escape closes it and the message box has focus', async () => {
  const { page } = alice;
  await page.keyboard.press('Control+/');
  const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts and commands' });
  await sheet.waitFor();
  for (const text of [
    'Go to a room',
    'Previous room with unread messages',
    '/nick NAME',
    '//text',
  ]) {
    await sheet.getByText(text, { exact: false }).first().waitFor();
  }
  await shoot(page, 'keyboard-shortcuts');
  await expectAccessible(page, 'the shortcuts sheet');
  await page.keyboard.press('Escape');
  await sheet.waitFor({ state: 'detached' });
  await composerFocused(page, 'dev');
  expect(alice.problems).toEqual([]);
});

it('puts focus back in the message box after the topic, nickname and settings dialogs', async () => {
  const { page } = alice;
  // Alice owns the lobby: she may set its topic.
  await page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await page.getByRole('button', { name: 'Add a topic' }).click();
  await page.getByRole('dialog', { name: 'Topic of #lobby' }).waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await composerFocused(page, 'lobby');
  await page.locator('nav[aria-label="Rooms"] button[data-room="dev"]').click();
  await composerFocused(page, 'dev');

  await page.getByRole('button', { name: /^Change nickname: alice/ }).click();
  await page.getByRole('dialog', { name: 'Change your nickname' }).waitFor();
  await page.keyboard.press('Escape');
  await composerFocused(page, 'dev');

  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog', { name: 'Settings' }).waitFor();
  await page.getByRole('button', { name: 'Close settings' }).click();
  await composerFocused(page, 'dev');
  expect(alice.problems).toEqual([]);
});

it('changes the nickname from the sidebar, checked before it is sent', async () => {
  const { page } = alice;
  await page.getByRole('button', { name: /^Change nickname: alice/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Change your nickname' });
  const field = dialog.getByRole('textbox', { name: 'Nickname' });
  await field.fill('alice smith');
  await dialog.getByRole('button', { name: 'Change nickname' }).click();
  await dialog
    .getByRole('alert')
    .getByText(/1–32 letters/)
    .waitFor();
  await shoot(page, 'keyboard-nick-dialog-invalid');
  await expectAccessible(page, 'the nickname dialog with an error');
  await field.fill('alice_s');
  await dialog.getByRole('button', { name: 'Change nickname' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /^Change nickname: alice_s,/ }).waitFor();
  await composerFocused(page, 'dev');
  expect(alice.problems).toEqual([]);
});

it('sets a room’s notifications from the header, and a muted room’s count is dimmed', async () => {
  const { page } = alice;
  await page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await page.getByRole('button', { name: /^Notifications for #lobby/ }).click();
  const menu = page.getByRole('menu', { name: 'Notifications for #lobby' });
  await menu.waitFor();
  expect(await menu.getByRole('menuitemradio', { checked: true }).textContent()).toContain(
    'All messages',
  );
  await screenshot(page, 'keyboard-mute-menu-1280x800');
  await expectAccessible(page, 'the notification menu');
  await menu.getByRole('menuitemradio', { name: /^Nothing/ }).click();
  await page.getByRole('button', { name: 'Notifications for #lobby: Nothing' }).waitFor();
  // Another room on screen; a message in the muted lobby still counts there, quietly.
  await page.locator('nav[aria-label="Rooms"] button[data-room="dev"]').click();
  await bob.page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]').click();
  await bob.page.getByRole('region', { name: 'Messages in #lobby' }).waitFor();
  await send(bob, 'quiet news in the lobby');
  const lobby = page.locator('nav[aria-label="Rooms"] button[data-room="lobby"]');
  await expect.poll(() => lobby.getAttribute('aria-label')).toBe('lobby, 1 unread, muted');
  expect(await lobby.evaluate((el) => el.classList.contains('muted'))).toBe(true);
  await screenshot(page, 'keyboard-muted-count-1280x800');
  // The room list's own menu (the context menu key) offers the same choice.
  await lobby.focus();
  await lobby.press('Shift+F10');
  const listMenu = page.getByRole('menu', { name: 'Notifications for #lobby' });
  await listMenu.waitFor();
  await listMenu.getByRole('menuitemradio', { name: /^All messages/ }).click();
  await expect.poll(() => lobby.getAttribute('aria-label')).toBe('lobby, 1 unread');
  expect(alice.problems).toEqual([]);
});

it('ignores the shortcuts while an input method is composing', async () => {
  const { page } = alice;
  await page.getByRole('textbox', { name: /^Message #/ }).focus();
  await page.evaluate(
    `document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true, isComposing: true, bubbles: true }))`,
  );
  await page.waitForTimeout(100);
  expect(await page.getByRole('dialog').count()).toBe(0);
});
