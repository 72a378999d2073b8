// Every width and zoom (WCAG 1.4.10): the longest room name (64) and nickname (32) are cut with
// an ellipsis, never widening the sidebar or scrolling sideways; below 720 CSS px (a small
// window, or 200 % zoom on an 800 px window) the sidebar is a drawer opened from the header.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAccessible } from './axe.ts';
import {
  type Person,
  Rig,
  SCREENSHOTS,
  type TestHost,
  connectWithInvite,
  screenshot,
  settle,
  shoot,
} from './harness.ts';

const LONG_ROOM = `the-quarterly-planning-room-for-everyone-in-the-north-east-office`.slice(0, 64);
const LONG_NICK = 'Maximiliana_Wilhelmina-Fitzgerald'.slice(0, 32);

const rig = new Rig();
let host: TestHost;
let alice: Person;

beforeAll(async () => {
  host = await rig.host({ rooms: ['lobby', LONG_ROOM] });
  alice = await rig.person('alice');
  await connectWithInvite(alice, host.running.invite('lobby', { role: 'owner' }), LONG_NICK);
  await alice.page.getByRole('button', { name: `Join ${LONG_ROOM}` }).click();
  await alice.page.getByRole('region', { name: `Messages in #${LONG_ROOM}` }).waitFor();
});

afterAll(() => rig.dispose());

/** No sideways scrolling: the page is never wider than the window. */
async function noHorizontalScroll(page: Page): Promise<void> {
  // Polled: a resize is laid out for the new width a frame after the media query changes.
  await expect
    .poll(() =>
      page.evaluate('document.documentElement.scrollWidth <= innerWidth ? "fits" : "scrolls"'),
    )
    .toBe('fits');
}

/** The element's text is cut on screen (an ellipsis), not wrapped or spilling over. */
async function isCut(page: Page, selector: string): Promise<boolean> {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const style = getComputedStyle(el);
      return el.scrollWidth > el.clientWidth && style.textOverflow === 'ellipsis';
    });
}

/** Emulates an 800x600 window at 200 % zoom: a 400x300 CSS viewport at 2 device px each. */
async function zoom200(page: Page): Promise<{ cdp: CDPSession; restore: () => Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setDeviceMetricsOverride', {
    width: 400,
    height: 300,
    deviceScaleFactor: 2,
    mobile: false,
  });
  const restore = async (): Promise<void> => {
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  return { cdp, restore };
}

/** A screenshot through the same CDP session (Playwright's own would drop the zoom first). */
async function captureZoomed(cdp: CDPSession, name: string): Promise<void> {
  const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(join(SCREENSHOTS, `${name}.png`), Buffer.from(data, 'base64'));
}

it('cuts a 64-character room name and a 32-character nickname, with the full names on hand', async () => {
  const { page } = alice;
  const room = page.locator(`nav[aria-label="Rooms"] button[data-room="${LONG_ROOM}"]`);
  for (const size of [
    { width: 1280, height: 800 },
    { width: 800, height: 600 },
  ]) {
    await page.setViewportSize(size);
    await noHorizontalScroll(page);
    const sidebar = (await page
      .getByRole('complementary', { name: 'Hosts and rooms' })
      .boundingBox())!;
    expect(sidebar.width).toBeLessThanOrEqual(320);
    expect(await isCut(page, `button[data-room="${LONG_ROOM}"] .name`)).toBe(true);
    expect(await isCut(page, '.me-nick')).toBe(true);
  }
  // The room's own heading has more room, but not 64 characters' worth beside the buttons.
  expect(await isCut(page, 'h1 span')).toBe(true);
  // The full names: in the tooltip and the accessible name.
  expect(await room.getAttribute('title')).toBe(`#${LONG_ROOM}`);
  await expect
    .poll(() => room.evaluate((el) => el.getAttribute('aria-label')))
    .toContain(LONG_ROOM);
  const me = page.getByRole('button', { name: `Change nickname: ${LONG_NICK}, Online` });
  expect(await me.getAttribute('title')).toContain(LONG_NICK);
  expect(await page.locator('h1').getAttribute('title')).toBe(`#${LONG_ROOM}`);
  await shoot(page, 'layout-long-names');
  expect(alice.problems).toEqual([]);
});

async function checkDrawer(page: Page, snap: () => Promise<void>): Promise<void> {
  await noHorizontalScroll(page);
  const sidebar = page.locator('#chat-sidebar');
  // Closed: the room list is off screen and out of the keyboard's way.
  expect(await sidebar.isVisible()).toBe(false);
  const menu = page.getByRole('button', { name: 'Rooms and hosts' });
  expect(await menu.getAttribute('aria-expanded')).toBe('false');
  // Header buttons are icons that fit: Leave room is on screen.
  const leave = (await page.getByRole('button', { name: 'Leave room' }).boundingBox())!;
  const width = (await page.evaluate('innerWidth')) as number;
  expect(leave.x + leave.width).toBeLessThanOrEqual(width);

  await menu.click();
  await expect.poll(() => sidebar.isVisible()).toBe(true);
  // Focus moves into the drawer, on the room on screen; the chat behind is inert.
  await expect
    .poll(() => page.evaluate('document.activeElement?.getAttribute("data-room")'))
    .toBe(LONG_ROOM);
  expect(await page.locator('main').getAttribute('inert')).not.toBeNull();
  await noHorizontalScroll(page);
  await snap();
  await expectAccessible(page, 'the rooms drawer open');

  // Escape closes it, and focus goes back to the menu button.
  await page.keyboard.press('Escape');
  await expect.poll(() => sidebar.isVisible()).toBe(false);
  await expect.poll(() => menu.evaluate((el) => el === document.activeElement)).toBe(true);

  // Choosing a room closes it too, and focus lands in the message box of that room.
  await menu.click();
  await page.locator('#chat-sidebar button[data-room="lobby"]').click();
  await expect.poll(() => sidebar.isVisible()).toBe(false);
  const box = page.getByRole('textbox', { name: 'Message #lobby' });
  await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
  await menu.click();
  await page.locator(`#chat-sidebar button[data-room="${LONG_ROOM}"]`).click();
  await page.getByRole('region', { name: `Messages in #${LONG_ROOM}` }).waitFor();
}

it('turns the sidebar into a drawer at 400 px', async () => {
  const { page } = alice;
  await page.setViewportSize({ width: 400, height: 800 });
  try {
    await checkDrawer(page, () => screenshot(page, 'layout-drawer-400x800'));
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  expect(alice.problems).toEqual([]);
});

it('turns the sidebar into a drawer at 200 % zoom of an 800x600 window', async () => {
  const { page } = alice;
  const { cdp, restore } = await zoom200(page);
  try {
    expect(await page.evaluate('innerWidth')).toBe(400);
    await checkDrawer(page, () => captureZoomed(cdp, 'layout-drawer-zoom200'));
  } finally {
    await restore();
  }
  expect(alice.problems).toEqual([]);
});

it('gives the messages the lines of a short window at 200 % zoom (no keyboard tip)', async () => {
  const { page } = alice;
  const { restore } = await zoom200(page);
  try {
    const tip = page.getByText('to send ·');
    await expect.poll(() => tip.isVisible()).toBe(false);
    // 300 CSS px in all: the header and the message box leave the messages 130 or more.
    const messages = page.getByRole('region', { name: `Messages in #${LONG_ROOM}` });
    await expect.poll(async () => (await messages.boundingBox())?.height ?? 0).toBeGreaterThan(130);
  } finally {
    await restore();
  }
  // A window of normal height keeps the tip.
  await expect.poll(() => page.getByText('to send ·').isVisible()).toBe(true);
  expect(alice.problems).toEqual([]);
});

it('opens the shortcuts sheet at its title at 200 % zoom, its focused Close in view', async () => {
  const { page } = alice;
  const { restore } = await zoom200(page);
  try {
    await page.getByRole('textbox', { name: /^Message / }).focus();
    await page.keyboard.press('Control+/');
    const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts and commands' });
    await sheet.waitFor();
    const close = sheet.getByRole('button', { name: 'Close' });
    await expect.poll(() => close.evaluate((el) => el === document.activeElement)).toBe(true);
    // Focusing Close did not scroll the sheet to its end, past what it is for.
    expect(await sheet.evaluate((el) => el.scrollTop)).toBe(0);
    const box = (await close.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(300);
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
  } finally {
    await restore();
  }
  expect(alice.problems).toEqual([]);
});

it('opens a long warning at its title at 200 % zoom, not scrolled to its buttons', async () => {
  const { page } = alice;
  const { restore } = await zoom200(page);
  try {
    await page.getByRole('button', { name: 'Rooms and hosts' }).click();
    await page.getByRole('button', { name: 'Add a host' }).click();
    // An invite for the host alice is in, with another key: the key warning.
    const link = host.running.invite('lobby').replace(/#.*$/, `#${'A'.repeat(43)}`);
    await page.getByRole('textbox', { name: 'Invite link' }).fill(link);
    await page.getByRole('button', { name: 'Connect' }).click();
    const warning = page.getByRole('alertdialog', {
      name: 'The invite link does not match the host',
    });
    await warning.waitFor();
    // Too long for 300 px: the dialog itself has focus, read from the top, its title in view.
    await expect.poll(() => warning.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await warning.evaluate((el) => el.scrollTop)).toBe(0);
    expect(await warning.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    await page.keyboard.press('Escape');
    await warning.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Cancel' }).click();
  } finally {
    await restore();
  }
  expect(alice.problems).toEqual([]);
});

it('lays the members panel over the room when narrow, and Escape closes it', async () => {
  const { page } = alice;
  await page.setViewportSize({ width: 400, height: 800 });
  try {
    const members = page.getByRole('button', { name: 'Members', exact: true });
    if ((await members.getAttribute('aria-pressed')) !== 'true') await members.click();
    const list = page.getByRole('list', { name: `Members of #${LONG_ROOM}` });
    await list.waitFor();
    const panel = (await page.locator('aside.panel').boundingBox())!;
    expect(panel.x + panel.width).toBeLessThanOrEqual(400);
    await noHorizontalScroll(page);
    // The nickname fits the panel or is cut inside it: never past its edge.
    const nick = (await page.locator('aside.panel .nick bdi').first().boundingBox())!;
    expect(nick.x + nick.width).toBeLessThanOrEqual(panel.x + panel.width);
    expect(await page.locator('aside.panel .nick bdi').first().getAttribute('title')).toBe(
      LONG_NICK,
    );
    await screenshot(page, 'layout-members-400x800');
    await page.keyboard.press('Escape');
    await expect.poll(() => list.isVisible()).toBe(false);
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  expect(alice.problems).toEqual([]);
});

it('closes the members panel when the window narrows; beside it, a click closes it too', async () => {
  const { page } = alice;
  const members = page.getByRole('button', { name: 'Members', exact: true });
  const scrim = page.locator('.members-scrim');
  try {
    // The window is wide, and the page knows it: read before the media query's change arrived,
    // the button's state was the narrow one's, and the click then closed the wide column.
    await page.setViewportSize({ width: 1280, height: 800 });
    await settle(page);
    if ((await members.getAttribute('aria-pressed')) !== 'true') await members.click();
    await expect.poll(() => members.getAttribute('aria-pressed')).toBe('true');
    expect(await scrim.count()).toBe(0);
    // Wide, it was a column; narrowed, it would lie over most of the room: it closes.
    await page.setViewportSize({ width: 400, height: 800 });
    await expect.poll(() => members.getAttribute('aria-pressed')).toBe('false');
    // Wide again, it comes back as it was.
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect.poll(() => members.getAttribute('aria-pressed')).toBe('true');
    await page.setViewportSize({ width: 400, height: 800 });
    await expect.poll(() => members.getAttribute('aria-pressed')).toBe('false');
    // Opened over the room, the room behind is dimmed, and a click there closes the panel.
    await members.click();
    await scrim.waitFor();
    await page.mouse.click(20, 400);
    await expect.poll(() => members.getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('composer-input');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  expect(alice.problems).toEqual([]);
});

it('keeps the headings in order, none empty (axe heading-order, empty-heading)', async () => {
  const { page } = alice;
  const results = await new AxeBuilder({ page })
    .withRules(['heading-order', 'empty-heading'])
    .analyze();
  expect(
    results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(', ')}`),
  ).toEqual([]);
  // The outline a screen reader lists: the room is the page's h1; its parts are h2.
  const levels = await page.evaluate(
    `[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => h.tagName + ' ' + h.textContent.trim())`,
  );
  expect(levels).toContain(`H1 ${LONG_ROOM}`);
  expect(levels).toContain('H2 Messages');
  expect(alice.problems).toEqual([]);
});
